// GET /api/v1/pipelines/:id/stages/:key/logs: a stage's log as text/plain, streamed (chunked) as
// it is read from Postgres a page at a time; every attempt with a header line each, or one with
// `?attempt=N`. Access: read → viewer and up (the rule of GET /pipelines/:id).
import { once } from 'node:events';
import { Router } from 'express';
import type { StageLogService } from '../../services/stage-log.service.js';
import { stageLogParams, stageLogQuerySchema } from '../contract/stage-logs.schema.js';
import { authorize } from '../middleware/authorize.js';
import { parseOrThrow } from '../validate.js';

export function stageLogsRouter(logs: StageLogService): Router {
  const router = Router();

  router.get('/pipelines/:id/stages/:key/logs', authorize('read'), async (req, res) => {
    const { id, key } = parseOrThrow(stageLogParams, req.params, 'Invalid pipeline id or stage key.');
    const { attempt } = parseOrThrow(stageLogQuerySchema, req.query, 'Invalid query.');
    // 404s are thrown here, before the first byte, so they still get their JSON body.
    const pieces = await logs.read(id, key, { attempt });
    res.status(200).set({ 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.flushHeaders();
    try {
      for await (const piece of pieces) {
        if (res.destroyed) return; // the client went away: stop reading
        if (!res.write(piece)) await once(res, 'drain');
      }
      res.end();
    } catch (error) {
      // Too late for an error body: cut the stream so the client sees it incomplete.
      res.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  });

  return router;
}
