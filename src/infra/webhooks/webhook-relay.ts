// The webhook outbox reader, run in worker processes: follows pipeline_events in id order
// (through an always-polling event feed and its gap tracker) from the cursor stored in
// event_cursors, adds a delivery job per webhook event and URL (holding only the event id and
// the URL's index; the delivery worker loads both again), then moves the stored cursor
// forward. Several processes may relay at once: their duplicate adds are no-ops (same job id)
// and the cursor only ever moves forward (GREATEST). Nothing here waits on a receiver.
import { WEBHOOK_EVENT_TYPES, type PipelineEvent } from '../../domain/events.js';
import type { Database } from '../db/database.js';
import { createEventFeed, type EventFeed } from '../events/event-feed.js';
import type { EventReader } from '../events/event.repository.js';
import type { Logger } from '../telemetry/logger.js';
import type { WebhookQueue } from './webhook.queue.js';

export const DEFAULT_CURSOR_NAME = 'webhooks';

/** The stored cursor is written at least this often while events flow (it is also written after each add). */
const CURSOR_WRITE_INTERVAL_MS = 1000;

const READ_CURSOR_SQL = 'SELECT last_id::text AS last_id FROM event_cursors WHERE name = $1';
const ADVANCE_CURSOR_SQL = `
  INSERT INTO event_cursors (name, last_id) VALUES ($1, $2::bigint)
  ON CONFLICT (name) DO UPDATE SET last_id = GREATEST(event_cursors.last_id, EXCLUDED.last_id)`;

export interface WebhookRelayOptions {
  db: Pick<Database, 'pool'>;
  reader: Pick<EventReader, 'readAfter' | 'maxId' | 'maxSettledId'>;
  queue: Pick<WebhookQueue, 'enqueue'>;
  urls: readonly string[];
  logger: Logger;
  pollMs: number;
  /** Wait for a missing id before moving past it (default 2 s). */
  gapTimeoutMs?: number;
  /** event_cursors row (default "webhooks"). */
  cursorName?: string;
}

export interface WebhookRelay {
  start(): Promise<void>;
  close(): Promise<void>;
}

export function createWebhookRelay(options: WebhookRelayOptions): WebhookRelay {
  const { db, reader, queue, urls, logger, pollMs } = options;
  const cursorName = options.cursorName ?? DEFAULT_CURSOR_NAME;
  let feed: EventFeed | undefined;
  let unsubscribe: (() => void) | undefined;
  // Webhook events the feed handed over that are not in Redis yet.
  let pending: PipelineEvent[] = [];
  let stored = '0';
  let storedAt = 0;
  let flushing: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closing: Promise<void> | undefined;

  async function storeCursor(id: string): Promise<void> {
    await db.pool.query({ name: 'event_cursor_advance', text: ADVANCE_CURSOR_SQL, values: [cursorName, id] });
    stored = id;
    storedAt = Date.now();
  }

  // Everything at or below `upTo` was handed to the listener before it was read, so once the
  // batch is in Redis the stored cursor may move to it.
  async function flushOnce(): Promise<void> {
    const upTo = feed!.cursor();
    const batch = pending;
    pending = [];
    if (batch.length > 0) {
      try {
        await queue.enqueue(batch, urls);
      } catch (error) {
        pending = [...batch, ...pending];
        logger.warn('webhook relay could not add deliveries; retrying', { events: batch.length, error: (error as Error).message });
        return;
      }
    }
    if (upTo !== stored && (batch.length > 0 || Date.now() - storedAt >= CURSOR_WRITE_INTERVAL_MS)) {
      try {
        await storeCursor(upTo);
      } catch (error) {
        // The jobs are in; re-adding them after a restart is a no-op.
        logger.warn('webhook relay could not store its cursor', { error: (error as Error).message });
      }
    }
  }

  function flush(): Promise<void> {
    flushing ??= flushOnce().finally(() => {
      flushing = undefined;
    });
    return flushing;
  }

  return {
    async start() {
      const { rows } = await db.pool.query<{ last_id: string }>({ name: 'event_cursor_read', text: READ_CURSOR_SQL, values: [cursorName] });
      // First run: webhooks start with the events written from now on.
      const startAfter = rows[0]?.last_id ?? (await reader.maxId());
      if (!rows[0]) await storeCursor(startAfter);
      else stored = startAfter;
      feed = createEventFeed({ reader, pollMs, gapTimeoutMs: options.gapTimeoutMs, logger, startAfter, alwaysPoll: true });
      unsubscribe = feed.subscribe((event) => {
        if (WEBHOOK_EVENT_TYPES.has(event.type)) pending.push(event);
      });
      await feed.start();
      timer = setInterval(() => void flush(), pollMs);
      timer.unref();
      logger.info('webhook relay started', { after: startAfter, receivers: urls.length });
    },
    close() {
      closing ??= (async () => {
        if (timer) clearInterval(timer);
        await feed?.close();
        unsubscribe?.();
        // Hand over what was read; anything left is read again after a restart.
        await flushing;
        if (feed) await flush();
      })();
      return closing;
    },
  };
}
