// /api/v1/decisions: what waits for a human, its evidence, and the answers (approve / reject).
import { Router } from 'express';
import { z } from 'zod';
import { DECISION_CATEGORIES, DECISION_ID_PATTERN } from '../../domain/decision-policy.js';
import type { DecisionService } from '../../services/decision.service.js';
import { decodeCursor, page } from '../cursor.js';
import { parseOrThrow, requireJson } from '../validate.js';

const decisionId = z.string().regex(DECISION_ID_PATTERN, 'a decision id such as DEC-2026-00042');

const listQuerySchema = z
  .object({
    status: z.enum(['pending', 'escalated', 'approved', 'rejected', 'expired', 'cancelled']).optional(),
    category: z.enum(DECISION_CATEGORIES).optional(),
    pipelineId: z.uuid().optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().max(200).optional(),
  })
  .strict();

/** Who answers: until API keys land (security issue), the caller names itself. */
export const actorSchema = z.string().trim().min(1).max(100).regex(/^[\w.@+-]+$/u, 'letters, digits and . _ @ + - only');

const answerSchema = (commentRequired: boolean) =>
  z
    .object({
      actor: actorSchema,
      comment: commentRequired ? z.string().trim().min(1, 'say why').max(4000) : z.string().trim().max(4000).optional(),
    })
    .strict();

export function decisionsRouter(service: DecisionService): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    const query = parseOrThrow(listQuerySchema, req.query, 'Invalid query.');
    const cursor = query.cursor ? decodeCursor(query.cursor, decisionId) : undefined;
    res.json(page(await service.list({ ...query, limit: query.limit + 1, cursor }), query.limit));
  });

  router.get('/:id', async (req, res) => {
    const { id } = parseOrThrow(z.object({ id: decisionId }), req.params, 'Invalid decision id.');
    res.json(await service.get(id));
  });

  router.post('/:id/approve', async (req, res) => {
    const { id } = parseOrThrow(z.object({ id: decisionId }), req.params, 'Invalid decision id.');
    requireJson(req, 'the approval');
    const body = parseOrThrow(answerSchema(false), req.body, 'Invalid approval.');
    res.json(await service.approve(id, { ...body, requestId: req.requestId }));
  });

  router.post('/:id/reject', async (req, res) => {
    const { id } = parseOrThrow(z.object({ id: decisionId }), req.params, 'Invalid decision id.');
    requireJson(req, 'the rejection');
    const body = parseOrThrow(answerSchema(true), req.body, 'Invalid rejection.');
    res.json(await service.reject(id, { ...body, requestId: req.requestId }));
  });

  return router;
}
