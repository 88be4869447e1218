// Failed webhook deliveries over BullMQ: the failed set of the `webhooks` queue, read and
// redelivered with BullMQ's own retry of the job (same job id, same data: the delivery worker
// loads the stored event and the configured receiver again and signs it afresh). No second queue.
import type { Job, Queue } from 'bullmq';
import { UnavailableError } from '../../domain/errors.js';
import type { FailedDeliveries, FailedDelivery } from '../../services/webhook-delivery.ports.js';
import { WEBHOOK_JOB_REFUSED, webhookJobSchema, type WebhookJob } from './webhook-payloads.js';

export interface FailedDeliveriesOptions {
  queue: Queue<WebhookJob>;
  /** Runs before each call (the API passes assertRedisReady, so an outage answers 503 at once). */
  failFast?: () => void;
}

function toFailedDelivery(job: Job<WebhookJob>): FailedDelivery {
  const data = webhookJobSchema.safeParse(job.data);
  const failedReason = job.failedReason ?? '';
  return {
    jobId: job.id!,
    eventId: data.success ? data.data.eventId : null,
    urlIndex: data.success ? data.data.urlIndex : null,
    attemptsMade: job.attemptsMade,
    failedReason,
    failedAt: new Date(job.finishedOn ?? job.timestamp),
    refused: failedReason.startsWith(WEBHOOK_JOB_REFUSED),
  };
}

export function createFailedDeliveries({ queue, failFast: assertReady = () => undefined }: FailedDeliveriesOptions): FailedDeliveries {
  const failFast = () => {
    try {
      assertReady();
    } catch {
      throw new UnavailableError('DEPENDENCY_UNAVAILABLE', 'Redis is unreachable; retry shortly.');
    }
  };
  return {
    async scan({ limit, oldest = false }) {
      failFast();
      // The failed set is ordered by finish time; `asc` reads it from the oldest.
      const [jobs, total] = await Promise.all([queue.getJobs(['failed'], 0, limit - 1, oldest), queue.getFailedCount()]);
      return { items: (jobs as Job<WebhookJob>[]).filter((job) => job?.id).map(toFailedDelivery), total };
    },

    async redeliver(jobId) {
      failFast();
      const job = (await queue.getJob(jobId)) as Job<WebhookJob> | undefined;
      if (!job) return { kind: 'missing' };
      const delivery = toFailedDelivery(job);
      try {
        // Atomic: only a job still in the failed set moves, so a delivered one (completed) is never
        // sent again. Its attempts start again: WEBHOOK_ATTEMPTS more, with the usual backoff.
        await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        return { kind: 'redelivered', delivery };
      } catch (error) {
        const state = await job.getState();
        if (state === 'unknown') return { kind: 'missing' };
        if (state !== 'failed') return { kind: 'not_failed', state };
        throw error;
      }
    },
  };
}
