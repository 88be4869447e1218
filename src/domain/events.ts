// The pipeline event log's vocabulary: one list serves the SSE streams, the audit trail and
// the webhooks, so a new event type is declared once.
import type { JsonObject } from './json.js';

export const EVENT_TYPES = [
  'stage.started',
  /** data.status: succeeded | failed | retrying | cancelled | skipped | suspended */
  'stage.finished',
  /** Held by its paused pipeline (queued → paused): by the pause itself, or by the claim of its delivered job. */
  'stage.paused',
  'gate.evaluated',
  'decision.requested',
  /** One approver's answer when the category needs a quorum. */
  'decision.voted',
  'decision.escalated',
  /** data.status: approved | rejected | expired | cancelled */
  'decision.resolved',
  'clarification.requested',
  /** data.status: answered | cancelled */
  'clarification.resolved',
  'pipeline.finished',
  /** Paused by a person (POST /pipelines/:id/pause): data.reason, data.paused (the stage keys it held), before, after. */
  'pipeline.paused',
  /** Resumed by a person (POST /pipelines/:id/resume): data.resumed (the stage keys queued again), before, after. */
  'pipeline.resumed',
  /**
   * A dead-lettered stage job was replayed (POST /dlq/…/retry): data.mode reopened | resumed,
   * jobId, fingerprint, restored (stages put back to pending), before and after.
   */
  'dlq.replayed',
  /**
   * Re-run from a stage: the stage took over the output of data.fromStage of pipeline
   * data.fromPipeline (the re-run one) instead of running; written with the re-run's submission.
   */
  'stage.reused',
  /**
   * A stored row whose type or payload does not parse (domain/event-payloads.ts): data.storedType
   * and data.issues. Readers surface it instead of failing the stream; it is never written.
   */
  'unknown',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** What an operator audits: every verdict, decision, question and answer, with who and when. */
export const AUDIT_EVENT_TYPES: ReadonlySet<EventType> = new Set([
  'gate.evaluated',
  'decision.requested',
  'decision.voted',
  'decision.escalated',
  'decision.resolved',
  'clarification.requested',
  'clarification.resolved',
  // Who replayed a failed stage, and what that reopened.
  'dlq.replayed',
  // Who held a pipeline and who let it go on.
  'pipeline.paused',
  'pipeline.resumed',
  // Which outputs a re-run took over instead of running.
  'stage.reused',
]);

/** Sent to the configured webhook URLs. */
export const WEBHOOK_EVENT_TYPES: ReadonlySet<EventType> = new Set(['decision.requested', 'clarification.requested', 'pipeline.finished']);

export interface PipelineEvent {
  /** Increasing; a decimal string because it is a Postgres bigint (and the SSE `id:`). */
  id: string;
  pipelineId: string;
  type: EventType;
  stageKey: string | null;
  /** "system", "policy", or the person who answered. */
  actor: string;
  /** Event details; audit events carry `before` and `after` where a state changed. */
  data: JsonObject;
  createdAt: Date;
}
