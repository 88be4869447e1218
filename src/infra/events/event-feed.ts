// One poller per process over pipeline_events, fanned out to in-process subscribers in id
// order (the gap tracker holds ids that commit out of order). The API's feed polls only while
// someone is subscribed; the webhook relay's feed polls always. A failed read is logged and
// retried on the next tick: nothing escapes the timer.
import type { PipelineEvent } from '../../domain/events.js';
import type { Logger } from '../telemetry/logger.js';
import type { EventReader } from './event.repository.js';
import { createGapTracker, DEFAULT_GAP_TIMEOUT_MS, type GapTracker } from './gap-tracker.js';

export type EventListener = (event: PipelineEvent) => void;

export interface EventFeedOptions {
  reader: Pick<EventReader, 'readAfter' | 'maxSettledId'>;
  /** Pause between reads (EVENTS_POLL_MS). */
  pollMs: number;
  /** Wait for a missing id before moving past it (default 2 s). */
  gapTimeoutMs?: number;
  logger: Pick<Logger, 'warn' | 'debug'>;
  /**
   * Start after this id. Default: the newest id older than the gap timeout, so an insert in
   * flight when the feed starts is not skipped.
   */
  startAfter?: string;
  /** Poll even with no subscriber (the webhook relay). Default false: poll only while subscribed. */
  alwaysPoll?: boolean;
  /** Rows per read (default 1000). */
  batchSize?: number;
  /** Clock in ms (tests). */
  now?: () => number;
}

export interface EventFeed {
  /** Hears every event after the feed's cursor, in id order; `onClose` runs when the feed closes. */
  subscribe(listener: EventListener, options?: { onClose?: () => void }): () => void;
  /** The last id handed to subscribers: everything at or below it has been delivered. */
  cursor(): string;
  /** Resolves once the feed is positioned for the current subscribers (cursor() is then final). */
  ready(): Promise<void>;
  /** Enables polling (alwaysPoll: positions the feed first and throws if it cannot). */
  start(): Promise<void>;
  /** Stops polling and ends every subscription (their onClose). Idempotent. */
  close(): Promise<void>;
}

const MAX_PAGES_PER_TICK = 20;

interface Subscription {
  listener: EventListener;
  onClose?: () => void;
}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

/** Creates the feed; nothing is read before start(). */
export function createEventFeed(options: EventFeedOptions): EventFeed {
  const { reader, pollMs, logger, alwaysPoll = false, batchSize = 1000, now = Date.now } = options;
  const gapTimeoutMs = options.gapTimeoutMs ?? DEFAULT_GAP_TIMEOUT_MS;
  const subscriptions = new Set<Subscription>();
  let tracker: GapTracker<PipelineEvent> | undefined;
  // False while idle: the next active period starts by positioning the tracker again.
  let positioned = false;
  let started = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let tick: Promise<void> | undefined;
  let waiters: Waiter[] = [];
  let closing: Promise<void> | undefined;

  const active = () => started && !closed && (alwaysPoll || subscriptions.size > 0);

  function settleWaiters(error?: Error) {
    const pending = waiters;
    waiters = [];
    for (const w of pending) {
      if (error) w.reject(error);
      else w.resolve();
    }
  }

  async function position(): Promise<void> {
    let start: string;
    if (!tracker && options.startAfter !== undefined) {
      start = options.startAfter;
    } else {
      // After an idle spell, continue from where the feed stopped if that is recent, else jump
      // to the settled top rather than replay history nobody listens to.
      const settled = BigInt(await reader.maxSettledId(gapTimeoutMs));
      const previous = tracker ? BigInt(tracker.cursor()) : -1n;
      start = String(previous > settled ? previous : settled);
    }
    tracker = createGapTracker<PipelineEvent>({ after: start, gapTimeoutMs });
    positioned = true;
    settleWaiters();
  }

  function emit(events: readonly PipelineEvent[]) {
    for (const event of events) {
      for (const sub of [...subscriptions]) {
        try {
          sub.listener(event);
        } catch (error) {
          logger.warn('event listener failed', { eventId: event.id, error: (error as Error).message });
        }
      }
    }
  }

  async function poll(): Promise<void> {
    if (!positioned) await position();
    const t = tracker!;
    for (let page = 0; page < MAX_PAGES_PER_TICK; page++) {
      const before = t.cursor();
      const rows = await reader.readAfter(before, batchSize);
      const { ready, skipped } = t.offer(rows, now());
      if (skipped.length > 0) logger.debug('event ids never committed, moved past them', { ids: skipped });
      emit(ready);
      // A short page is the end of the log; a full page that moved nothing is held behind a gap.
      if (rows.length < batchSize || t.cursor() === before || !active()) break;
    }
  }

  function schedule(delayMs: number) {
    if (timer || tick || !active()) return;
    timer = setTimeout(runTick, delayMs);
    timer.unref();
  }

  function runTick() {
    timer = undefined;
    if (!active()) {
      positioned = false;
      return;
    }
    tick = poll()
      .catch((error: Error) => {
        logger.warn('event feed read failed; retrying', { error: error.message });
        if (!positioned) settleWaiters(error);
      })
      .finally(() => {
        tick = undefined;
        if (active()) schedule(pollMs);
        else positioned = false;
      });
  }

  return {
    subscribe(listener, opts = {}) {
      const sub: Subscription = { listener, onClose: opts.onClose };
      subscriptions.add(sub);
      schedule(0);
      return () => {
        subscriptions.delete(sub);
      };
    },
    cursor: () => (tracker ? tracker.cursor() : (options.startAfter ?? '0')),
    ready() {
      if (closed) return Promise.reject(new Error('the event feed is closed'));
      if (positioned && (tick || timer)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        waiters.push({ resolve, reject });
        schedule(0);
      });
    },
    async start() {
      if (started || closed) return;
      // The relay starts from a known cursor: a database it cannot reach fails its start.
      if (alwaysPoll) await position();
      started = true;
      schedule(0);
    },
    close() {
      closing ??= (async () => {
        closed = true;
        if (timer) clearTimeout(timer);
        timer = undefined;
        settleWaiters(new Error('the event feed is closed'));
        await tick;
        const subs = [...subscriptions];
        subscriptions.clear();
        for (const sub of subs) {
          try {
            sub.onClose?.();
          } catch (error) {
            logger.warn('event subscriber close failed', { error: (error as Error).message });
          }
        }
      })();
      return closing;
    },
  };
}
