// Failed webhook deliveries for operators (GET /api/v1/webhooks/failed and its retries, `sdlc
// webhooks`): list the deliveries that used their attempts or got a final answer, and redeliver
// one or all of them with BullMQ's own retry of the failed job. Nothing is re-read or re-signed
// here: the delivery worker loads the stored event and the configured receiver, as on any
// attempt. Each redelivery is audited (`webhook.redelivered`) under the operator's identity.
import type { Logger } from '../domain/logger.js';
import { ConflictError, NotFoundError } from '../domain/errors.js';
import type { Actor } from '../domain/identity.js';
import type { AuditLog } from './identity.ports.js';
import type { FailedDeliveries, FailedDelivery } from './webhook-delivery.ports.js';

/** Failed deliveries a bulk redelivery takes when the request sets no `limit`. */
export const REDELIVER_ALL_DEFAULT_LIMIT = 100;

export interface WebhookDeliveryServiceDeps {
  deliveries: FailedDeliveries;
  /** WEBHOOK_URLS as this process has it: a delivery's receiver is shown by its origin only. */
  urls: readonly string[];
  audit: Pick<AuditLog, 'record'>;
  logger: Logger;
}

export interface FailedDeliveryItem extends FailedDelivery {
  /** The receiver's origin (`https://hooks.example.com`): its path or query may hold a token. Null when this process does not have that URL. */
  receiver: string | null;
}

export interface RedeliverAllReport {
  /** Failed deliveries taken (the oldest, up to `limit`). */
  matched: number;
  redelivered: string[];
  skipped: { jobId: string; reason: 'refused' | 'not_failed' | 'missing' }[];
}

function originOf(url: string | undefined): string | null {
  if (url === undefined) return null;
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

export function createWebhookDeliveryService({ deliveries, urls, audit, logger }: WebhookDeliveryServiceDeps) {
  const withReceiver = (d: FailedDelivery): FailedDeliveryItem => ({
    ...d,
    receiver: d.urlIndex === null ? null : originOf(urls[d.urlIndex]),
  });

  /** Audits a redelivery that happened (Redis has moved the job: a row that cannot be written is an error in the log). */
  async function record(delivery: FailedDelivery, by: Actor): Promise<void> {
    try {
      await audit.record({
        action: 'webhook.redelivered',
        actor: by,
        targetType: 'webhook_delivery',
        targetId: delivery.jobId,
        data: {
          eventId: delivery.eventId,
          urlIndex: delivery.urlIndex,
          attemptsMade: delivery.attemptsMade,
          failedReason: delivery.failedReason,
        },
      });
    } catch (error) {
      logger.error('webhook redelivered but not audited', {
        jobId: delivery.jobId,
        actor: by.identity.id,
        error: (error as Error).message,
      });
    }
    logger.info('webhook delivery redelivered', { jobId: delivery.jobId, actor: by.identity.id });
  }

  return {
    async list(limit: number): Promise<{ items: FailedDeliveryItem[]; total: number }> {
      const { items, total } = await deliveries.scan({ limit });
      return { items: items.map(withReceiver), total };
    },

    /** Redelivers one failed delivery: 404 WEBHOOK_DELIVERY_NOT_FOUND, 409 WEBHOOK_DELIVERY_NOT_FAILED. */
    async redeliver(jobId: string, by: Actor): Promise<FailedDeliveryItem> {
      const outcome = await deliveries.redeliver(jobId);
      if (outcome.kind === 'missing') {
        throw new NotFoundError('WEBHOOK_DELIVERY_NOT_FOUND', `The webhooks queue has no delivery ${jobId}.`, {
          details: [{ field: 'jobId', message: 'no such delivery (never added, or removed by the retention)' }],
        });
      }
      if (outcome.kind === 'not_failed') {
        throw new ConflictError(
          'WEBHOOK_DELIVERY_NOT_FAILED',
          `Delivery ${jobId} is ${outcome.state}, not failed: only a failed delivery is redelivered` +
            (outcome.state === 'completed' ? ' (it was delivered: its receiver answered 2xx).' : '.'),
          { details: [{ field: 'jobId', message: `state is ${outcome.state}` }] },
        );
      }
      await record(outcome.delivery, by);
      return withReceiver(outcome.delivery);
    },

    /** Redelivers the oldest failed deliveries, up to `limit`; those the worker refused are skipped (they would be refused again). */
    async redeliverAll(limit: number, by: Actor): Promise<RedeliverAllReport> {
      const { items } = await deliveries.scan({ limit, oldest: true });
      const report: RedeliverAllReport = { matched: items.length, redelivered: [], skipped: [] };
      for (const item of items) {
        if (item.refused) {
          report.skipped.push({ jobId: item.jobId, reason: 'refused' });
          continue;
        }
        const outcome = await deliveries.redeliver(item.jobId);
        if (outcome.kind !== 'redelivered') {
          report.skipped.push({ jobId: item.jobId, reason: outcome.kind });
          continue;
        }
        await record(outcome.delivery, by);
        report.redelivered.push(item.jobId);
      }
      return report;
    },
  };
}

export type WebhookDeliveryService = ReturnType<typeof createWebhookDeliveryService>;
