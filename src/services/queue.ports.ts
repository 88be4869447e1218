// The ports of the queues the use cases produce to: the agent queues (one job per dispatched
// stage), the control queue (advance requests and decision deadlines) and the cancel broadcast.
// infra/queue implements them with BullMQ and Redis.
import type { RetryPolicy } from '../domain/pipeline-definition.js';

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
}

/** The agent queues: one job per dispatched stage, its id the stage id (a repeat is a no-op). */
export interface AgentQueues {
  dispatch(pipelineId: string, stages: readonly DispatchedStage[], meta?: { requestId?: string }): Promise<void>;
  workersOnline(agentType: string): Promise<number>;
}

/** Broadcasts cancellation to every worker process so running handlers get their AbortSignal. */
export interface CancelBus {
  /** The BullMQ job ids of the running stages (a stage's id, or its re-run job's id). */
  publish(jobIds: readonly string[]): Promise<void>;
}
