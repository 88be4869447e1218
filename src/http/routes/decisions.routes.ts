// /api/v1/decisions: what waits for a human, its evidence, and the answers (approve / reject).
// Access: read → viewer and up; answers → approver, and the service checks the policy's
// approvers and separation of duties. The actor is the authenticated caller, never the body.
import { Router } from 'express';
import {
  decisionAnswerSchema,
  decisionId,
  decisionIdParams,
  decisionListQuerySchema,
  toDecisionBody,
  toDecisionSummaryBody,
} from '../contract/decisions.schema.js';
import type { DecisionService } from '../../services/decision.service.js';
import { decodeCursor, page } from '../cursor.js';
import { parseOrThrow, refuseQuery, requireJson } from '../validate.js';
import { actorOf, authorize } from '../middleware/authorize.js';

export function decisionsRouter(service: DecisionService): Router {
  const router = Router();

  router.get('/', authorize('read'), async (req, res) => {
    const query = parseOrThrow(decisionListQuerySchema, req.query, 'Invalid query.');
    const cursor = query.cursor ? decodeCursor(query.cursor, decisionId) : undefined;
    const found = page(await service.list({ ...query, limit: query.limit + 1, cursor }), query.limit);
    res.json({ items: found.items.map(toDecisionSummaryBody), nextCursor: found.nextCursor });
  });

  router.get('/:id', authorize('read'), async (req, res) => {
    const { id } = parseOrThrow(decisionIdParams, req.params, 'Invalid decision id.');
    refuseQuery(req);
    res.json(toDecisionBody(await service.get(id)));
  });

  router.post('/:id/approve', authorize('decide'), async (req, res) => {
    const { id } = parseOrThrow(decisionIdParams, req.params, 'Invalid decision id.');
    requireJson(req, 'the approval');
    const body = parseOrThrow(decisionAnswerSchema(false), req.body, 'Invalid approval.');
    res.json(toDecisionBody(await service.approve(id, { comment: body.comment }, actorOf(req))));
  });

  router.post('/:id/reject', authorize('decide'), async (req, res) => {
    const { id } = parseOrThrow(decisionIdParams, req.params, 'Invalid decision id.');
    requireJson(req, 'the rejection');
    const body = parseOrThrow(decisionAnswerSchema(true), req.body, 'Invalid rejection.');
    res.json(toDecisionBody(await service.reject(id, { comment: body.comment }, actorOf(req))));
  });

  return router;
}
