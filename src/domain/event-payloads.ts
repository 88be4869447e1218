// The payload of each event type, as a zod schema: a discriminated union over `type`. Events
// built in TypeScript are checked with `eventData` before they are written; those built in SQL
// (jsonb_build_object in the hot-path statements) are checked by
// test/integration/lifecycle-agreement.test.ts, which parses every event the finish, apply-plan and
// cancel statements wrote; the others built in SQL (clarification, reconciler) are checked on read.
// Rows are parsed where they are read (src/infra/events/event.repository.ts): a row that does
// not parse is not dropped and does not crash a stream; it is surfaced as an `unknown` event
// carrying its stored type and the problems, and the reader logs it.
import { z } from 'zod';
import type { EventType, PipelineEvent } from './events.js';

const status = z.object({ status: z.string() });
const errorRecord = z.looseObject({ code: z.string(), message: z.string() });

/** Schemas are loose: a newer writer may add a field; an older reader keeps what it knows. */
export const EVENT_PAYLOADS = {
  'stage.started': z.looseObject({ attempt: z.number().int(), workerId: z.string() }),
  'stage.finished': z.looseObject({
    status: z.enum(['succeeded', 'failed', 'retrying', 'cancelled', 'skipped', 'suspended']),
    error: errorRecord.optional(),
    attempt: z.number().int().optional(),
  }),
  'stage.paused': z.looseObject({}),
  'gate.evaluated': z.looseObject({
    metric: z.string(),
    operator: z.string(),
    severity: z.string(),
    verdict: z.string(),
    attempt: z.number().int(),
  }),
  'decision.requested': z.looseObject({
    decisionId: z.string(),
    category: z.string(),
    confidence: z.number().nullable(),
    approvers: z.array(z.string()),
    deadlineAt: z.string(),
    after: status,
  }),
  'decision.voted': z.looseObject({
    decisionId: z.string(),
    verdict: z.enum(['approve', 'reject']),
    approvals: z.number().int(),
    quorum: z.number().int(),
  }),
  'decision.escalated': z.looseObject({
    decisionId: z.string(),
    approvers: z.array(z.string()),
    deadlineAt: z.string(),
    before: status,
    after: status,
  }),
  'decision.resolved': z.looseObject({
    decisionId: z.string(),
    status: z.enum(['approved', 'rejected', 'expired', 'cancelled']),
    before: status.optional(),
    after: status,
  }),
  'clarification.requested': z.looseObject({ clarificationId: z.string(), questions: z.array(z.unknown()), after: status }),
  'clarification.resolved': z.looseObject({
    clarificationId: z.string(),
    status: z.enum(['answered', 'cancelled']),
    before: status.optional(),
    after: status,
  }),
  'pipeline.finished': z.looseObject({ status: z.enum(['succeeded', 'failed', 'cancelled']), error: errorRecord.optional() }),
  'pipeline.paused': z.looseObject({
    reason: z.string().nullable(),
    paused: z.array(z.string()),
    before: z.looseObject({ paused: z.boolean() }),
    after: z.looseObject({ paused: z.boolean() }),
  }),
  'pipeline.resumed': z.looseObject({
    resumed: z.array(z.string()),
    before: z.looseObject({ paused: z.boolean() }),
    after: z.looseObject({ paused: z.boolean() }),
  }),
  'dlq.replayed': z.looseObject({
    jobId: z.string(),
    /** When the replayed job entered the failed set (absent on events written before it was kept). */
    failedAt: z.string().optional(),
    mode: z.enum(['reopened', 'resumed']),
    restored: z.array(z.string()),
    before: z.looseObject({}),
    after: z.looseObject({}),
  }),
  'stage.reused': z.looseObject({ fromPipeline: z.string(), fromStage: z.string() }),
  /** A stored row that did not parse: its stored type and what was wrong. */
  unknown: z.object({ storedType: z.string(), issues: z.array(z.string()) }),
} satisfies Record<EventType, z.ZodType>;

export type EventData<T extends EventType> = z.infer<(typeof EVENT_PAYLOADS)[T]>;

/** The payloads as one discriminated union (what a typed consumer switches on). */
export type TypedEvent = { [T in EventType]: { type: T; data: EventData<T> } }[EventType];

/** Checks a payload built in TypeScript before it is written; throws on a bug in the writer. */
export function eventData<T extends EventType>(type: T, data: EventData<T>): EventData<T> {
  return EVENT_PAYLOADS[type].parse(data) as EventData<T>;
}

export interface StoredEventRow {
  id: string;
  pipeline_id: string;
  type: string;
  stage_key: string | null;
  actor: string;
  data: unknown;
  created_at: Date;
}

/** A stored row as an event; one whose type or payload does not parse becomes `unknown`. */
export function parseEventRow(row: StoredEventRow): PipelineEvent {
  const base = { id: row.id, pipelineId: row.pipeline_id, stageKey: row.stage_key, actor: row.actor, createdAt: row.created_at };
  const schema = row.type !== 'unknown' && Object.hasOwn(EVENT_PAYLOADS, row.type) ? EVENT_PAYLOADS[row.type as EventType] : undefined;
  const parsed = schema?.safeParse(row.data ?? {});
  if (parsed?.success) return { ...base, type: row.type as EventType, data: parsed.data as PipelineEvent['data'] };
  const issues = parsed
    ? parsed.error.issues.map((i) => `${i.path.join('.') || '(data)'}: ${i.message}`)
    : [`unknown event type "${row.type}"`];
  return { ...base, type: 'unknown', data: { storedType: row.type, issues } };
}
