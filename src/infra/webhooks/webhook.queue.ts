// Producer of webhook deliveries: one job per (event, URL) with job id `<eventId>-<url index>`,
// so adding an event again while its job is kept is a no-op (several relays may add it). A job
// holds only `{ v: 2, eventId, urlIndex }`: the worker reads the event and the URL itself.
import { Queue } from 'bullmq';
import type { RedisClient } from '../queue/redis-connection.js';
import type { PipelineEvent } from '../../domain/events.js';
import { WEBHOOK_QUEUE } from '../queue/queue-names.js';
import { WEBHOOK_DELIVERY_JOB, webhookJobId, type WebhookJob } from './webhook-payloads.js';
import { bullmqTelemetry } from '../telemetry/bullmq-telemetry.js';
import { DEFAULT_QUEUE_RETENTION, keepJobs, type QueueRetention } from '../queue/retention.js';

/**
 * A completed delivery is what makes another relay's add of it a no-op (every relay reads every
 * event): kept at least this long whatever the retention says, and never trimmed by count.
 */
export const WEBHOOK_DEDUP_SECONDS = 3600;

export interface WebhookQueueOptions {
  /** Attempts per delivery (WEBHOOK_ATTEMPTS). */
  attempts: number;
  /** First retry delay; doubles each attempt, with jitter (default 1 s). */
  backoffDelayMs?: number;
  /** How long finished deliveries stay (the Retention variables; completed ones at least WEBHOOK_DEDUP_SECONDS). */
  retention?: QueueRetention;
}

export interface WebhookQueue {
  queue: Queue<WebhookJob>;
  /** Adds a delivery of each event to each URL (index = position in `urls`; only the index is queued). */
  enqueue(events: readonly PipelineEvent[], urls: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

export { webhookJobId };

export function createWebhookQueue(connection: RedisClient, prefix: string, options: WebhookQueueOptions): WebhookQueue {
  const retention = options.retention ?? DEFAULT_QUEUE_RETENTION;
  const queue = new Queue<WebhookJob>(WEBHOOK_QUEUE, {
    connection,
    prefix,
    telemetry: bullmqTelemetry(),
    streams: { events: { maxLen: retention.eventsMaxLen } },
    defaultJobOptions: {
      attempts: options.attempts,
      backoff: { type: 'exponential', delay: options.backoffDelayMs ?? 1000, jitter: 0.5 },
      removeOnComplete: { age: Math.max(retention.completed.ageSeconds, WEBHOOK_DEDUP_SECONDS) },
      // Failed deliveries stay inspectable (and re-adding them a no-op) as long as failed jobs do.
      removeOnFail: keepJobs(retention.failed),
    },
  });
  // The connection's own listener logs Redis errors (throttled, see redis-connection.ts).
  queue.on('error', () => undefined);
  return {
    queue,
    async enqueue(events, urls) {
      const jobs = events.flatMap((event) =>
        urls.map((_url, urlIndex) => ({
          name: WEBHOOK_DELIVERY_JOB,
          data: { v: 2 as const, eventId: event.id, urlIndex } satisfies WebhookJob,
          opts: { jobId: webhookJobId(event.id, urlIndex) },
        })),
      );
      if (jobs.length > 0) await queue.addBulk(jobs);
    },
    close: () => queue.close(),
  };
}
