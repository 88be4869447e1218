// /api/v1/pipelines: submit (idempotent per submitter, 429 when the backlog is full, 413 over the
// stage and input quotas), read (stages paged by size), list with filters and cursor pagination,
// the timeline, cancel, priority. The submitter is the authenticated caller. A submission sent
// with `Prefer: return=minimal` is answered with the pipeline's id, status and links only.
// Access: read → viewer and up; submit → submitter (urgent: also operator); cancel → its
// submitter, or an operator; priority → operator.
import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { UnavailableError, ValidationError } from '../../domain/errors.js';
import { STAGE_PAGE_MAX } from '../../domain/response-paging.js';
import {
  pipelineListQuerySchema,
  priorityChangeSchema,
  stagesQuerySchema,
  toPipelineMinimalBody,
  toPipelineSummaryBody,
  toRunBody,
} from '../contract/pipelines.schema.js';
import { noFieldsBodySchema } from '../contract/decisions.schema.js';
import { timelineQuerySchema, toTimelineBody } from '../contract/timeline.schema.js';
import { presentPipeline, presentStagePage, type StageWaitingOf } from '../pipeline-presenter.js';
import { decodeCursor, page } from '../cursor.js';
import type { PipelineService } from '../../services/pipeline.service.js';
import { parseOrThrow, refuseQuery, requireJson, uuidParam } from '../validate.js';
import { actorOf, authorize } from '../middleware/authorize.js';
import { idempotencyKeyOf, markReplayed } from '../idempotency-key.js';
import { applyMinimalReturn, prefersMinimalReturn } from '../prefer.js';

/**
 * A submission needs the queue: while Redis is unreachable it is refused at once (503 +
 * Retry-After in about a millisecond), before anything is written to Postgres. It runs after the
 * caller's rights are checked, so a caller who may not submit learns nothing about Redis.
 */
export function refuseWhileQueueDown(queueReady: () => boolean) {
  return function queueGate(_req: Request, _res: Response, next: NextFunction) {
    if (queueReady()) return next();
    next(
      new UnavailableError(
        'QUEUE_UNAVAILABLE',
        'The queue (Redis) is unreachable: nothing was recorded. Repeat the request after Retry-After.',
      ),
    );
  };
}

/**
 * `queueReady`: false while the queue's Redis connection is down (absent: never refused).
 * `submitLimit`: the submissions rate limiter (RATE_LIMIT_SUBMIT), after the rights check so a
 * caller who may not submit spends no budget; absent: none.
 * `pageBytes`: a pipeline answer holds its stages while under this size (RESPONSE_PAGE_BYTES).
 * `stageWaiting`: why a stage waits, read per answer (a queued stage of a switched-off agent); absent: never said.
 */
export interface PipelinesRouterOptions {
  queueReady?: () => boolean;
  submitLimit?: RequestHandler;
  pageBytes: number;
  stageWaiting?: StageWaitingOf;
}

export function pipelinesRouter(
  service: PipelineService,
  { queueReady = () => true, submitLimit, pageBytes, stageWaiting }: PipelinesRouterOptions,
): Router {
  const router = Router();

  router.post('/', authorize('submit'), ...(submitLimit ? [submitLimit] : []), refuseWhileQueueDown(queueReady), async (req, res) => {
    requireJson(req, 'the pipeline');
    if (req.get('x-submitter') !== undefined) {
      throw new ValidationError('VALIDATION_FAILED', 'X-Submitter is not accepted: the submitter is the authenticated caller.', {
        details: [{ field: 'X-Submitter', message: 'remove the header; each submitter uses its own API key' }],
      });
    }
    // A full backlog throws 429 BACKLOG_FULL; the error handler adds its Retry-After.
    const { pipeline, replayed } = await service.submit(req.body, { idempotencyKey: idempotencyKeyOf(req), actor: actorOf(req) });
    const location = `${req.baseUrl}/${pipeline.id}`;
    res.setHeader('Location', location);
    markReplayed(res, replayed);
    if (prefersMinimalReturn(req)) {
      applyMinimalReturn(res);
      res.status(202).json(toPipelineMinimalBody(pipeline, location));
      return;
    }
    res.status(202).json(presentPipeline(pipeline, pageBytes, stageWaiting));
  });

  router.get('/', authorize('read'), async (req, res) => {
    const query = parseOrThrow(pipelineListQuerySchema, req.query, 'Invalid query.');
    const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
    const found = page(
      await service.list({
        status: query.status,
        name: query.name,
        submitter: query.submitter,
        labels: query.label,
        priority: query.priority,
        limit: query.limit + 1,
        cursor,
      }),
      query.limit,
    );
    res.json({ items: found.items.map(toPipelineSummaryBody), nextCursor: found.nextCursor });
  });

  router.get('/:id', authorize('read'), async (req, res) => {
    const { id } = parseOrThrow(uuidParam, req.params, 'Invalid pipeline id.');
    refuseQuery(req);
    // One stage more than a page: enough to know whether a next page exists, without reading them all.
    res.json(presentPipeline(await service.get(id, { stageLimit: STAGE_PAGE_MAX + 1 }), pageBytes, stageWaiting));
  });

  router.get('/:id/stages', authorize('read'), async (req, res) => {
    const { id } = parseOrThrow(uuidParam, req.params, 'Invalid pipeline id.');
    const query = parseOrThrow(stagesQuerySchema, req.query, 'Invalid query.');
    const from = query.cursor === undefined ? 0 : Number(query.cursor);
    const stages = await service.stages(id, { from, limit: query.limit + 1 });
    res.json(presentStagePage(stages, from, query.limit, pageBytes, stageWaiting));
  });

  router.get('/:id/runs', authorize('read'), async (req, res) => {
    const { id } = parseOrThrow(uuidParam, req.params, 'Invalid pipeline id.');
    refuseQuery(req);
    res.json({ items: (await service.runs(id)).map(toRunBody) });
  });

  router.get('/:id/timeline', authorize('read'), async (req, res) => {
    const { id } = parseOrThrow(uuidParam, req.params, 'Invalid pipeline id.');
    const query = parseOrThrow(timelineQuerySchema, req.query, 'Invalid query.');
    const timeline = toTimelineBody(await service.timeline(id));
    if (query.download === '1') res.setHeader('Content-Disposition', `attachment; filename="pipeline-${id}-timeline.json"`);
    res.json(timeline);
  });

  router.post('/:id/cancel', authorize('cancel_own', 'cancel_any'), async (req, res) => {
    const { id } = parseOrThrow(uuidParam, req.params, 'Invalid pipeline id.');
    parseOrThrow(noFieldsBodySchema, req.body ?? {}, 'Invalid cancel request.');
    res.status(202).json(presentPipeline(await service.cancel(id, actorOf(req)), pageBytes, stageWaiting));
  });

  router.post('/:id/priority', authorize('prioritize'), async (req, res) => {
    const { id } = parseOrThrow(uuidParam, req.params, 'Invalid pipeline id.');
    requireJson(req, 'the new priority');
    const { priority } = parseOrThrow(priorityChangeSchema, req.body, 'Invalid priority.');
    res.json(presentPipeline(await service.changePriority(id, priority, actorOf(req)), pageBytes, stageWaiting));
  });

  return router;
}
