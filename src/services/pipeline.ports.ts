// The ports of the pipeline use cases: pipelines and their stages as they are submitted, read,
// listed and cancelled, and the conductor's read and apply. infra/db implements them
// (pipeline.repository.ts and the pipeline-*.repository.ts files it assembles).
import type { AdmissionLimits } from '../domain/admission.js';
import type { DecisionCategory } from '../domain/decision-policy.js';
import type { GateRule } from '../domain/gates.js';
import type { PipelineEvent } from '../domain/events.js';
import type { JsonObject, JsonValue } from '../domain/json.js';
import type { PipelineLabels } from '../domain/pipeline-labels.js';
import type { PipelinePriority } from '../domain/pipeline-priority.js';
import type { PipelineDefinition, RetryPolicy } from '../domain/pipeline-definition.js';
import type { ConductorPlan } from '../domain/stage-admission.js';
import type { PipelineStatus, StageStatus } from '../domain/status.js';
import type { ClarificationView, NewClarification } from './clarification.ports.js';
import type { AdvanceResult, PipelineState } from './conductor.ports.js';
import type { DecisionSummary } from './decision.ports.js';
import type { AuditEntry, AuditOf } from './identity.ports.js';
import type { StageErrorRecord } from './stage-error-record.js';
import type { StageRunView } from './stage-run.ports.js';
import type { NewRerun, RerunLink } from './rerun.ports.js';

/** What a cancel request found: the pipeline's status, and the jobs of its stages still running (to abort). */
/** A priority change as Postgres committed it: the pipeline's status, its former priority, and the jobs of its stages waiting now. */
export interface PriorityChange {
  status: PipelineStatus;
  before: PipelinePriority;
  queued: { agent: string; jobId: string }[];
}

export interface CancelOutcome {
  status: PipelineStatus;
  runningJobIds: string[];
}

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
  /** The agent version of its latest attempt (the one in flight while running); null: none yet, or unknown. */
  agentVersion: string | null;
  /** The settings variant of its latest attempt; null: none. */
  variant: string | null;
  /** The BullMQ job id of its current or last job; null: never queued. */
  jobId: string | null;
  /** The queue its jobs go to (one per agent type). */
  queue: string;
  /** Re-run from a stage: the stage whose output this one took over without running; null or absent: it runs here. */
  reused?: { fromPipeline: string; fromStage: string } | null;
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
  /** Key/value tags given at submission (domain/pipeline-labels.ts). */
  labels: PipelineLabels;
  /** The W3C trace id of the submission's span; null: tracing off. */
  traceId: string | null;
  /** Set while it is paused (docs/pipeline-operations.md, "Pause and resume"): since when, by whom, why. */
  paused: { at: Date; by: string; reason: string | null } | null;
  /** Its level (domain/pipeline-priority.ts): the priority of its stage jobs and of its start. */
  priority: PipelinePriority;
  /** When it is cancelled with DEADLINE_EXCEEDED if still unfinished; null: never. */
  deadlineAt: Date | null;
  /** Why its cancel was requested: DEADLINE_EXCEEDED; null: by a person, or not cancelled. */
  cancelReason: string | null;
  /** The schedule whose tick started it, and that tick's time; null (or absent) when submitted otherwise. */
  schedule?: { id: string; scheduledFor: Date } | null;
}

export interface PipelineDetail extends PipelineView {
  stages: StageView[];
  decisions: DecisionSummary[];
  /** The history of questions and answers. */
  clarifications: ClarificationView[];
  /** Re-run from a stage: the pipeline this one re-runs (null or absent: a submission). */
  rerunOf?: string | null;
  /** The stages chosen to run again when it is a re-run (absent: none). */
  rerunFrom?: string[];
  /** The re-runs of this pipeline, oldest first (absent: none). */
  reruns?: RerunLink[];
}

export interface NewPipeline {
  id: string;
  definition: PipelineDefinition;
  template: string | null;
  idempotencyKey: string | null;
  requestHash: string | null;
  stageIds: string[];
  /**
   * Per stage (definition order): the contract version its input is written under, its agent's
   * as this process's catalog knows it (absent: 1).
   */
  contractVersions?: number[];
  /** Per stage (definition order): its resolved gates, category and auto-approve threshold. */
  policy: { version: string; stages: { gates: GateRule[]; category: DecisionCategory; autoApproveAt: number | null }[] };
  /** The pipeline input's confidence (percent), the starting point of every stage's. */
  confidence: number | null;
  /** Requirements unclear at submission: the roots wait for this clarification's answers. */
  clarification: NewClarification | null;
  submitter: string;
  /** Default none. */
  labels?: PipelineLabels;
  /** Default null. */
  traceId?: string | null;
  /** Default normal. */
  priority?: PipelinePriority;
  /** Default null (no deadline). */
  deadlineAt?: Date | null;
  /**
   * Running limits to apply (null: none, the pipeline starts at once). Over a limit it is
   * created `queued` with no stage queued, and starts later through `startQueued`.
   */
  admission: AdmissionLimits | null;
  /** The submission's audit event, committed with the pipeline; absent: none. */
  audit?: AuditEntry;
  /** A re-run's link to the old pipeline and the stages it reuses (absent: a plain submission). */
  rerun?: NewRerun;
}

export interface PipelineListQuery {
  status?: PipelineStatus;
  /** A case-insensitive substring of the name. */
  name?: string;
  /** The submitter's identity id, exactly. */
  submitter?: string;
  /** Every one of these labels (key, value) must be on the pipeline. */
  labels?: readonly (readonly [key: string, value: string])[];
  /** Only pipelines of this level. */
  priority?: PipelinePriority;
  limit: number;
  cursor?: { createdAt: Date; id: string };
}

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
  /** What a pipeline's timeline is built from: the pipeline and its event log in id order; null when it does not exist. */
  readTimeline(pipelineId: string): Promise<{ pipeline: PipelineView; events: PipelineEvent[] } | null>;
  /** Marks cancel requested (unless terminal) and returns the job ids of stages still running; `audit`'s event (for an unfinished pipeline) commits with the request. */
  requestCancel(id: string, options?: { reason?: string }, audit?: AuditOf<CancelOutcome>): Promise<CancelOutcome | null>;
  /**
   * Sets an unfinished pipeline's priority; returns its status and former priority, and the jobs
   * of its stages waiting in agent queues (to re-prioritise). null: finished or missing.
   * `audit`'s event (for a change made) commits with it.
   */
  setPriority(id: string, priority: PipelinePriority, audit?: AuditOf<PriorityChange>): Promise<PriorityChange | null>;
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
