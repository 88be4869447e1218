// The webhook delivery job (zod-validated on the way in) and the JSON body receivers get.
// A job names an outbox event and a configured receiver by id and index only: the worker loads
// the event from Postgres and the URL from WEBHOOK_URLS, so whoever can write to the queue
// (Redis, a writable Bull Board) cannot get a forged body signed or sent to another address.
import { z } from 'zod';
import { EVENT_TYPES, type PipelineEvent } from '../../domain/events.js';
import { jsonObjectSchema } from '../../domain/json.js';

export const WEBHOOK_DELIVERY_JOB = 'deliver';

/** Starts the failedReason of a job the delivery worker refused (nothing sent; a redelivery is refused again). */
export const WEBHOOK_JOB_REFUSED = 'webhook job refused';

/** What a receiver gets as the request body. */
export const webhookBodySchema = z.object({
  id: z.string().regex(/^\d{1,19}$/),
  type: z.enum(EVENT_TYPES),
  pipelineId: z.uuid(),
  stageKey: z.string().nullable(),
  actor: z.string(),
  data: jsonObjectSchema,
  createdAt: z.iso.datetime(),
});
export type WebhookBody = z.infer<typeof webhookBodySchema>;

/** The largest Postgres bigint: a larger id cannot name an event (and would make the query throw). */
const MAX_EVENT_ID = 9223372036854775807n;

export const webhookJobSchema = z.strictObject({
  /** Envelope version. v1 jobs carried the URL and the body; they are refused, not upcast. */
  v: z.literal(2),
  /** The pipeline_events id to send (decimal, as ids travel). */
  eventId: z
    .string()
    .regex(/^[1-9]\d{0,18}$/, { abort: true })
    .refine((id) => BigInt(id) <= MAX_EVENT_ID, 'beyond the bigint range'),
  /** Position of the receiver in WEBHOOK_URLS. Neither the URL nor the secret is in the job. */
  urlIndex: z.number().int().min(0),
});
export type WebhookJob = z.infer<typeof webhookJobSchema>;

/** The job id of the delivery of `eventId` to the URL at `urlIndex` (not an integer, no ":"). */
export function webhookJobId(eventId: string, urlIndex: number): string {
  return `${eventId}-${urlIndex}`;
}

/** The body of an event as receivers get it (and as it is signed). */
export function toWebhookBody(event: PipelineEvent): WebhookBody {
  return {
    id: event.id,
    type: event.type,
    pipelineId: event.pipelineId,
    stageKey: event.stageKey,
    actor: event.actor,
    data: event.data,
    createdAt: event.createdAt.toISOString(),
  };
}
