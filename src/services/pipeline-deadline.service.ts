// A pipeline's deadline, applied by its delayed control job (`pipeline-deadline`): an unfinished
// pipeline is cancelled with the reason DEADLINE_EXCEEDED, exactly as a person's cancel (waiting
// stages cancelled at once, running ones aborted through the cancel bus, the conductor records the
// outcome). Idempotent: a finished pipeline, or one whose cancel was requested already, is left as
// it is; a job that fires before the deadline (two hosts' clocks) re-adds itself a second later.
import { DEADLINE_EXCEEDED } from '../domain/pipeline-scheduling.js';
import { TERMINAL_PIPELINE_STATUSES } from '../domain/status.js';
import type { Logger } from '../domain/logger.js';
import type { PipelineRepository } from './pipeline.ports.js';
import type { AgentQueues, CancelBus, ControlQueue } from './queue.ports.js';
import { afterCommitWith } from './release.js';

export interface PipelineDeadlineDeps {
  repo: Pick<PipelineRepository, 'getPipeline' | 'requestCancel'>;
  control: ControlQueue;
  agentQueues: Pick<AgentQueues, 'dispatch'>;
  cancelBus: CancelBus;
  logger: Logger;
  now?: () => Date;
}

export type DeadlineOutcome = 'cancelled' | 'not_yet' | 'finished' | 'already_cancelled' | 'no_deadline' | 'missing';

export function createPipelineDeadlineService({
  repo,
  control,
  agentQueues,
  cancelBus,
  logger,
  now = () => new Date(),
}: PipelineDeadlineDeps) {
  const afterCommit = afterCommitWith({ agentQueues, control });
  return {
    /** Applies the pipeline's deadline if it is due; see the file header. */
    async applyDeadline(pipelineId: string): Promise<DeadlineOutcome> {
      const pipeline = await repo.getPipeline(pipelineId, { stageLimit: 0 });
      if (!pipeline) return 'missing';
      if (TERMINAL_PIPELINE_STATUSES.has(pipeline.status)) return 'finished';
      if (!pipeline.deadlineAt) return 'no_deadline';
      if (pipeline.cancelRequestedAt) return 'already_cancelled';
      if (pipeline.deadlineAt.getTime() > now().getTime()) {
        await control.schedulePipelineDeadline(pipelineId, new Date(pipeline.deadlineAt.getTime() + 1000));
        return 'not_yet';
      }
      const result = await repo.requestCancel(pipelineId, { reason: DEADLINE_EXCEEDED });
      if (!result || TERMINAL_PIPELINE_STATUSES.has(result.status)) return 'finished';
      if (result.runningJobIds.length > 0) await cancelBus.publish(result.runningJobIds);
      await afterCommit({ pipelineId, advance: 'advance' });
      logger.info('pipeline cancelled at its deadline', {
        pipelineId,
        deadlineAt: pipeline.deadlineAt.toISOString(),
        reason: DEADLINE_EXCEEDED,
      });
      return 'cancelled';
    },
  };
}

export type PipelineDeadlineService = ReturnType<typeof createPipelineDeadlineService>;
