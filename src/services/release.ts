// "Committed first, then queued", in one place: after a commit moved stages to `queued` (a
// release, an approval, an answer, a replay…), opened decisions or needs the conductor, this
// adds the stages' jobs (job id = stage id, so a repeat adds nothing), the decisions' deadline
// jobs, then the advance request, in that order. Called only after the commit: the reverse order
// could run a stage Postgres never saw. If it fails or the process dies before it, the message
// or request that made the commit is redelivered or repeated, and its redispatch re-adds
// whatever is still queued (and the reconciler covers what no redelivery follows).
import type { AgentQueues, ControlQueue, DispatchedStage } from './queue.ports.js';

export interface Released {
  pipelineId: string;
  /** Stages the commit moved to (or, on a redispatch, found in) `queued`: their jobs are added. */
  stages?: readonly DispatchedStage[];
  /** Decisions the commit opened (or, on a redispatch, found open): their deadline jobs. */
  decisions?: readonly { id: string; deadlineAt: Date }[];
  /** The pipeline's own deadline (a new submission's, or found on a redispatch): its deadline job. */
  deadlineAt?: Date | null;
  /**
   * Ask the conductor to advance the pipeline: what a commit could not decide alone (skips, a
   * hold, the outcome). `redispatch`: it also re-adds the jobs of every queued stage; such
   * requests are not coalesced.
   */
  advance?: false | 'advance' | 'redispatch';
}

export type AfterCommit = (released: Released, meta?: { requestId?: string }) => Promise<void>;

/** `control` may be left out by a caller that never asks for deadlines or advances. */
export function afterCommitWith(queues: { agentQueues: Pick<AgentQueues, 'dispatch'>; control?: ControlQueue }): AfterCommit {
  const { agentQueues, control } = queues;
  const controlQueue = (): ControlQueue => {
    if (!control) throw new Error('afterCommit: deadlines and advances need the control queue');
    return control;
  };
  return async ({ pipelineId, stages = [], decisions = [], deadlineAt = null, advance = false }, meta = {}) => {
    if (stages.length > 0) await agentQueues.dispatch(pipelineId, stages, meta.requestId ? { requestId: meta.requestId } : {});
    for (const decision of decisions) await controlQueue().scheduleDeadline(decision.id, decision.deadlineAt);
    if (deadlineAt) await controlQueue().schedulePipelineDeadline(pipelineId, deadlineAt);
    if (advance) {
      await controlQueue().requestAdvance(pipelineId, {
        ...(meta.requestId ? { requestId: meta.requestId } : {}),
        ...(advance === 'redispatch' ? { redispatch: true } : {}),
      });
    }
  };
}
