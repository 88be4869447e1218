// The conductor: advances one pipeline per control message. Idempotent: it reads the state
// from Postgres under the pipeline's row lock, so a message handled twice changes nothing the
// second time; the agent job ids are the stage ids, so a repeated dispatch adds nothing.
import { planPipeline } from '../domain/planner.js';
import type { AgentLogger } from '../agents/define-agent.js';
import type { AdvanceResult, AgentQueues, PipelineRepository } from './ports.js';

export interface ConductorDeps {
  repo: PipelineRepository;
  agentQueues: AgentQueues;
  logger: AgentLogger;
  /** Called once when a pipeline reaches a terminal state (metrics, events). */
  onFinished?: (result: AdvanceResult) => void;
}

export interface Conductor {
  advance(pipelineId: string, meta?: { requestId?: string }): Promise<AdvanceResult | null>;
}

export function createConductor({ repo, agentQueues, logger, onFinished }: ConductorDeps): Conductor {
  return {
    async advance(pipelineId, meta) {
      const result = await repo.advance(pipelineId, (stages, cancelRequested) => planPipeline(stages, { cancelRequested }));
      if (!result) {
        logger.warn('control message for an unknown pipeline ignored', { pipelineId });
        return null;
      }
      // Committed first, then queued: a crash in between leaves stages `queued` without a job,
      // which the reconciler re-adds; the reverse order could run a stage Postgres never saw.
      if (result.dispatched.length > 0) await agentQueues.dispatch(pipelineId, result.dispatched, meta);
      if (result.finished) {
        logger.info('pipeline finished', { pipelineId, status: result.status });
        onFinished?.(result);
      }
      return result;
    },
  };
}
