// Producer of webhook deliveries: one job per (event, URL) with job id `<eventId>-<url index>`,
// so adding an event again while its job is kept is a no-op (several relays may add it). A job
// holds only `{ v: 2, eventId, urlIndex }`: the worker reads the event and the URL itself.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { PipelineEvent } from '../../domain/events.js';
import { WEBHOOK_QUEUE } from '../queue/queue-names.js';
import { WEBHOOK_DELIVERY_JOB, webhookJobId, type WebhookJob } from './webhook-payloads.js';
import { bullmqTelemetry } from '../telemetry/bullmq-telemetry.js';

/** Completed deliveries are kept this long, which is also how long a re-add stays a no-op. */
const KEEP_COMPLETED_SECONDS = 7 * 24 * 3600;

export interface WebhookQueueOptions {
  /** Attempts per delivery (WEBHOOK_ATTEMPTS). */
  attempts: number;
  /** First retry delay; doubles each attempt, with jitter (default 1 s). */
  backoffDelayMs?: number;
}

export interface WebhookQueue {
  queue: Queue<WebhookJob>;
  /** Adds a delivery of each event to each URL (index = position in `urls`; only the index is queued). */
  enqueue(events: readonly PipelineEvent[], urls: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

export { webhookJobId };

export function createWebhookQueue(connection: Redis, prefix: string, options: WebhookQueueOptions): WebhookQueue {
  const queue = new Queue<WebhookJob>(WEBHOOK_QUEUE, {
    connection,
    prefix,
    telemetry: bullmqTelemetry(),
    defaultJobOptions: {
      attempts: options.attempts,
      backoff: { type: 'exponential', delay: options.backoffDelayMs ?? 1000, jitter: 0.5 },
      removeOnComplete: { age: KEEP_COMPLETED_SECONDS },
      // Failed deliveries stay inspectable (and re-adding them stays a no-op).
      removeOnFail: false,
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
