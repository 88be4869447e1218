// The ports services talk to; infra/ implements them with Prisma and BullMQ.
import type { JsonObject, JsonValue } from '../domain/json.js';
import type { PipelineDefinition, RetryPolicy } from '../domain/pipeline-definition.js';
import type { PipelineStatus, Plan, PlanStage, StageStatus } from '../domain/planner.js';

export interface StageView {
  id: string;
  key: string;
  agent: string;
  dependsOn: string[];
  input: JsonObject;
  retry: RetryPolicy;
  timeoutMs: number | null;
  continueOnFailure: boolean;
  status: StageStatus;
  attempts: number;
  progress: number;
  output: JsonValue | null;
  error: StageErrorRecord | null;
  queuedAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface PipelineView {
  id: string;
  name: string;
  status: PipelineStatus;
  template: string | null;
  input: JsonObject;
  error: JsonValue | null;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  cancelRequestedAt: Date | null;
}

export interface PipelineDetail extends PipelineView {
  stages: StageView[];
}

export interface StageRunView {
  id: string;
  stageKey: string;
  attempt: number;
  status: 'running' | 'succeeded' | 'failed' | 'cancelled' | 'abandoned';
  output: JsonValue | null;
  metrics: JsonObject | null;
  error: StageErrorRecord | null;
  workerId: string;
  startedAt: Date;
  finishedAt: Date | null;
}

export interface StageErrorRecord {
  [key: string]: JsonValue;
  code: string;
  message: string;
  retryable: boolean;
}

export interface NewPipeline {
  id: string;
  definition: PipelineDefinition;
  template: string | null;
  idempotencyKey: string | null;
  requestHash: string | null;
  stageIds: string[];
}

export interface PipelineListQuery {
  status?: PipelineStatus;
  name?: string;
  limit: number;
  cursor?: { createdAt: Date; id: string };
}

/** A stage the conductor decided to queue: what the agent job needs. */
export interface DispatchedStage {
  id: string;
  key: string;
  agent: string;
  retry: RetryPolicy;
}

export interface AdvanceResult {
  pipelineId: string;
  status: PipelineStatus;
  dispatched: DispatchedStage[];
  skipped: string[];
  cancelled: string[];
  /** True when this call moved the pipeline into a terminal state. */
  finished: boolean;
}

/** A claimed stage: everything the agent handler needs. */
export interface ClaimedStage {
  pipelineId: string;
  stageId: string;
  stageKey: string;
  agent: string;
  runId: string;
  attempt: number;
  input: JsonObject;
  pipelineInput: JsonObject;
  dependencies: Record<string, JsonValue>;
  timeoutMs: number | null;
}

export type ClaimOutcome =
  | { claimed: true; stage: ClaimedStage }
  | { claimed: false; status: StageStatus | 'missing'; jobId: string | null; error: StageErrorRecord | null };

export interface PipelineRepository {
  createPipeline(pipeline: NewPipeline): Promise<PipelineDetail>;
  findByIdempotencyKey(key: string): Promise<(PipelineDetail & { requestHash: string | null }) | null>;
  getPipeline(id: string): Promise<PipelineDetail | null>;
  listPipelines(query: PipelineListQuery): Promise<PipelineView[]>;
  listRuns(pipelineId: string): Promise<StageRunView[]>;
  /** Marks cancel requested (unless terminal) and returns the ids of stages still running. */
  requestCancel(id: string): Promise<{ status: PipelineStatus; runningStageIds: string[] } | null>;
  /**
   * Reads the stages, lets `plan` decide, applies the decision with writes guarded by the
   * state they expect, so concurrent or repeated advances apply each effect once.
   * `redispatchQueued` also returns stages already queued (their jobs may be missing after a
   * crash between commit and enqueue; re-adding an existing job id is a no-op).
   */
  advance(pipelineId: string, plan: (stages: readonly PlanStage[], cancelRequested: boolean) => Plan, options?: { redispatchQueued?: boolean }): Promise<AdvanceResult | null>;
}

/** What recording an attempt's end did, in the same statement. */
export interface FinishResult {
  /** False when this run no longer owned the stage (a duplicate): nothing was written. */
  recorded: boolean;
  /** Dependants whose last dependency this was: now queued, their jobs to be added. */
  released: DispatchedStage[];
  /** The pipeline has a cancel request: the conductor must close it once stages stop. */
  cancelRequested: boolean;
}

export interface StageRunRepository {
  /** Claims a queued stage for this job (or re-claims after a crash); records a StageRun. */
  claim(args: { stageId: string; jobId: string; runId: string; workerId: string }): Promise<ClaimOutcome>;
  /** Records success and releases the dependants it was the last dependency of. */
  succeed(args: { stageId: string; runId: string; output: JsonValue; metrics: JsonObject }): Promise<FinishResult>;
  /**
   * Records a failed attempt; `final` fails the stage (releasing dependants only with
   * continueOnFailure), else it goes back to queued for a retry.
   */
  fail(args: { stageId: string; runId: string; error: StageErrorRecord; metrics: JsonObject; final: boolean }): Promise<FinishResult>;
  /** Records a run stopped by cancellation. */
  cancel(args: { stageId: string; runId: string; error: StageErrorRecord; metrics: JsonObject }): Promise<FinishResult>;
  progress(args: { stageId: string; runId: string; pct: number }): Promise<void>;
  /** True when no stage of the pipeline is pending, queued or running. */
  settled(pipelineId: string): Promise<boolean>;
}

/** The control queue: asks the conductor to advance a pipeline. Coalesces repeats. */
export interface ControlQueue {
  /**
   * `redispatch` also re-adds the jobs of stages already queued (after a crash between a
   * commit and its enqueue); such requests are not coalesced, so none is lost.
   */
  requestAdvance(pipelineId: string, meta?: { requestId?: string; redispatch?: boolean }): Promise<void>;
}

/** The agent queues: one job per dispatched stage, its id the stage id (a repeat is a no-op). */
export interface AgentQueues {
  dispatch(pipelineId: string, stages: readonly DispatchedStage[], meta?: { requestId?: string }): Promise<void>;
  workersOnline(agentType: string): Promise<number>;
}

/** Broadcasts cancellation to every worker process so running handlers get their AbortSignal. */
export interface CancelBus {
  publish(stageIds: readonly string[]): Promise<void>;
}
