// /api/v1/clarifications: questions about unclear requirements, and their answers.
// Access: read → viewer and up; answers → approver (the authenticated caller is who answered).
import { Router } from 'express';
import { z } from 'zod';
import type { ClarificationService } from '../../services/clarification.service.js';
import { decodeCursor, page } from '../cursor.js';
import { parseOrThrow, requireJson, uuidParam } from '../validate.js';
import { noActorField } from './decisions.routes.js';
import { actorOf, authorize } from '../middleware/authorize.js';

const listQuerySchema = z
  .object({
    status: z.enum(['open', 'answered', 'cancelled']).optional(),
    pipelineId: z.uuid().optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().max(200).optional(),
  })
  .strict();

// The answers are checked against the questions asked (every one answered, none unknown) by
// the service, which knows them.
const answerSchema = z.object({ actor: noActorField, answers: z.record(z.string().max(200), z.unknown()) }).strict();

export function clarificationsRouter(service: ClarificationService): Router {
  const router = Router();

  router.get('/', authorize('read'), async (req, res) => {
    const query = parseOrThrow(listQuerySchema, req.query, 'Invalid query.');
    const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
    res.json(page(await service.list({ ...query, limit: query.limit + 1, cursor }), query.limit));
  });

  router.get('/:id', authorize('read'), async (req, res) => {
    const { id } = parseOrThrow(uuidParam, req.params, 'Invalid clarification id.');
    res.json(await service.get(id));
  });

  router.post('/:id/answer', authorize('decide'), async (req, res) => {
    const { id } = parseOrThrow(uuidParam, req.params, 'Invalid clarification id.');
    requireJson(req, 'the answers');
    const body = parseOrThrow(answerSchema, req.body, 'Invalid answer.');
    res.json(await service.answer(id, body.answers, actorOf(req)));
  });

  return router;
}
