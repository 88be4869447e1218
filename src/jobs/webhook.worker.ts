// BullMQ worker that POSTs one webhook delivery. A job holds only `{ v: 2, eventId, urlIndex }`:
// the worker loads the event from pipeline_events and the URL from the configured WEBHOOK_URLS,
// and signs what it loaded, so a job written straight into Redis (or through Bull Board) cannot
// get a forged body signed or sent to an address that is not configured. A job whose data does
// not parse (old v1 jobs included), whose id is not `<eventId>-<urlIndex>`, whose index is not a
// configured URL, or whose event is missing or not a webhook event is refused
// (UnrecoverableError) and sends nothing. Idempotent from our side (a retry sends the same
// X-Agentic-Delivery id; receivers dedupe on it). A receiver URL's userinfo is sent as Basic
// credentials (webhook-target.ts); logs name a receiver by its origin only. 2xx is delivered;
// 4xx other than 408 and 429 is final (UnrecoverableError); a network error, a timeout, 408,
// 429, 3xx, 5xx and a failed event read retry with the queue's exponential backoff. While the
// `platform.webhooks` switch is off (`enabled` false) a delivery is not sent: it goes back to the
// queue delayed by `holdMs`, without using an attempt.
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { RedisClient } from '../infra/queue/redis-connection.js';
import { WEBHOOK_EVENT_TYPES, type PipelineEvent } from '../domain/events.js';
import type { EventReader } from '../infra/events/event.repository.js';
import { WEBHOOK_QUEUE } from '../infra/queue/queue-names.js';
import type { Logger } from '../infra/telemetry/logger.js';
import { toWebhookBody, WEBHOOK_JOB_REFUSED, webhookJobId, webhookJobSchema, type WebhookJob } from '../infra/webhooks/webhook-payloads.js';
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signWebhook } from '../infra/webhooks/webhook-signature.js';
import { bullmqTelemetry } from '../infra/telemetry/bullmq-telemetry.js';
import { redactUrlsIn } from '../domain/redact.js';
import { webhookTarget } from '../infra/webhooks/webhook-target.js';
import { holdJob } from './switch-hold.js';

export interface WebhookWorkerOptions {
  connection: RedisClient;
  prefix: string;
  secret: string;
  /** WEBHOOK_SECRET_PREVIOUS: while set, each delivery is signed with it too (a second `v1`). */
  previousSecret?: string;
  logger: Logger;
  workerName: string;
  /** The configured receivers (WEBHOOK_URLS, in order): a job names one by its index. */
  urls: readonly string[];
  /** Where a job's event is loaded from. */
  reader: Pick<EventReader, 'readById'>;
  /** Deliveries in flight at once (default 10). */
  concurrency?: number;
  /** Per-request timeout (default 10 s). */
  requestTimeoutMs?: number;
  /** The `platform.webhooks` switch (absent: always on). */
  enabled?: () => boolean;
  /** How long a delivery fetched while the switch is off is put back for (default 1 s). */
  holdMs?: number;
}

/** What one delivery job sends. */
export interface WebhookDelivery {
  url: string;
  event: PipelineEvent;
  /** The JSON body, exactly as signed and sent. */
  body: string;
}

const RETRYABLE_CLIENT_ERRORS = new Set([408, 429]);
/** Starts the message of every refusal, so the failed listener can log it as one. */
const REFUSED = WEBHOOK_JOB_REFUSED;

function refuse(reason: string): UnrecoverableError {
  return new UnrecoverableError(`${REFUSED}: ${reason}`);
}

function originOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid url)';
  }
}

/**
 * Resolves a delivery job to the configured URL and the stored event it names. Throws an
 * UnrecoverableError (nothing is to be sent) when the data is not `{ v: 2, eventId, urlIndex }`,
 * the job id is not `<eventId>-<urlIndex>`, the index is not in `urls`, or the event does not
 * exist or is not a webhook event. A failed read throws the reader's error (the job retries).
 */
export async function resolveWebhookDelivery(
  job: Pick<Job, 'id' | 'data'>,
  urls: readonly string[],
  reader: Pick<EventReader, 'readById'>,
): Promise<WebhookDelivery> {
  const parsed = webhookJobSchema.safeParse(job.data);
  if (!parsed.success) {
    // Paths and zod's messages only: the data itself (a URL, say) is not repeated in logs.
    const issues = parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(data)'}: ${issue.message}`).join('; ');
    throw refuse(`data is not { v: 2, eventId, urlIndex } (${issues})`);
  }
  const { eventId, urlIndex } = parsed.data;
  // The id is what makes a re-add a no-op; one that does not match was not added by the relay.
  if (job.id !== webhookJobId(eventId, urlIndex)) throw refuse(`job id does not match its data (${webhookJobId(eventId, urlIndex)})`);
  const url = urls[urlIndex];
  if (url === undefined) throw refuse(`urlIndex ${urlIndex} is not a configured receiver (${urls.length} configured)`);
  const event = await reader.readById(eventId);
  if (!event) throw refuse(`event ${eventId} does not exist`);
  if (!WEBHOOK_EVENT_TYPES.has(event.type)) throw refuse(`event ${eventId} is a ${event.type} event, not a webhook event`);
  return { url, event, body: JSON.stringify(toWebhookBody(event)) };
}

/** The configured receiver a job's data names, if any (for logs: its origin only). */
function receiverOf(data: unknown, urls: readonly string[]): string | undefined {
  const index = (data as { urlIndex?: unknown } | null | undefined)?.urlIndex;
  return typeof index === 'number' && Number.isInteger(index) ? originOf(urls[index]) : undefined;
}

export function createWebhookWorker(options: WebhookWorkerOptions): Worker<WebhookJob> {
  const { connection, prefix, secret, logger, workerName, urls, reader, concurrency = 10, requestTimeoutMs = 10_000 } = options;
  const { enabled = () => true, holdMs = 1000, previousSecret = '' } = options;
  const worker = new Worker<WebhookJob>(
    WEBHOOK_QUEUE,
    async (job: Job<WebhookJob>, token?: string, signal?: AbortSignal) => {
      // Fetched before the local worker was paused, or by a process that has not seen the switch yet.
      if (!enabled()) throw await holdJob(job, token, holdMs);
      const { url, event, body } = await resolveWebhookDelivery(job, urls, reader);
      const target = webhookTarget(url);
      const timeout = AbortSignal.timeout(requestTimeoutMs);
      let response: globalThis.Response;
      try {
        response = await fetch(target.url, {
          method: 'POST',
          redirect: 'manual',
          signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
          headers: {
            'Content-Type': 'application/json',
            'User-Agent': 'agentic-sdlc-webhooks/1',
            [SIGNATURE_HEADER]: signWebhook(secret, Math.floor(Date.now() / 1000), body, previousSecret),
            [EVENT_HEADER]: event.type,
            [DELIVERY_HEADER]: event.id,
            ...(target.authorization ? { Authorization: target.authorization } : {}),
          },
          body,
        });
      } catch (error) {
        // fetch's own messages may repeat the URL (and its query token): the job's failed reason
        // is stored in Redis and shown on Bull Board, out of the logger's reach.
        const reason = timeout.aborted ? `no answer within ${requestTimeoutMs} ms` : redactUrlsIn((error as Error).message);
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
    const refused = error.message.startsWith(REFUSED);
    const final = refused || job.attemptsMade >= (job.opts.attempts ?? 1) || error.name === 'UnrecoverableError';
    const message = refused
      ? 'webhook job refused; nothing sent'
      : final
        ? 'webhook delivery failed for good'
        : 'webhook delivery failed; will retry';
    logger.warn(message, {
      jobId: job.id,
      // The configured receiver's origin only: a URL's path or query may carry a token. A
      // URL in the job's data is never read.
      receiver: receiverOf(job.data, urls),
      attempt: job.attemptsMade,
      error: error.message,
    });
  });
  return worker;
}
