// /api/v1/dlq: the dead-letter queue. Failed stage jobs across the agent queues with their error
// fingerprints and groups; replay one, replay many by fingerprint or agent; remove one.
// Access: operator (and admin) on every route; the replaying identity is audited.
import { Router, type Request } from 'express';
import { z } from 'zod';
import { FINGERPRINT_PATTERN } from '../../domain/error-fingerprint.js';
import { ValidationError } from '../../domain/errors.js';
import type { DlqService } from '../../services/dlq.service.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { parseOrThrow, requireJson } from '../validate.js';
import { noActorField } from './decisions.routes.js';
import { actorOf, authorize } from '../middleware/authorize.js';

/** At most this many jobs per bulk replay request. */
export const BULK_REPLAY_MAX = 1000;

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
/** A stage job's id: the stage id, or `<stage id>-<clarification id>` for a re-run after answers. */
const jobIdSchema = z.string().regex(new RegExp(`^${UUID}(?:-${UUID})?$`, 'i'), 'a job id: a stage id, or <stage id>-<clarification id>');
const fingerprintSchema = z.string().regex(FINGERPRINT_PATTERN, '16 lowercase hex characters, as GET /dlq reports them');

function agentSchema(agentTypes: readonly string[]) {
  return z.string().refine((type) => agentTypes.includes(type), `unknown agent type; known: ${[...agentTypes].sort().join(', ')}`);
}

function jobIdOf(req: Request): string {
  return parseOrThrow(z.object({ jobId: jobIdSchema }), req.params, 'Invalid job id.').jobId;
}

export function dlqRouter(service: DlqService, agentTypes: readonly string[]): Router {
  const router = Router();
  const agent = agentSchema(agentTypes);
  const listQuerySchema = z
    .object({
      agent: agent.optional(),
      fingerprint: fingerprintSchema.optional(),
      pipelineId: z.uuid('must be a UUID').optional(),
      limit: z.coerce.number().int().min(1).max(100).default(20),
      cursor: z.string().max(300).optional(),
    })
    .strict();
  const replayBodySchema = z.object({ actor: noActorField }).strict();
  const bulkBodySchema = z
    .object({
      fingerprint: fingerprintSchema.optional(),
      agent: agent.optional(),
      limit: z.number().int().min(1).max(BULK_REPLAY_MAX).optional(),
      actor: noActorField,
    })
    .strict();

  router.get('/', authorize('operate'), async (req, res) => {
    const { cursor, ...query } = parseOrThrow(listQuerySchema, req.query, 'Invalid query.');
    const after = cursor ? decodeCursor(cursor, jobIdSchema) : undefined;
    const page = await service.list({ ...query, after: after && { failedAt: after.createdAt, jobId: after.id } });
    const last = page.items[page.items.length - 1];
    res.json({
      items: page.items,
      nextCursor: page.hasMore && last ? encodeCursor({ createdAt: last.failedAt, id: last.jobId }) : null,
      total: page.total,
      groups: page.groups,
      scan: page.scan,
    });
  });

  // Bulk replay: `retry` is not a job id, so this never shadows /:jobId/retry.
  router.post('/retry', authorize('operate'), async (req, res) => {
    requireJson(req, 'the replay filter');
    const body = parseOrThrow(bulkBodySchema, req.body, 'Invalid replay filter.');
    if (body.fingerprint !== undefined && body.agent !== undefined) {
      throw new ValidationError('Send either fingerprint or agent, not both.', [
        { field: 'fingerprint', message: 'not with agent' },
        { field: 'agent', message: 'not with fingerprint' },
      ]);
    }
    if (body.fingerprint === undefined && body.agent === undefined) {
      throw new ValidationError('Send the fingerprint or the agent whose failed jobs to replay.', [
        { field: 'fingerprint', message: 'required unless agent is set' },
        { field: 'agent', message: 'required unless fingerprint is set' },
      ]);
    }
    res
      .status(202)
      .json(await service.replayMatching({ fingerprint: body.fingerprint, agent: body.agent, limit: body.limit }, actorOf(req)));
  });

  router.post('/:jobId/retry', authorize('operate'), async (req, res) => {
    const jobId = jobIdOf(req);
    // The body is optional: without one (or without a JSON Content-Type) nobody is named.
    parseOrThrow(replayBodySchema, req.body ?? {}, 'Invalid replay request.');
    res.status(202).json(await service.replay(jobId, actorOf(req)));
  });

  router.delete('/:jobId', authorize('operate'), async (req, res) => {
    await service.remove(jobIdOf(req), actorOf(req));
    res.status(204).end();
  });

  return router;
}
