// /api/v1/dlq: the dead-letter queue. Failed stage jobs across the agent queues with their error
// fingerprints and groups; replay one, replay many by fingerprint or agent; remove one.
// Access: operator (and admin) on every route; the replaying identity is audited.
import { Router, type Request } from 'express';
import {
  dlqRequestSchemas,
  jobIdParams,
  jobIdSchema,
  toBulkReplayReportBody,
  toDlqPageBody,
  toReplayReceiptBody,
} from '../contract/dlq.schema.js';
import { ValidationError } from '../../domain/errors.js';
import type { DlqService } from '../../services/dlq.service.js';
import { decodeCursor } from '../cursor.js';
import { parseOrThrow, requireJson } from '../validate.js';
import { actorOf, authorize } from '../middleware/authorize.js';

function jobIdOf(req: Request): string {
  return parseOrThrow(jobIdParams, req.params, 'Invalid job id.').jobId;
}

export function dlqRouter(service: DlqService, agentTypes: readonly string[]): Router {
  const router = Router();
  const { listQuery: listQuerySchema, replayBody: replayBodySchema, bulkBody: bulkBodySchema } = dlqRequestSchemas(agentTypes);

  router.get('/', authorize('operate'), async (req, res) => {
    const { cursor, ...query } = parseOrThrow(listQuerySchema, req.query, 'Invalid query.');
    const after = cursor ? decodeCursor(cursor, jobIdSchema) : undefined;
    const page = await service.list({ ...query, after: after && { failedAt: after.createdAt, jobId: after.id } });
    res.json(toDlqPageBody(page));
  });

  // Bulk replay: `retry` is not a job id, so this never shadows /:jobId/retry.
  router.post('/retry', authorize('operate'), async (req, res) => {
    requireJson(req, 'the replay filter');
    const body = parseOrThrow(bulkBodySchema, req.body, 'Invalid replay filter.');
    if (body.fingerprint !== undefined && body.agent !== undefined) {
      throw new ValidationError('VALIDATION_FAILED', 'Send either fingerprint or agent, not both.', {
        details: [
          { field: 'fingerprint', message: 'not with agent' },
          { field: 'agent', message: 'not with fingerprint' },
        ],
      });
    }
    if (body.fingerprint === undefined && body.agent === undefined) {
      throw new ValidationError('VALIDATION_FAILED', 'Send the fingerprint or the agent whose failed jobs to replay.', {
        details: [
          { field: 'fingerprint', message: 'required unless agent is set' },
          { field: 'agent', message: 'required unless fingerprint is set' },
        ],
      });
    }
    res
      .status(202)
      .json(
        toBulkReplayReportBody(
          await service.replayMatching({ fingerprint: body.fingerprint, agent: body.agent, limit: body.limit }, actorOf(req)),
        ),
      );
  });

  router.post('/:jobId/retry', authorize('operate'), async (req, res) => {
    const jobId = jobIdOf(req);
    // The body is optional: without one (or without a JSON Content-Type) nobody is named.
    parseOrThrow(replayBodySchema, req.body ?? {}, 'Invalid replay request.');
    res.status(202).json(toReplayReceiptBody(await service.replay(jobId, actorOf(req))));
  });

  router.delete('/:jobId', authorize('operate'), async (req, res) => {
    await service.remove(jobIdOf(req), actorOf(req));
    res.status(204).end();
  });

  return router;
}
