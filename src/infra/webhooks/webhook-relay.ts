// The webhook outbox reader, run in worker processes: follows pipeline_events in id order
// (through an always-polling event feed and its gap tracker) from the cursor stored in
// event_cursors, adds a delivery job per webhook event and URL (holding only the event id and
// the URL's index; the delivery worker loads both again), then moves the stored cursor
// forward. Several processes may relay at once: their duplicate adds are no-ops (same job id)
// and the cursor only ever moves forward (GREATEST). Nothing here waits on a receiver.
// Paused (the `platform.webhooks` switch off), it reads nothing and its stored cursor stays put:
// events accumulate in Postgres, and resume() reads on from the stored cursor, in id order.
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
  /** Reads the stored cursor (storing the newest id on the first start ever) and, unless paused, follows the events. */
  start(): Promise<void>;
  /**
   * Stops following: events read but not yet handed to the queue are dropped, to be read again
   * from the stored cursor by resume(). Before start(): start() only positions the cursor.
   */
  pause(): Promise<void>;
  /** Follows the events again from the stored cursor (a failed read of it is retried every pollMs). */
  resume(): Promise<void>;
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
  let started = false;
  let paused = false;
  // Pause, resume and close apply one at a time, in call order.
  let changing: Promise<void> = Promise.resolve();
  let retry: NodeJS.Timeout | undefined;

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

  /** The stored cursor; on the first start ever (no row) the newest id, stored: webhooks start with the events written from now on. */
  async function readCursor(): Promise<string> {
    const { rows } = await db.pool.query<{ last_id: string }>({ name: 'event_cursor_read', text: READ_CURSOR_SQL, values: [cursorName] });
    if (rows[0]) return (stored = rows[0].last_id);
    const startAfter = await reader.maxId();
    await storeCursor(startAfter);
    return startAfter;
  }

  async function follow(startAfter: string): Promise<void> {
    pending = [];
    feed = createEventFeed({ reader, pollMs, gapTimeoutMs: options.gapTimeoutMs, logger, startAfter, alwaysPoll: true });
    unsubscribe = feed.subscribe((event) => {
      if (WEBHOOK_EVENT_TYPES.has(event.type)) pending.push(event);
    });
    await feed.start();
    timer = setInterval(() => void flush(), pollMs);
    timer.unref();
  }

  /** Stops reading; `handOver`: the events read are added first (close), else dropped (pause). */
  async function unfollow(handOver: boolean): Promise<void> {
    if (timer) clearInterval(timer);
    timer = undefined;
    await feed?.close();
    unsubscribe?.();
    unsubscribe = undefined;
    await flushing;
    if (feed && handOver) await flush();
    pending = [];
    feed = undefined;
  }

  /** Resumes from the stored cursor; a failed read (Postgres away) is tried again every pollMs until it works or the relay pauses. */
  async function resumeFromStored(): Promise<void> {
    if (retry) clearTimeout(retry);
    retry = undefined;
    if (closing || paused || feed) return;
    try {
      const after = await readCursor();
      await follow(after);
      logger.info('webhook relay resumed', { after });
    } catch (error) {
      logger.warn('webhook relay could not resume; retrying', { error: (error as Error).message });
      retry = setTimeout(() => void change(resumeFromStored), pollMs);
      retry.unref();
    }
  }

  function change(step: () => Promise<void>): Promise<void> {
    changing = changing.then(step, step);
    return changing;
  }

  return {
    async start() {
      const startAfter = await readCursor();
      started = true;
      if (paused) {
        logger.info('webhook relay paused at start: events accumulate until it resumes', { after: startAfter });
        return;
      }
      await follow(startAfter);
      logger.info('webhook relay started', { after: startAfter, receivers: urls.length });
    },
    pause() {
      return change(async () => {
        if (paused) return;
        paused = true;
        if (retry) clearTimeout(retry);
        retry = undefined;
        if (!feed) return;
        await unfollow(false);
        logger.info('webhook relay paused: events accumulate from the stored cursor', { after: stored });
      });
    },
    resume() {
      return change(async () => {
        if (!paused) return;
        paused = false;
        if (started) await resumeFromStored();
      });
    },
    close() {
      closing ??= (async () => {
        if (retry) clearTimeout(retry);
        // Hand over what was read; anything left is read again after a restart.
        await change(() => unfollow(true));
      })();
      return closing;
    },
  };
}
