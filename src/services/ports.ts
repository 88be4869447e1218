// The ports services talk to; infra/ implements them with Prisma and BullMQ.
import type { AdmissionLimits } from '../domain/admission.js';
import type { ClarificationQuestion } from '../domain/requirements-check.js';
import type { DecisionCategory } from '../domain/decision-policy.js';
import type { GateResult, GateRule } from '../domain/gates.js';
import type { JsonObject, JsonValue } from '../domain/json.js';
import type { PipelineDefinition, RetryPolicy } from '../domain/pipeline-definition.js';
import type { PipelineStatus, StageStatus } from '../domain/status.js';
import type { ConductorPlan, PolicyStage } from '../domain/stage-admission.js';
import type { ReplayBlock, ReplayTarget } from '../domain/dlq-replay.js';

export interface StageView {
  id: string;
  key: string;
  agent: string;
  dependsOn: string[];
  input: JsonObject;
  retry: RetryPolicy;
  timeoutMs: number | null;
  continueOnFailure: boolean;
  gates: GateRule[];
  category: DecisionCategory;
  /** Lowest confidence (percent) reported by the pipeline input and upstream outputs. */
  confidence: number | null;
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
  policyVersion: string | null;
  /** The identity that submitted it (an API key's name, or `jwt:<sub>`). */
  submitter: string;
}

export interface PipelineDetail extends PipelineView {
  stages: StageView[];
  decisions: DecisionSummary[];
  /** The history of questions and answers. */
  clarifications: ClarificationView[];
}

export type DecisionStatus = 'pending' | 'escalated' | 'approved' | 'rejected' | 'expired' | 'cancelled';
export const OPEN_DECISION_STATUSES: ReadonlySet<DecisionStatus> = new Set(['pending', 'escalated']);

export interface DecisionSummary {
  id: string;
  pipelineId: string;
  stageKey: string;
  category: DecisionCategory;
  status: DecisionStatus;
  confidence: number;
  deadlineAt: Date;
  createdAt: Date;
  resolvedAt: Date | null;
}

export interface DecisionVoteView {
  actor: string;
  verdict: 'approve' | 'reject';
  comment: string | null;
  at: Date;
}

export interface DecisionView extends DecisionSummary {
  stageId: string;
  threshold: number;
  policyVersion: string;
  quorum: number;
  /** Who may decide: roles or names from the policy (the escalation's once escalated). */
  approvers: string[];
  /** The identity that submitted the pipeline (separation of duties). */
  submitter: string;
  onDeadline: 'reject' | 'escalate';
  evidence: JsonObject;
  votes: DecisionVoteView[];
  resolvedBy: string | null;
  comment: string | null;
  updatedAt: Date;
}

export interface ClarificationView {
  id: string;
  pipelineId: string;
  /** Null: asked at submission (the pipeline's roots wait for it). */
  stageKey: string | null;
  status: 'open' | 'answered' | 'cancelled';
  questions: ClarificationQuestion[];
  answers: Record<string, string> | null;
  askedBy: string;
  answeredBy: string | null;
  createdAt: Date;
  answeredAt: Date | null;
}

/** A clarification to open (at submission, or when a handler asks). */
export interface NewClarification {
  id: string;
  pipelineId: string;
  stageKey: string | null;
  questions: ClarificationQuestion[];
  askedBy: string;
}

export interface StageRunView {
  id: string;
  stageKey: string;
  attempt: number;
  status: 'running' | 'succeeded' | 'failed' | 'cancelled' | 'abandoned' | 'suspended';
  output: JsonValue | null;
  metrics: JsonObject | null;
  gates: GateResult[];
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
  /** Per stage (definition order): its resolved gates, category and auto-approve threshold. */
  policy: { version: string; stages: { gates: GateRule[]; category: DecisionCategory; autoApproveAt: number | null }[] };
  /** The pipeline input's confidence (percent), the starting point of every stage's. */
  confidence: number | null;
  /** Requirements unclear at submission: the roots wait for this clarification's answers. */
  clarification: NewClarification | null;
  submitter: string;
  /**
   * Running limits to apply (null: none, the pipeline starts at once). Over a limit it is
   * created `queued` with no stage queued, and starts later through `startQueued`.
   */
  admission: AdmissionLimits | null;
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
  /** The BullMQ job id: the stage id, except for a re-run after a clarification. */
  jobId?: string;
}

export interface AdvanceResult {
  pipelineId: string;
  status: PipelineStatus;
  dispatched: DispatchedStage[];
  skipped: string[];
  cancelled: string[];
  /** True when this call moved the pipeline into a terminal state. */
  finished: boolean;
  /** Decisions this call opened, and on a redelivery every open one (their deadline jobs). */
  decisions: { id: string; deadlineAt: Date }[];
}

export type { ConductorPlan, HoldRequest, PolicyStage } from '../domain/stage-admission.js';

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
  gates: GateRule[];
}

export type ClaimOutcome =
  | { claimed: true; stage: ClaimedStage }
  | { claimed: false; status: StageStatus | 'missing'; jobId: string | null; error: StageErrorRecord | null };

export interface PipelineRepository {
  /**
   * `started`: queued pipelines the admission step started in the same transaction (their
   * advance requests are the caller's to send).
   */
  createPipeline(pipeline: NewPipeline): Promise<{ pipeline: PipelineDetail; started: string[] }>;
  /** Pipelines waiting in `queued` (the backlog). */
  countQueued(): Promise<number>;
  /**
   * Moves the oldest queued pipelines the limits allow to `running` (stages left `pending`),
   * serialized with every other admission; returns their ids, for which the caller requests an advance.
   */
  startQueued(limits: AdmissionLimits): Promise<string[]>;
  /** The submitter's own pipeline under that key (keys are scoped to their submitter). */
  findByIdempotencyKey(submitter: string, key: string): Promise<(PipelineDetail & { requestHash: string | null }) | null>;
  /** `stageLimit`: only the first stages, in definition order (a response pages the rest). */
  getPipeline(id: string, options?: { stageLimit?: number }): Promise<PipelineDetail | null>;
  /** Up to `limit` stages from position `from` (0-based, definition order); null when the pipeline does not exist. */
  listStages(pipelineId: string, page: { from: number; limit: number }): Promise<StageView[] | null>;
  listPipelines(query: PipelineListQuery): Promise<PipelineView[]>;
  listRuns(pipelineId: string): Promise<StageRunView[]>;
  /** Marks cancel requested (unless terminal) and returns the job ids of stages still running. */
  requestCancel(id: string): Promise<{ status: PipelineStatus; runningJobIds: string[] } | null>;
  /** The conductor's read: the pipeline and every stage as the planner and admission need them. */
  readState(pipelineId: string): Promise<PipelineState | null>;
  /**
   * Applies a plan made from `expected` (the state read) with every write guarded by the state
   * it expects, so concurrent or repeated advances apply each effect once. `redispatchQueued`
   * also returns stages already queued and every open decision (their jobs may be missing after
   * a crash between commit and dispatch; re-adding an existing job id is a no-op).
   */
  applyPlan(expected: PipelineState, plan: ConductorPlan, options?: { redispatchQueued?: boolean }): Promise<AdvanceResult>;
}

/** A pipeline as the conductor plans it (readState). */
export interface PipelineState {
  pipelineId: string;
  status: PipelineStatus;
  cancelRequested: boolean;
  /** The policy it was submitted under (which fixed its stages' auto-approve thresholds). */
  policyVersion: string | null;
  stages: StateStage[];
}

/** A stage of PipelineState: the planner's and admission's view, plus what applying needs. */
export interface StateStage extends PolicyStage {
  id: string;
  /** Its last error message (a failed pipeline's error names each failed stage's reason). */
  errorMessage: string | null;
}

/** What recording an attempt's end did, in the same statement. */
export interface FinishResult {
  /** False when this run no longer owned the stage (a duplicate): nothing was written. */
  recorded: boolean;
  /** Dependants whose last dependency this was: now queued, their jobs to be added. */
  released: DispatchedStage[];
  /** The pipeline has a cancel request: the conductor must close it once stages stop. */
  cancelRequested: boolean;
  /** A dependant is ready but the policy wants a human: the conductor opens its decision. */
  needsConductor: boolean;
}

export interface StageRunRepository {
  /** Claims a queued stage for this job (or re-claims after a crash); records a StageRun. */
  claim(args: { stageId: string; jobId: string; runId: string; workerId: string }): Promise<ClaimOutcome>;
  /** Records success and releases the dependants it was the last dependency of. */
  succeed(args: {
    stageId: string;
    runId: string;
    output: JsonValue;
    metrics: JsonObject;
    confidence: number | null;
    gates: GateResult[];
  }): Promise<FinishResult>;
  /**
   * Records a failed attempt; `final` fails the stage (releasing dependants only with
   * continueOnFailure), else it goes back to queued for a retry.
   */
  fail(args: {
    stageId: string;
    runId: string;
    error: StageErrorRecord;
    metrics: JsonObject;
    final: boolean;
    output?: JsonValue;
    gates?: GateResult[];
  }): Promise<FinishResult>;
  /** Ends the attempt waiting for answers: the stage waits (no job) until they come. */
  suspend(args: {
    stageId: string;
    runId: string;
    metrics: JsonObject;
    output?: JsonValue;
    clarification: NewClarification;
  }): Promise<FinishResult>;
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

export interface DecisionListQuery {
  status?: DecisionStatus;
  category?: string;
  pipelineId?: string;
  limit: number;
  cursor?: { createdAt: Date; id: string };
}

export type DecisionAnswerResult =
  | { kind: 'not_found' }
  | { kind: 'closed'; status: string }
  | { kind: 'already_voted' }
  | {
      kind: 'recorded';
      decision: DecisionView;
      /** Null while a quorum still waits for more approvals. */
      resolved: 'approved' | 'rejected' | null;
      /** The stage an approval queued: its job to add. */
      released: DispatchedStage | null;
      pipelineId: string;
    };

export type DeadlineResult =
  | { kind: 'closed' }
  | { kind: 'not_yet'; deadlineAt: Date }
  | { kind: 'escalated'; deadlineAt: Date; pipelineId: string }
  | { kind: 'expired'; pipelineId: string };

export interface DecisionRepository {
  list(query: DecisionListQuery): Promise<DecisionSummary[]>;
  get(id: string): Promise<DecisionView | null>;
  answer(args: { id: string; actor: string; verdict: 'approve' | 'reject'; comment: string | null }): Promise<DecisionAnswerResult>;
  /** The deadline passed: escalate (pending with onDeadline escalate) or expire and fail the stage. */
  applyDeadline(args: { id: string; escalation: { approvers: string[]; deadlineMs: number } }): Promise<DeadlineResult>;
}

export interface ClarificationListQuery {
  status?: ClarificationView['status'];
  pipelineId?: string;
  limit: number;
  cursor?: { createdAt: Date; id: string };
}

export type ClarificationAnswerResult =
  | { kind: 'not_found' }
  | { kind: 'closed'; status: string }
  | {
      kind: 'answered';
      clarification: ClarificationView;
      /** The stage to run again with the answers (asked by a stage). */
      released: DispatchedStage | null;
      /** Asked at submission: the roots are pending again, for the conductor to start. */
      rootsReleased: boolean;
    };

export interface ClarificationRepository {
  list(query: ClarificationListQuery): Promise<ClarificationView[]>;
  get(id: string): Promise<ClarificationView | null>;
  /** Stores the answers and merges them into the waiting stage's (or the pipeline's) input. */
  answer(args: { id: string; actor: string; answers: Record<string, string>; merged: JsonValue }): Promise<ClarificationAnswerResult>;
}

/** A failed agent job, read from its queue's failed set (the dead-letter queue). */
export interface DeadLetter {
  jobId: string;
  agent: string;
  /** From the job data; null when the data is not a stage job (a malformed job). */
  pipelineId: string | null;
  stageId: string | null;
  stageKey: string | null;
  /** From the job's failedReason, which the agent worker writes as `<code>: <message>`. */
  error: { code: string; message: string };
  attemptsMade: number;
  failedAt: Date;
}

export interface DeadLetterScan {
  /** Newest first. */
  jobs: DeadLetter[];
  /** The most failed jobs read from one agent queue (its newest ones). */
  perQueueCap: number;
  /** A queue holds more failed jobs than the cap: its oldest ones were not read. */
  truncated: boolean;
}

/** The failed sets of the agent queues: read, retry and remove failed jobs. */
export interface DeadLetterQueue {
  /** The newest failed jobs of every agent queue, or of one agent's. */
  scan(filter: { agent?: string }): Promise<DeadLetterScan>;
  /** The job with this id in any agent queue, with its BullMQ state; null when no queue has it. */
  find(jobId: string): Promise<{ job: DeadLetter; state: string } | null>;
  /**
   * Moves a failed job back to waiting, keeping its id, with its attempt counters reset.
   * `present`: it was not failed any more (retried by someone else); `missing`: it is gone.
   */
  retry(job: DeadLetter): Promise<'retried' | 'present' | 'missing'>;
  /** Removes the job from Redis, only while it is failed. */
  remove(job: DeadLetter): Promise<'removed' | 'not_failed' | 'missing'>;
}

export type ReplayResult =
  | {
      kind: 'reopened' | 'resumed';
      jobId: string;
      stageKey: string;
      /** Skipped stages put back to pending (reopened only). */
      restored: string[];
      /** The stage's job, to add again if it vanished from Redis meanwhile. */
      stage: DispatchedStage;
    }
  | { kind: 'blocked'; jobId: string; code: ReplayBlock; message: string };

export interface ReplayRepository {
  /** What a replay of each stage would find in Postgres (stages that are gone are absent). */
  inspect(stageIds: readonly string[]): Promise<Map<string, ReplayTarget>>;
  /**
   * Replays failed jobs of stages of one pipeline in one transaction: each failed stage goes
   * back to queued, the skipped stages downstream to pending, the pipeline to running, and a
   * `dlq.replayed` audit event is written per job. One result per target, in order.
   */
  /** `via`: where the replay was asked for (`api`, `bull-board`), kept in the pipeline's audit. */
  reopen(args: {
    pipelineId: string;
    targets: { stageId: string; jobId: string; fingerprint: string }[];
    actor: string;
    via: string;
  }): Promise<ReplayResult[]>;
}

/** Where a job is in Redis: `live` is waiting, delayed, active, prioritized or waiting for children;
 * `orphaned` is a job hash in no list (nothing would run it); `unknown` is a queue this process lacks. */
export type JobPresence = 'live' | 'completed' | 'failed' | 'missing' | 'orphaned' | 'unknown';

/** Where a reconciler scan stopped: the last row's sort time (ISO or `-infinity`) and id. */
export interface ReconcileCursor {
  at: string;
  id: string;
}

/** A stage whose job must exist: queued, or running with its worker possibly lost. */
export interface StageToReconcile extends DispatchedStage {
  pipelineId: string;
  status: 'queued' | 'running';
  /** The job id Redis must hold: `stages.job_id`, else the stage id. */
  jobId: string;
  currentRunId: string | null;
  runWorkerId: string | null;
}

/** What Postgres says must exist in Redis, in pages, oldest first (see reconciler.service.ts). */
export interface ReconcileRepository {
  /**
   * Stages of running pipelines queued more than `graceMs` ago, or running in an attempt that
   * began more than `lockDurationMs` ago; ordered by queue time, after `after`.
   */
  stagesToCheck(args: {
    after: ReconcileCursor | null;
    limit: number;
    graceMs: number;
    lockDurationMs: number;
  }): Promise<(StageToReconcile & { cursor: ReconcileCursor })[]>;
  /** The ids of those stages still as they were read (status, job id, attempt in flight). */
  unchanged(stages: readonly StageToReconcile[]): Promise<Set<string>>;
  /**
   * Records a running stage whose job BullMQ dead-lettered as failed (its attempt `abandoned`,
   * a `stage.finished` event), if it is still running that job and attempt. False: it moved on.
   */
  failDeadLettered(stage: StageToReconcile, error: StageErrorRecord): Promise<boolean>;
  /**
   * Running pipelines untouched for `idleMs` that the conductor could move: settled but not
   * finished, or a pending stage whose dependencies are all done. Oldest first, after `after`.
   */
  pipelinesToAdvance(args: {
    after: ReconcileCursor | null;
    limit: number;
    idleMs: number;
  }): Promise<{ id: string; cursor: ReconcileCursor }[]>;
  /** Open decisions (pending or escalated), each of which needs its deadline job. Oldest first. */
  openDecisions(args: {
    after: ReconcileCursor | null;
    limit: number;
  }): Promise<{ id: string; deadlineAt: Date; cursor: ReconcileCursor }[]>;
}

/** A job the reconciler looks for: a stage's agent job, or a decision's deadline job. */
export type ReconcileJobRef = { kind: 'stage'; agent: string; jobId: string } | { kind: 'deadline'; decisionId: string; deadlineAt: Date };

/** What the reconciler reads and repairs in Redis, job by job. */
export interface ReconcileQueues {
  /** One state per ref, in order, read as one snapshot per queue. */
  presence(refs: readonly ReconcileJobRef[]): Promise<JobPresence[]>;
  /** Moves a failed job back to waiting with fresh attempts; false when it is no longer failed. */
  retry(ref: ReconcileJobRef): Promise<boolean>;
  /** Removes a finished or orphaned job so its id can be added again; false when a worker holds it. */
  remove(ref: ReconcileJobRef): Promise<boolean>;
  /** Names of the workers connected to an agent's queue; null when Redis cannot list its clients. */
  connectedWorkers(agent: string): Promise<ReadonlySet<string> | null>;
}
