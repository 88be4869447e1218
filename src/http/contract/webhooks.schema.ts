// The public shape of failed webhook deliveries (GET /api/v1/webhooks/failed) and of their
// redelivery, the request schemas of those routes, and the mapping from the service's results.
import { z } from 'zod';
import type { FailedDeliveryItem, RedeliverAllReport } from '../../services/webhook-delivery.service.js';
import { isoDate, toIso } from './common.schema.js';
import { noActorField } from './decisions.schema.js';

/** At most this many deliveries per list page and per bulk redelivery. */
export const REDELIVER_ALL_MAX = 1000;

/** A delivery's job id: `<event id>-<index of the URL in WEBHOOK_URLS>` (webhookJobId). */
export const deliveryJobIdSchema = z
  .string()
  .regex(/^[1-9]\d{0,18}-\d{1,6}$/, 'a delivery id: <event id>-<receiver index>, as GET /webhooks/failed lists it');
export const deliveryJobIdParams = z.object({ jobId: deliveryJobIdSchema });

export const webhookRequestSchemas = {
  listQuery: z.object({ limit: z.coerce.number().int().min(1).max(REDELIVER_ALL_MAX).default(100) }).strict(),
  retryBody: z.object({ actor: noActorField }).strict(),
  retryAllBody: z.object({ limit: z.number().int().min(1).max(REDELIVER_ALL_MAX).optional(), actor: noActorField }).strict(),
};

export const failedDeliverySchema = z
  .object({
    jobId: z.string(),
    eventId: z.string().nullable(),
    urlIndex: z.number().int().nullable(),
    receiver: z.string().nullable().meta({ description: "The receiver's origin only (a path or query may hold a token)." }),
    attemptsMade: z.number().int(),
    failedReason: z.string(),
    failedAt: isoDate,
    refused: z.boolean().meta({ description: 'The worker refused the job (nothing was sent): a redelivery is refused again.' }),
  })
  .meta({ id: 'FailedWebhookDelivery' });

export const failedDeliveryPageSchema = z
  .object({ items: z.array(failedDeliverySchema), total: z.number().int() })
  .meta({ id: 'FailedWebhookDeliveries' });

export const redeliverAllReportSchema = z
  .object({
    matched: z.number().int(),
    redelivered: z.array(z.string()),
    skipped: z.array(z.object({ jobId: z.string(), reason: z.enum(['refused', 'not_failed', 'missing']) })),
  })
  .meta({ id: 'WebhookRedeliveryReport' });

export const toFailedDeliveryBody = (d: FailedDeliveryItem): z.input<typeof failedDeliverySchema> => ({
  jobId: d.jobId,
  eventId: d.eventId,
  urlIndex: d.urlIndex,
  receiver: d.receiver,
  attemptsMade: d.attemptsMade,
  failedReason: d.failedReason,
  failedAt: toIso(d.failedAt),
  refused: d.refused,
});

export const toFailedDeliveryPageBody = (page: {
  items: FailedDeliveryItem[];
  total: number;
}): z.input<typeof failedDeliveryPageSchema> => ({
  items: page.items.map(toFailedDeliveryBody),
  total: page.total,
});

export const toRedeliverAllReportBody = (r: RedeliverAllReport): z.input<typeof redeliverAllReportSchema> => ({
  matched: r.matched,
  redelivered: r.redelivered,
  skipped: r.skipped.map((s) => ({ jobId: s.jobId, reason: s.reason })),
});
