// Webhooks in a worker process: the relay (pipeline_events → delivery jobs) and the delivery
// worker, which share one event reader and the WEBHOOK_URLS list (jobs carry only an event id
// and a URL index; the worker resolves both). Does nothing when WEBHOOK_URLS is empty.
// The `platform.webhooks` switch (when `flags` are given) pauses both while it is off: the relay
// stops reading and keeps its stored cursor (events accumulate in Postgres), and deliveries
// already queued stay in the queue, unsent and with their attempts, until it is on again.
import type { RedisClient } from '../infra/queue/redis-connection.js';
import type { Config } from '../config.js';
import type { Database } from '../infra/db/database.js';
import { createEventReader } from '../infra/events/event.repository.js';
import type { Logger } from '../infra/telemetry/logger.js';
import { closeInOrder } from '../lifecycle/close-in-order.js';
import { createWebhookQueue } from '../infra/webhooks/webhook.queue.js';
import type { QueueRetention } from '../infra/queue/retention.js';
import { createWebhookRelay } from '../infra/webhooks/webhook-relay.js';
import { createWebhookWorker } from '../jobs/webhook.worker.js';
import { followSwitch } from '../jobs/switch-hold.js';
import type { FeatureFlags } from '../services/flags.ports.js';
import { platformSwitchOn, watchSwitches } from '../services/flag-switches.js';
import { PLATFORM_SWITCHES } from '../domain/feature-flags.js';

export interface WebhookRuntimeOptions {
  /** A worker connection (maxRetriesPerRequest: null); it stays open: its owner quits it. */
  connection: RedisClient;
  prefix: string;
  db: Database;
  /** WEBHOOK_SECRET_PREVIOUS may be left out (no rotation under way). */
  config: Pick<Config, 'WEBHOOK_URLS' | 'WEBHOOK_SECRET' | 'WEBHOOK_ATTEMPTS' | 'EVENTS_POLL_MS'> &
    Partial<Pick<Config, 'WEBHOOK_SECRET_PREVIOUS'>>;
  logger: Logger;
  /** BullMQ worker name (default "webhooks"). */
  workerName?: string;
  /** First retry delay, doubling per attempt (default 1 s; tests make it small). */
  backoffDelayMs?: number;
  /** Per-request timeout (default 10 s). */
  requestTimeoutMs?: number;
  /** event_cursors row (default "webhooks"). */
  cursorName?: string;
  /** Wait for a missing event id before moving past it (default 2 s). */
  gapTimeoutMs?: number;
  /** The process's feature flags, for the `platform.webhooks` switch (absent: always on). */
  flags?: FeatureFlags;
  /** How long a delivery fetched while the switch is off goes back for (default 1 s; the worker runtime uses UNLEASH_REFRESH_MS). */
  switchHoldMs?: number;
  /** How long finished deliveries stay in Redis (the worker runtime passes the Retention variables). */
  retention?: QueueRetention;
}

export interface WebhookRuntime {
  start(): Promise<void>;
  close(): Promise<void>;
}

export function createWebhookRuntime(options: WebhookRuntimeOptions): WebhookRuntime {
  const { connection, prefix, db, config, logger } = options;
  // In order: a URL's index is in its delivery jobs' data and ids.
  const urls = config.WEBHOOK_URLS;
  if (urls.length === 0) return { start: async () => undefined, close: async () => undefined };

  const queue = createWebhookQueue(connection, prefix, {
    attempts: config.WEBHOOK_ATTEMPTS,
    backoffDelayMs: options.backoffDelayMs,
    retention: options.retention,
  });
  const reader = createEventReader(db, logger);
  const relay = createWebhookRelay({
    db,
    reader,
    queue,
    urls,
    logger,
    pollMs: config.EVENTS_POLL_MS,
    gapTimeoutMs: options.gapTimeoutMs,
    cursorName: options.cursorName,
  });
  const flags = options.flags;
  const enabled = () => (flags ? platformSwitchOn(flags, 'webhooks') : true);
  const worker = createWebhookWorker({
    connection,
    prefix,
    secret: config.WEBHOOK_SECRET,
    previousSecret: config.WEBHOOK_SECRET_PREVIOUS,
    urls,
    reader,
    logger,
    workerName: options.workerName ?? 'webhooks',
    requestTimeoutMs: options.requestTimeoutMs,
    enabled,
    holdMs: options.switchHoldMs,
  });
  const deliveries = followSwitch(worker, (error) => logger.warn('webhook worker pause or resume failed', { error: error.message }));
  /** Follows the switch: relay and delivery worker paused while it is off. */
  const apply = async (on: boolean) => {
    try {
      await Promise.all([on ? relay.resume() : relay.pause(), deliveries.set(on)]);
    } catch (error) {
      logger.warn('webhook switch could not be applied', { on, error: (error as Error).message });
    }
  };
  let stopWatching: (() => void) | undefined;
  let closing: Promise<void> | undefined;

  return {
    async start() {
      const onAtStart = enabled();
      if (!onAtStart) {
        logger.info('webhooks switched off by flag', { flag: PLATFORM_SWITCHES.webhooks.name });
        await apply(false);
      }
      worker.run().catch((error: Error) => logger.error('webhook worker stopped unexpectedly', { error: error.message }));
      await worker.waitUntilReady();
      await relay.start();
      if (!flags) return;
      stopWatching = watchSwitches(flags, ['webhooks'] as const, enabled, (_switch, on) => {
        logger.info(on ? 'webhooks switched on' : 'webhooks switched off by flag', { flag: PLATFORM_SWITCHES.webhooks.name });
        void apply(on);
      });
      // A change while starting: the watcher starts from the state it reads now.
      if (enabled() !== onAtStart) void apply(enabled());
    },
    close() {
      stopWatching?.();
      closing ??= closeInOrder([() => relay.close(), () => worker.close(), () => queue.close()], (error) =>
        logger.warn('webhook close step failed', { error: error.message }),
      );
      return closing;
    },
  };
}
