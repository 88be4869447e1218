// /api/v1/audit: every mutation with its identity, roles, request id and source address, newest
// first, filtered, with a cursor (admin only). /api/v1/whoami: the caller's own identity.
import { Router } from 'express';
import { z } from 'zod';
import { ValidationError } from '../../domain/errors.js';
import { AUDIT_ACTIONS, type AuditLog } from '../../services/identity.ports.js';
import { actorOf, authorize } from '../middleware/authorize.js';
import { parseOrThrow } from '../validate.js';

const CURSOR_PATTERN = /^\d{1,19}$/;

const listQuerySchema = z
  .object({
    action: z.enum(AUDIT_ACTIONS).optional(),
    identity: z.string().min(1).max(200).optional(),
    targetType: z.enum(['pipeline', 'decision', 'clarification', 'dlq_job', 'api_key', 'queue']).optional(),
    targetId: z.string().min(1).max(200).optional(),
    pipelineId: z.uuid('must be a UUID').optional(),
    since: z.iso.datetime({ offset: true, error: 'an ISO 8601 date-time' }).optional(),
    until: z.iso.datetime({ offset: true, error: 'an ISO 8601 date-time' }).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.string().regex(CURSOR_PATTERN, 'not a cursor returned by this API').optional(),
  })
  .strict();

export function auditRouter(audit: Pick<AuditLog, 'list'>): Router {
  const router = Router();
  router.get('/audit', authorize('read_audit'), async (req, res) => {
    const q = parseOrThrow(listQuerySchema, req.query, 'Invalid query.');
    if (q.cursor !== undefined && BigInt(q.cursor) > 9223372036854775807n) {
      throw new ValidationError('Invalid query.', [{ field: 'cursor', message: 'not a cursor returned by this API' }]);
    }
    const items = await audit.list({
      action: q.action,
      identityId: q.identity,
      targetType: q.targetType,
      targetId: q.targetId,
      pipelineId: q.pipelineId,
      since: q.since ? new Date(q.since) : undefined,
      until: q.until ? new Date(q.until) : undefined,
      beforeId: q.cursor,
      limit: q.limit + 1,
    });
    const page = items.slice(0, q.limit);
    res.json({ items: page, nextCursor: items.length > q.limit ? page[page.length - 1]!.id : null });
  });

  router.get('/whoami', authorize('read'), (req, res) => {
    const { identity } = actorOf(req);
    res.json({ id: identity.id, name: identity.name, kind: identity.kind, via: identity.via, roles: identity.roles });
  });
  return router;
}
