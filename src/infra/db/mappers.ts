// Prisma rows → service views.
import type { JsonObject, JsonValue } from '../../domain/json.js';
import { retrySchema } from '../../domain/pipeline-definition.js';
import type { Pipeline, Stage, StageRun } from '../../generated/prisma/client.js';
import type { DispatchedStage, PipelineView, StageErrorRecord, StageRunView, StageView } from '../../services/ports.js';

const asObject = (value: unknown): JsonObject => (value && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : {});
const asJson = (value: unknown): JsonValue | null => (value === undefined ? null : (value as JsonValue | null));
const asError = (value: unknown): StageErrorRecord | null => (value ? (value as StageErrorRecord) : null);

export function toPipelineView(row: Pipeline): PipelineView {
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
  };
}

export function toStageView(row: Stage): StageView {
  return {
    id: row.id,
    key: row.key,
    agent: row.agent,
    dependsOn: row.dependsOn,
    input: asObject(row.input),
    retry: retrySchema.parse({ attempts: row.retryAttempts, backoff: row.retryBackoff }),
    timeoutMs: row.timeoutMs,
    continueOnFailure: row.continueOnFailure,
    status: row.status,
    attempts: row.attempts,
    progress: row.progress,
    output: asJson(row.output),
    error: asError(row.error),
    queuedAt: row.queuedAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
  };
}

export function toStageRunView(row: StageRun & { stage: { key: string } }): StageRunView {
  return {
    id: row.id,
    stageKey: row.stage.key,
    attempt: row.attempt,
    status: row.status,
    output: asJson(row.output),
    metrics: row.metrics ? asObject(row.metrics) : null,
    error: asError(row.error),
    workerId: row.workerId,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
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
    error: null,
    workerId: row.runWorkerId ?? '',
    startedAt: row.runStartedAt!,
    finishedAt: null,
  };
}

/** A stage row (raw SQL, snake_case) a statement just queued, as the agent job needs it. */
export function toDispatched(row: { id: string | null; key: string | null; agent: string | null; retry_attempts: number | null; retry_backoff: unknown }): DispatchedStage {
  return { id: row.id!, key: row.key!, agent: row.agent!, retry: retrySchema.parse({ attempts: row.retry_attempts, backoff: row.retry_backoff }) };
}
