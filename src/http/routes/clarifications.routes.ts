// /api/v1/clarifications: questions about unclear requirements, and their answers.
// Access: read → viewer and up; answers → approver (the authenticated caller is who answered).
import { Router } from 'express';
import type { ClarificationService } from '../../services/clarification.service.js';
import { decodeCursor, page } from '../cursor.js';
import { parseOrThrow, refuseQuery, requireJson, uuidParam } from '../validate.js';
import { clarificationAnswerSchema, clarificationListQuerySchema, toClarificationBody } from '../contract/clarifications.schema.js';
import { actorOf, authorize } from '../middleware/authorize.js';

export function clarificationsRouter(service: ClarificationService): Router {
  const router = Router();

  router.get('/', authorize('read'), async (req, res) => {
    const query = parseOrThrow(clarificationListQuerySchema, req.query, 'Invalid query.');
    const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
    const found = page(await service.list({ ...query, limit: query.limit + 1, cursor }), query.limit);
    res.json({ items: found.items.map(toClarificationBody), nextCursor: found.nextCursor });
  });

  router.get('/:id', authorize('read'), async (req, res) => {
    const { id } = parseOrThrow(uuidParam, req.params, 'Invalid clarification id.');
    refuseQuery(req);
    res.json(toClarificationBody(await service.get(id)));
  });

  router.post('/:id/answer', authorize('decide'), async (req, res) => {
    const { id } = parseOrThrow(uuidParam, req.params, 'Invalid clarification id.');
    requireJson(req, 'the answers');
    const body = parseOrThrow(clarificationAnswerSchema, req.body, 'Invalid answer.');
    res.json(toClarificationBody(await service.answer(id, body.answers, actorOf(req))));
  });

  return router;
}
