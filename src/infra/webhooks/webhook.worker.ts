// BullMQ worker that POSTs one webhook delivery. Idempotent from our side (a retry sends the
// same X-Agentic-Delivery id; receivers dedupe on it). 2xx is delivered; 4xx other than 408 and
// 429 is final (UnrecoverableError); a network error, a timeout, 408, 429, 3xx and 5xx retry
// with the queue's exponential backoff.
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { WEBHOOK_QUEUE } from '../queue/queue-names.js';
import type { Logger } from '../telemetry/logger.js';
import { webhookJobSchema, type WebhookJob } from './webhook-payloads.js';
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signWebhook } from './webhook-signature.js';
import { bullmqTelemetry } from '../telemetry/bullmq-telemetry.js';

export interface WebhookWorkerOptions {
  connection: Redis;
  prefix: string;
  secret: string;
  logger: Logger;
  workerName: string;
  /** Deliveries in flight at once (default 10). */
  concurrency?: number;
  /** Per-request timeout (default 10 s). */
  requestTimeoutMs?: number;
}

const RETRYABLE_CLIENT_ERRORS = new Set([408, 429]);

function originOf(url: unknown): string {
  try {
    return new URL(String(url)).origin;
  } catch {
    return '(invalid url)';
  }
}

export function createWebhookWorker(options: WebhookWorkerOptions): Worker<WebhookJob> {
  const { connection, prefix, secret, logger, workerName, concurrency = 10, requestTimeoutMs = 10_000 } = options;
  const worker = new Worker<WebhookJob>(
    WEBHOOK_QUEUE,
    async (job: Job<WebhookJob>, _token?: string, signal?: AbortSignal) => {
      const parsed = webhookJobSchema.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError(`malformed webhook job: ${parsed.error.message}`);
      const { url, event } = parsed.data;
      const body = JSON.stringify(event);
      const timeout = AbortSignal.timeout(requestTimeoutMs);
      let response: globalThis.Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          redirect: 'manual',
          signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
          headers: {
            'Content-Type': 'application/json',
            'User-Agent': 'agentic-sdlc-webhooks/1',
            [SIGNATURE_HEADER]: signWebhook(secret, Math.floor(Date.now() / 1000), body),
            [EVENT_HEADER]: event.type,
            [DELIVERY_HEADER]: event.id,
          },
          body,
        });
      } catch (error) {
        const reason = timeout.aborted ? `no answer within ${requestTimeoutMs} ms` : (error as Error).message;
        throw new Error(`webhook POST failed: ${reason}`, { cause: error });
      }
      // The answer's body is not used: release the connection.
      await response.body?.cancel().catch(() => undefined);
      const { status } = response;
      if (status >= 200 && status < 300) return { status };
      const message = `webhook receiver answered ${status}`;
      if (status >= 400 && status < 500 && !RETRYABLE_CLIENT_ERRORS.has(status)) throw new UnrecoverableError(message);
      throw new Error(message);
    },
    { connection, prefix, telemetry: bullmqTelemetry(), concurrency, name: workerName, autorun: false },
  );
  worker.on('error', (error) => logger.warn('webhook worker error', { error: error.message }));
  worker.on('failed', (job, error) => {
    if (!job) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1) || error.name === 'UnrecoverableError';
    logger.warn(final ? 'webhook delivery failed for good' : 'webhook delivery failed; will retry', {
      jobId: job.id,
      // The origin only: a URL's path or query may carry a token.
      receiver: originOf(job.data?.url),
      attempt: job.attemptsMade,
      error: error.message,
    });
  });
  return worker;
}
