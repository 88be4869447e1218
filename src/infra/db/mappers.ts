// Prisma rows → service views.
import { DECISION_CATEGORIES, type DecisionCategory } from '../../domain/decision-policy.js';
import { gateRulesSchema, type GateResult, type GateRule } from '../../domain/gates.js';
import type { JsonObject, JsonValue } from '../../domain/json.js';
import type { PipelineLabels } from '../../domain/pipeline-labels.js';
import { pipelinePrioritySchema } from '../../domain/pipeline-priority.js';
import { retrySchema, type RetryPolicy } from '../../domain/pipeline-definition.js';
import type { ClarificationQuestion } from '../../domain/requirements-check.js';
import type {
  Clarification,
  Decision,
  DecisionVote,
  GateResult as GateResultRow,
  Pipeline,
  Stage,
  StageRun,
} from '../../generated/prisma/client.js';
import type { ClarificationView, NewClarification } from '../../services/clarification.ports.js';
import type { DecisionSummary, DecisionView } from '../../services/decision.ports.js';
import type { PipelineView, StageView } from '../../services/pipeline.ports.js';
import type { DispatchedStage } from '../../services/queue.ports.js';
import type { StageErrorRecord } from '../../services/stage-error-record.js';
import type { StageRunView } from '../../services/stage-run.ports.js';
import { agentQueueName } from '../queue/queue-names.js';
import { parseOnce } from './parse-once.js';

export const asObject = (value: unknown): JsonObject =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : {};
const asJson = (value: unknown): JsonValue | null => (value === undefined ? null : (value as JsonValue | null));
const asError = (value: unknown): StageErrorRecord | null => (value ? (value as StageErrorRecord) : null);

/** The columns a pipeline view is made of (a Prisma row, or a raw row selected under these names). */
export type PipelineRow = Pick<
  Pipeline,
  | 'id'
  | 'name'
  | 'status'
  | 'template'
  | 'input'
  | 'error'
  | 'createdAt'
  | 'updatedAt'
  | 'startedAt'
  | 'finishedAt'
  | 'cancelRequestedAt'
  | 'policyVersion'
  | 'submitter'
  | 'labels'
  | 'traceId'
  | 'pausedAt'
  | 'pausedBy'
  | 'pauseReason'
  | 'priority'
  | 'deadlineAt'
  | 'cancelReason'
> &
  // Schedules: absent from the statements that do not read them (then shown as null).
  Partial<Pick<Pipeline, 'scheduleId' | 'scheduledFor'>>;

/** Labels as stored (written by us, validated at submission): string values only. */
export function asLabels(value: unknown): PipelineLabels {
  return Object.fromEntries(Object.entries(asObject(value)).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

export function toPipelineView(row: PipelineRow): PipelineView {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    template: row.template,
    input: asObject(row.input),
    error: asJson(row.error),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    cancelRequestedAt: row.cancelRequestedAt,
    policyVersion: row.policyVersion,
    submitter: row.submitter,
    labels: asLabels(row.labels),
    traceId: row.traceId,
    paused: row.pausedAt ? { at: row.pausedAt, by: row.pausedBy ?? 'unknown', reason: row.pauseReason } : null,
    priority: row.priority,
    deadlineAt: row.deadlineAt,
    cancelReason: row.cancelReason,
    schedule: row.scheduleId && row.scheduledFor ? { id: row.scheduleId, scheduledFor: row.scheduledFor } : null,
  };
}

const gateRulesOnce = parseOnce(gateRulesSchema);
const retryOnce = parseOnce(retrySchema);
const priorityOnce = parseOnce(pipelinePrioritySchema);

/** Gate rules as stored on a stage (written by us, validated at submission). */
export function parseGateRules(value: unknown): GateRule[] {
  try {
    return gateRulesOnce(JSON.stringify(value ?? []), value ?? []) as GateRule[];
  } catch {
    return [];
  }
}

/** A stage's retry policy from its two columns (written by us, validated at submission). */
function parseRetry(attempts: unknown, backoff: unknown): RetryPolicy {
  return retryOnce(`${String(attempts)} ${JSON.stringify(backoff)}`, { attempts, backoff }) as RetryPolicy;
}

export function toCategory(value: string | null): DecisionCategory {
  return (DECISION_CATEGORIES as readonly string[]).includes(value ?? '') ? (value as DecisionCategory) : 'technical_refactor';
}

export function toStageView(row: Stage): StageView {
  return {
    id: row.id,
    key: row.key,
    agent: row.agent,
    dependsOn: row.dependsOn,
    input: asObject(row.input),
    retry: parseRetry(row.retryAttempts, row.retryBackoff),
    timeoutMs: row.timeoutMs,
    continueOnFailure: row.continueOnFailure,
    gates: parseGateRules(row.gates),
    category: toCategory(row.category),
    confidence: row.confidence,
    status: row.status,
    attempts: row.attempts,
    progress: row.progress,
    output: asJson(row.output),
    error: asError(row.error),
    queuedAt: row.queuedAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    agentVersion: row.runAgentVersion,
    variant: row.runVariant,
    jobId: stageJobId(row),
    queue: agentQueueName(row.agent),
    reused: row.reusedFrom && row.reusedFromPipeline ? { fromPipeline: row.reusedFromPipeline, fromStage: row.reusedFrom } : null,
  };
}

/**
 * The BullMQ job id of a stage's current or last job: job_id once a decision or answer re-queued
 * it under a new id, else the stage id (job id = stage id); null while it was never queued.
 */
export function stageJobId(row: Pick<Stage, 'id' | 'jobId' | 'queuedAt' | 'attempts'>): string | null {
  if (row.jobId) return row.jobId;
  return row.queuedAt || row.attempts > 0 ? row.id : null;
}

export function toGateResult(row: GateResultRow): GateResult {
  return {
    metric: row.metric,
    operator: row.operator as GateResult['operator'],
    threshold: (row.threshold ?? null) as GateResult['threshold'],
    severity: row.severity as GateResult['severity'],
    value: (row.value ?? null) as GateResult['value'],
    verdict: row.verdict as GateResult['verdict'],
    reason: row.reason,
  };
}

export function toStageRunView(row: StageRun & { stage: { key: string } }, gates: GateResultRow[] = []): StageRunView {
  return {
    id: row.id,
    stageKey: row.stage.key,
    attempt: row.attempt,
    status: row.status,
    output: asJson(row.output),
    metrics: row.metrics ? asObject(row.metrics) : null,
    gates: gates.map(toGateResult),
    error: asError(row.error),
    workerId: row.workerId,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    agentVersion: row.agentVersion,
    variant: row.variant,
  };
}

/** The attempt a running stage has in flight, shaped like a StageRun. */
export function toRunningView(row: Stage): StageRunView {
  return {
    id: row.currentRunId!,
    stageKey: row.key,
    attempt: row.attempts,
    status: 'running',
    output: null,
    metrics: null,
    gates: [],
    error: null,
    workerId: row.runWorkerId ?? '',
    startedAt: row.runStartedAt!,
    finishedAt: null,
    agentVersion: row.runAgentVersion,
    variant: row.runVariant,
  };
}

/**
 * For the RETURNING list of an UPDATE of `stages` that queues a stage: its pipeline's priority
 * (one primary-key probe per row), which toDispatched needs.
 */
export const STAGE_PIPELINE_PRIORITY_SQL = '(SELECT p.priority::text FROM pipelines p WHERE p.id = stages.pipeline_id) AS priority';

/** A stage row (raw SQL, snake_case) a statement just queued, as the agent job needs it. */
export function toDispatched(row: {
  id: string | null;
  key: string | null;
  agent: string | null;
  retry_attempts: number | null;
  retry_backoff: unknown;
  job_id?: string | null;
  contract_version?: number | null;
  /** The pipeline's priority (pipelines.priority::text), which every statement that queues a stage reads. */
  priority: string | null;
}): DispatchedStage {
  return {
    id: row.id!,
    key: row.key!,
    agent: row.agent!,
    retry: parseRetry(row.retry_attempts, row.retry_backoff),
    ...(row.job_id ? { jobId: row.job_id } : {}),
    ...(row.contract_version ? { contractVersion: row.contract_version } : {}),
    priority: priorityOnce(String(row.priority), row.priority),
  };
}

export function toDecisionSummary(row: Decision): DecisionSummary {
  return {
    id: row.id,
    pipelineId: row.pipelineId,
    stageKey: row.stageKey,
    category: toCategory(row.category),
    status: row.status,
    confidence: row.confidence,
    deadlineAt: row.deadlineAt,
    createdAt: row.createdAt,
    resolvedAt: row.resolvedAt,
  };
}

export function toDecisionView(row: Decision & { votes: DecisionVote[]; pipeline: { submitter: string } }): DecisionView {
  return {
    ...toDecisionSummary(row),
    submitter: row.pipeline.submitter,
    stageId: row.stageId,
    threshold: row.threshold,
    policyVersion: row.policyVersion,
    quorum: row.quorum,
    approvers: row.approvers,
    onDeadline: row.onDeadline === 'escalate' ? 'escalate' : 'reject',
    evidence: asObject(row.evidence),
    votes: row.votes.map((v) => ({
      actor: v.actor,
      verdict: v.verdict === 'reject' ? 'reject' : 'approve',
      comment: v.comment,
      at: v.createdAt,
    })),
    resolvedBy: row.resolvedBy,
    comment: row.comment,
    updatedAt: row.updatedAt,
  };
}

export function toClarificationView(row: Clarification): ClarificationView {
  return {
    id: row.id,
    pipelineId: row.pipelineId,
    stageKey: row.stageKey,
    status: row.status,
    questions: (Array.isArray(row.questions) ? row.questions : []) as unknown as ClarificationQuestion[],
    answers: row.answers ? (row.answers as Record<string, string>) : null,
    askedBy: row.askedBy,
    answeredBy: row.answeredBy,
    createdAt: row.createdAt,
    answeredAt: row.answeredAt,
  };
}

/** A clarification just opened, as the pipeline detail shows it. */
export function toNewClarificationView(c: NewClarification, createdAt: Date): ClarificationView {
  return { ...c, status: 'open', answers: null, answeredBy: null, createdAt, answeredAt: null };
}

/** The keyset condition of a newest-first list: rows after the cursor's (createdAt, id). */
export function beforeCursor(cursor: { createdAt: Date; id: string } | undefined) {
  return cursor ? { OR: [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { lt: cursor.id } }] } : {};
}
