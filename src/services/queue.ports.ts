// The ports of the queues the use cases produce to: the agent queues (one job per dispatched
// stage), the control queue (advance requests and decision deadlines) and the cancel broadcast.
// infra/queue implements them with BullMQ and Redis.
import type { RetryPolicy } from '../domain/pipeline-definition.js';
import type { PipelinePriority } from '../domain/pipeline-priority.js';

/** A stage the conductor decided to queue: what the agent job needs. */
export interface DispatchedStage {
  id: string;
  key: string;
  agent: string;
  retry: RetryPolicy;
  /** The BullMQ job id: the stage id, except for a re-run after a clarification. */
  jobId?: string;
  /** The contract version its input was written under, copied into the job header (absent: the claim reads it). */
  contractVersion?: number;
  /**
   * Its pipeline's priority, read by the statement that queued it: the job's BullMQ priority
   * (jobPriority, domain/pipeline-priority.ts). Required, so that every stage job carries one.
   */
  priority: PipelinePriority;
}

/** The control queue: asks the conductor to advance a pipeline. Coalesces repeats. */
export interface ControlQueue {
  /**
   * `redispatch` also re-adds the jobs of stages already queued (after a crash between a
   * commit and its dispatch); such requests are not coalesced, so none is lost.
   */
  requestAdvance(pipelineId: string, meta?: { requestId?: string; redispatch?: boolean }): Promise<void>;
  /** A delayed job that applies the decision's deadline; one per decision and deadline. */
  scheduleDeadline(decisionId: string, at: Date): Promise<void>;
  /** A delayed job that cancels the pipeline with DEADLINE_EXCEEDED if it is unfinished then; one per pipeline and deadline. */
  schedulePipelineDeadline(pipelineId: string, at: Date): Promise<void>;
}

/** The agent queues: one job per dispatched stage, its id the stage id (a repeat is a no-op). */
export interface AgentQueues {
  dispatch(pipelineId: string, stages: readonly DispatchedStage[], meta?: { requestId?: string }): Promise<void>;
  workersOnline(agentType: string): Promise<number>;
  /**
   * Gives these jobs the BullMQ priority of `priority` (changePriority): a waiting one moves in its
   * queue, a delayed or running one keeps it for its next try; a finished or missing one is left
   * alone. Returns how many were changed.
   */
  reprioritize(jobs: readonly { agent: string; jobId: string }[], priority: PipelinePriority): Promise<number>;
}

/** Broadcasts cancellation to every worker process so running handlers get their AbortSignal. */
export interface CancelBus {
  /** The BullMQ job ids of the running stages (a stage's id, or its re-run job's id). */
  publish(jobIds: readonly string[]): Promise<void>;
}
