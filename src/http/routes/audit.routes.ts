// /api/v1/audit: every mutation with its identity, roles, request id and source address, newest
// first, filtered, with a cursor (admin only). /api/v1/whoami: the caller's own identity.
import { Router } from 'express';
import { ValidationError } from '../../domain/errors.js';
import type { AuditLog } from '../../services/identity.ports.js';
import { auditListQuerySchema, toAuditEventBody, toWhoamiBody } from '../contract/audit.schema.js';
import { actorOf, authorize } from '../middleware/authorize.js';
import { parseOrThrow, refuseQuery } from '../validate.js';

export function auditRouter(audit: Pick<AuditLog, 'list'>): Router {
  const router = Router();
  router.get('/audit', authorize('read_audit'), async (req, res) => {
    const q = parseOrThrow(auditListQuerySchema, req.query, 'Invalid query.');
    if (q.cursor !== undefined && BigInt(q.cursor) > 9223372036854775807n) {
      throw new ValidationError('VALIDATION_FAILED', 'Invalid query.', {
        details: [{ field: 'cursor', message: 'not a cursor returned by this API' }],
      });
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
    res.json({ items: page.map(toAuditEventBody), nextCursor: items.length > q.limit ? page[page.length - 1]!.id : null });
  });

  router.get('/whoami', authorize('read'), (req, res) => {
    refuseQuery(req);
    const { identity } = actorOf(req);
    res.json(toWhoamiBody(identity));
  });
  return router;
}
