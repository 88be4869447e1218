// The public shape of the event log as the API shows it: SSE frames (GET /events and
// /pipelines/:id/events, `data:` holds one event) and one pipeline's audit history, with their
// request schemas and the mapping from the domain's PipelineEvent.
import { z } from 'zod';
import { EVENT_TYPES, type PipelineEvent } from '../../domain/events.js';
import { cursorPage, isoDate, jsonObject, jsonValue, toIso, wholeNumberParam } from './common.schema.js';

export const EVENT_ID_PATTERN = /^\d{1,19}$/;

export const streamQuerySchema = z
  .object({
    types: z
      .string()
      .max(1000)
      .optional()
      .meta({ description: `Comma-separated event types (${EVENT_TYPES.join(', ')}).` }),
    lastEventId: z.string().max(40).optional().meta({ description: 'Resume after this event id (the Last-Event-ID header wins).' }),
  })
  .strict();

export const streamHeadersSchema = z.object({
  'last-event-id': z.string().optional().meta({ description: 'Resume after this event id (sent by EventSource on reconnect).' }),
});

export const auditQuerySchema = z
  .object({
    cursor: z.string().regex(EVENT_ID_PATTERN, 'not a cursor returned by this API').optional(),
    limit: wholeNumberParam(1, 500).default(100),
  })
  .strict();

/** The JSON in an SSE frame's `data:` line. */
export const pipelineEventSchema = z
  .object({
    id: z.string().meta({ description: 'Increasing decimal id; also the frame `id:`.' }),
    pipelineId: z.uuid(),
    type: z.enum(EVENT_TYPES),
    stageKey: z.string().nullable(),
    actor: z.string(),
    data: jsonObject,
    createdAt: isoDate,
  })
  .meta({ id: 'PipelineEvent' });

export const pipelineAuditEntrySchema = z
  .object({
    id: z.string(),
    type: z.enum(EVENT_TYPES),
    stageKey: z.string().nullable(),
    actor: z.string(),
    at: isoDate,
    before: jsonValue.nullable(),
    after: jsonValue.nullable(),
    data: jsonObject,
  })
  .meta({ id: 'PipelineAuditEntry' });

export const pipelineAuditPageSchema = cursorPage(pipelineAuditEntrySchema).meta({ id: 'PipelineAuditPage' });

export function toPipelineEventBody(e: PipelineEvent): z.input<typeof pipelineEventSchema> {
  return {
    id: e.id,
    pipelineId: e.pipelineId,
    type: e.type,
    stageKey: e.stageKey,
    actor: e.actor,
    data: e.data,
    createdAt: toIso(e.createdAt),
  };
}

export function toPipelineAuditEntryBody(e: PipelineEvent): z.input<typeof pipelineAuditEntrySchema> {
  return {
    id: e.id,
    type: e.type,
    stageKey: e.stageKey,
    actor: e.actor,
    at: toIso(e.createdAt),
    before: e.data.before ?? null,
    after: e.data.after ?? null,
    data: e.data,
  };
}
