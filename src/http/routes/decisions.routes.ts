// /api/v1/decisions: what waits for a human, its evidence, and the answers (approve / reject).
// Access: read → viewer and up; answers → approver, and the service checks the policy's
// approvers and separation of duties. The actor is the authenticated caller, never the body.
import { Router } from 'express';
import { z } from 'zod';
import { DECISION_CATEGORIES, DECISION_ID_PATTERN } from '../../domain/decision-policy.js';
import type { DecisionService } from '../../services/decision.service.js';
import { decodeCursor, page } from '../cursor.js';
import { parseOrThrow, requireJson } from '../validate.js';
import { actorOf, authorize } from '../middleware/authorize.js';

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

/** A body that names its own actor is refused: who answers is whoever authenticated. */
export const noActorField = z
  .unknown()
  .refine((v) => v === undefined, 'not accepted: the actor is the authenticated caller')
  .optional();

const answerSchema = (commentRequired: boolean) =>
  z
    .object({
      actor: noActorField,
      comment: commentRequired ? z.string().trim().min(1, 'say why').max(4000) : z.string().trim().max(4000).optional(),
    })
    .strict();

export function decisionsRouter(service: DecisionService): Router {
  const router = Router();

  router.get('/', authorize('read'), async (req, res) => {
    const query = parseOrThrow(listQuerySchema, req.query, 'Invalid query.');
    const cursor = query.cursor ? decodeCursor(query.cursor, decisionId) : undefined;
    res.json(page(await service.list({ ...query, limit: query.limit + 1, cursor }), query.limit));
  });

  router.get('/:id', authorize('read'), async (req, res) => {
    const { id } = parseOrThrow(z.object({ id: decisionId }), req.params, 'Invalid decision id.');
    res.json(await service.get(id));
  });

  router.post('/:id/approve', authorize('decide'), async (req, res) => {
    const { id } = parseOrThrow(z.object({ id: decisionId }), req.params, 'Invalid decision id.');
    requireJson(req, 'the approval');
    const body = parseOrThrow(answerSchema(false), req.body, 'Invalid approval.');
    res.json(await service.approve(id, { comment: body.comment }, actorOf(req)));
  });

  router.post('/:id/reject', authorize('decide'), async (req, res) => {
    const { id } = parseOrThrow(z.object({ id: decisionId }), req.params, 'Invalid decision id.');
    requireJson(req, 'the rejection');
    const body = parseOrThrow(answerSchema(true), req.body, 'Invalid rejection.');
    res.json(await service.reject(id, { comment: body.comment }, actorOf(req)));
  });

  return router;
}
