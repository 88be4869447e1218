// Pause and resume (docs/pipeline-operations.md, "Pause and resume"):
// POST /api/v1/pipelines/:id/pause|resume — its submitter (pause_own) or an operator (pause_any);
// a resume answers the pipeline with `resumedStages`, the stages it queued again;
// POST /api/v1/agents/:type/pause|resume — operators (operate). Each body is optional JSON
// (`{ "reason": "…" }` for a pause). Both are idempotent: a repeat answers the state as it is.
import { Router } from 'express';
import type { AgentPauseService } from '../../services/agent-pause.service.js';
import type { PipelinePauseService } from '../../services/pipeline-pause.service.js';
import { agentTypeParams } from '../contract/canary.schema.js';
import { jsonByteLength } from '../../domain/json.js';
import { pauseBodySchema, resumeBodySchema, toAgentPauseBody, type PipelineResumedBody } from '../contract/pause.schema.js';
import { presentPipeline, type StageWaitingOf } from '../pipeline-presenter.js';
import { actorOf, authorize } from '../middleware/authorize.js';
import { parseOrThrow, uuidParam } from '../validate.js';

export interface PipelinePauseRouterOptions {
  pageBytes: number;
  stageWaiting?: StageWaitingOf;
}

/** Mounted at /api/v1/pipelines beside pipelinesRouter. */
export function pipelinePauseRouter(service: PipelinePauseService, { pageBytes, stageWaiting }: PipelinePauseRouterOptions): Router {
  const router = Router();
  router.post('/:id/pause', authorize('pause_own', 'pause_any'), async (req, res) => {
    const { id } = parseOrThrow(uuidParam, req.params, 'Invalid pipeline id.');
    // Without a JSON body (or Content-Type) there is no reason.
    const body = parseOrThrow(pauseBodySchema, req.body ?? {}, 'Invalid pause request.');
    const pipeline = await service.pause(id, { reason: body.reason ?? null }, actorOf(req));
    res.status(202).json(presentPipeline(pipeline, pageBytes, stageWaiting));
  });
  router.post('/:id/resume', authorize('pause_own', 'pause_any'), async (req, res) => {
    const { id } = parseOrThrow(uuidParam, req.params, 'Invalid pipeline id.');
    parseOrThrow(resumeBodySchema, req.body ?? {}, 'Invalid resume request.');
    const { pipeline, resumedStages } = await service.resume(id, actorOf(req));
    // The list counts in the answer's page budget, so the stages shown make room for it.
    const budget = pageBytes - jsonByteLength({ resumedStages });
    const body: PipelineResumedBody = { ...presentPipeline(pipeline, budget, stageWaiting), resumedStages };
    res.status(202).json(body);
  });
  return router;
}

/** Mounted at /api/v1/agents beside agentsRouter. */
export function agentPauseRouter(service: AgentPauseService): Router {
  const router = Router();
  router.post('/:type/pause', authorize('operate'), async (req, res) => {
    const { type } = parseOrThrow(agentTypeParams, req.params, 'Invalid agent type.');
    const body = parseOrThrow(pauseBodySchema, req.body ?? {}, 'Invalid pause request.');
    res.json(toAgentPauseBody(await service.pause(type, { reason: body.reason ?? null }, actorOf(req))));
  });
  router.post('/:type/resume', authorize('operate'), async (req, res) => {
    const { type } = parseOrThrow(agentTypeParams, req.params, 'Invalid agent type.');
    parseOrThrow(resumeBodySchema, req.body ?? {}, 'Invalid resume request.');
    res.json(toAgentPauseBody(await service.resume(type, actorOf(req))));
  });
  return router;
}
