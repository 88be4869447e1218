// The webhook delivery job (zod-validated on the way in) and the JSON body receivers get.
import { z } from 'zod';
import { EVENT_TYPES, type PipelineEvent } from '../../domain/events.js';
import { jsonObjectSchema } from '../../domain/json.js';

export const WEBHOOK_DELIVERY_JOB = 'deliver';

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

export const webhookJobSchema = z.object({
  /** Envelope version, so a worker can upcast what an older relay queued. */
  v: z.literal(1),
  /** The receiver. The signing secret is not in the job: the worker signs at send time. */
  url: z.url({ protocol: /^https?$/ }),
  event: webhookBodySchema,
});
export type WebhookJob = z.infer<typeof webhookJobSchema>;

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
