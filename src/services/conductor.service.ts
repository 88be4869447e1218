// The conductor: advances one pipeline per control message. Idempotent: it plans from the
// state in Postgres and every write is guarded by the state it expects, so a message handled
// twice changes nothing the second time; agent job ids are stage ids, so a repeated dispatch
// adds nothing. Ready stages pass the decision policy first: those it holds wait, with their
// decision opened in the same statement, without a job. When a pipeline finishes, the queued
// pipelines that admission control held back start, oldest first, within the running limits.
import type { AdmissionLimits } from '../domain/admission.js';
import type { DecisionPolicy } from '../domain/decision-policy.js';
import { planPipeline } from '../domain/planner.js';
import { TERMINAL_PIPELINE_STATUSES } from '../domain/status.js';
import { admitStages } from '../domain/stage-admission.js';
import type { Logger } from '../domain/logger.js';
import type { AdvanceResult } from './conductor.ports.js';
import type { PipelineRepository } from './pipeline.ports.js';
import type { AgentQueues, ControlQueue } from './queue.ports.js';
import { afterCommitWith } from './release.js';

export interface ConductorDeps {
  repo: Pick<PipelineRepository, 'readState' | 'applyPlan' | 'startQueued'>;
  agentQueues: AgentQueues;
  control: ControlQueue;
  policy: DecisionPolicy;
  logger: Logger;
  /** Called once when a pipeline reaches a terminal state (metrics, events). */
  onFinished?: (result: AdvanceResult) => void;
  /**
   * Running limits (MAX_RUNNING_PIPELINES, MAX_RUNNING_PIPELINES_PER_SUBMITTER; 0 = none).
   * Without it the conductor never starts queued pipelines.
   */
  admission?: AdmissionLimits;
  /** The `platform.auto-approval` switch, read at each advance (absent: on). Off: every ready stage waits for a person. */
  autoApproval?: () => boolean;
}

export interface Conductor {
  /** `redelivered`: this control message was retried or recovered from a stall. */
  advance(pipelineId: string, meta?: { requestId?: string; redelivered?: boolean }): Promise<AdvanceResult | null>;
}

export function createConductor({
  repo,
  agentQueues,
  control,
  policy,
  logger,
  onFinished,
  admission,
  autoApproval = () => true,
}: ConductorDeps): Conductor {
  const afterCommit = afterCommitWith({ agentQueues, control });
  /** Starts what a freed slot allows; each started pipeline's roots are planned by its own advance. */
  async function startQueued(requestId: string | undefined): Promise<void> {
    if (!admission) return;
    const started = await repo.startQueued(admission);
    if (started.length === 0) return;
    logger.info('queued pipelines started', { pipelineIds: started });
    for (const id of started) await afterCommit({ pipelineId: id, advance: 'advance' }, { requestId });
  }

  /** Read, plan, apply: the repository reads and writes, the domain decides in between. */
  async function step(pipelineId: string, redelivered: boolean): Promise<AdvanceResult | null> {
    const state = await repo.readState(pipelineId);
    if (!state) return null;
    // Admission control keeps a queued pipeline's stages from starting (an answered
    // clarification or a replayed POST asks for an advance too); only a cancel closes it.
    if (TERMINAL_PIPELINE_STATUSES.has(state.status) || (state.status === 'queued' && !state.cancelRequested)) {
      return { pipelineId, status: state.status, dispatched: [], skipped: [], cancelled: [], finished: false, decisions: [] };
    }
    const plan = admitStages(planPipeline(state.stages, { cancelRequested: state.cancelRequested }), state.stages, policy, {
      autoApproval: autoApproval(),
    });
    return repo.applyPlan(state, plan, { redispatchQueued: redelivered });
  }

  return {
    async advance(pipelineId, meta) {
      let result = await step(pipelineId, meta?.redelivered ?? false);
      if (!result) {
        logger.warn('control message for an unknown pipeline ignored', { pipelineId });
        return null;
      }
      // Skips and cancels end stages, as a finishing stage does, and like it the conductor looks
      // again after its commit: its plan came from a read that may predate a stage finishing
      // meanwhile, whose own check (StageRunRepository.settled) ran before this commit and saw
      // these stages still pending. Of the two, the one committing last sees both; without this
      // second look the pipeline could stay running with every stage ended.
      if (!result.finished && result.skipped.length + result.cancelled.length > 0) {
        const again = await step(pipelineId, false);
        if (again) result = mergeResults(result, again);
      }
      // If this fails or the process dies before it, BullMQ redelivers this message, and the
      // redelivery re-adds every queued stage's job and every open decision's deadline.
      await afterCommit({ pipelineId, stages: result.dispatched, decisions: result.decisions }, { requestId: meta?.requestId });
      if (result.finished) {
        logger.info('pipeline finished', { pipelineId, status: result.status });
        onFinished?.(result);
      }
      // A slot freed: start the next queued pipelines. A redelivered message for a finished
      // pipeline does it again, in case the first delivery died between the finish and this.
      if (result.finished || (meta?.redelivered && TERMINAL_PIPELINE_STATUSES.has(result.status))) await startQueued(meta?.requestId);
      return result;
    },
  };
}

/** Two advances of one pipeline as one: what either did, and the second's status. */
function mergeResults(first: AdvanceResult, second: AdvanceResult): AdvanceResult {
  return {
    pipelineId: first.pipelineId,
    status: second.status,
    dispatched: [...first.dispatched, ...second.dispatched],
    skipped: [...first.skipped, ...second.skipped],
    cancelled: [...first.cancelled, ...second.cancelled],
    finished: first.finished || second.finished,
    decisions: [...first.decisions, ...second.decisions],
  };
}
