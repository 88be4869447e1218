// POST /api/v1/pipelines/:id/rerun: re-run a finished pipeline from a stage (services/rerun.service.ts).
// Access: the old pipeline's submitter (`rerun_own`) or an operator (`rerun_any`); the service
// checks ownership. Like a submission it is refused while Redis is down (503, nothing written),
// counts against the submissions rate limit, and takes an Idempotency-Key.
import { Router, type RequestHandler } from 'express';
import type { RerunService } from '../../services/rerun.service.js';
import { presentPipeline, type StageWaitingOf } from '../pipeline-presenter.js';
import { parseOrThrow, uuidParam } from '../validate.js';
import { actorOf, authorize } from '../middleware/authorize.js';
import { refuseWhileQueueDown } from './pipelines.routes.js';
import { idempotencyKeyOf, markReplayed } from '../idempotency-key.js';

export interface RerunRouterOptions {
  queueReady?: () => boolean;
  submitLimit?: RequestHandler;
  pageBytes: number;
  stageWaiting?: StageWaitingOf;
}

export function rerunRouter(
  service: RerunService,
  { queueReady = () => true, submitLimit, pageBytes, stageWaiting }: RerunRouterOptions,
): Router {
  const router = Router();

  router.post(
    '/:id/rerun',
    authorize('rerun_own', 'rerun_any'),
    ...(submitLimit ? [submitLimit] : []),
    refuseWhileQueueDown(queueReady),
    async (req, res) => {
      const { id } = parseOrThrow(uuidParam, req.params, 'Invalid pipeline id.');
      // The body is optional: none (or {}) re-runs from the default stages.
      const { pipeline, replayed } = await service.rerun(id, req.body ?? {}, {
        actor: actorOf(req),
        idempotencyKey: idempotencyKeyOf(req),
      });
      res.setHeader('Location', `${req.baseUrl}/${pipeline.id}`);
      markReplayed(res, replayed);
      res.status(202).json(presentPipeline(pipeline, pageBytes, stageWaiting));
    },
  );

  return router;
}
