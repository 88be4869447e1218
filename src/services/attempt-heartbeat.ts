// The attempts this process runs, stamped in Postgres while they run: every `everyMs` one
// statement sets stages.run_heartbeat_at on the stages whose attempt this worker claimed and has
// not finished. It is what tells the reconciler that a running stage whose job Redis lost (a
// FLUSHALL, a failover) is still in a worker's hands: it leaves the stage alone while the stamp is
// fresh and adds its job again once it is older than the lock duration (reconcile.repository.ts).
// Being connected to Redis says less: a worker whose attempt ended without its finish recorded
// (the finish statement failed, and BullMQ's retry of the job was lost with the keys) is still
// connected, and would hold the stage for ever.
// Each stamp also reads back which of these attempts' pipelines were asked to cancel: a cancel
// travels by Redis pub/sub (cancel.bus.ts), which drops a message published while this process's
// subscriber reconnects, so a running handler learns of it here, within one interval, at worst.
import type { Logger } from '../domain/logger.js';

export interface AttemptHeartbeatRepository {
  /**
   * Stamps the stages among `stageIds` that are still running under `workerId`; answers the job
   * ids of those whose pipeline was asked to cancel.
   */
  beat(stageIds: readonly string[], workerId: string): Promise<{ cancelRequested: string[] }>;
}

export interface AttemptTracker {
  /** From a claim to the end of its attempt; returns the call that ends the tracking. */
  track(stageId: string): () => void;
}

export interface AttemptHeartbeat extends AttemptTracker {
  start(): void;
  /** Stops the timer and waits for a stamp in flight. */
  close(): Promise<void>;
  /** One stamp now (the timer's; tests call it directly). */
  beatNow(): Promise<void>;
}

export interface AttemptHeartbeatDeps {
  repo: AttemptHeartbeatRepository;
  workerId: string;
  /** How often: a third of LOCK_DURATION_MS, so that two stamps can be missed before the reconciler acts. */
  everyMs: number;
  logger: Logger;
  /** Aborts these jobs' attempts as a cancel message would (absent: nothing is aborted). */
  onCancelRequested?: (jobIds: string[]) => void;
}

export function createAttemptHeartbeat({ repo, workerId, everyMs, logger, onCancelRequested }: AttemptHeartbeatDeps): AttemptHeartbeat {
  // A stage id may be tracked twice at once (a re-delivery claimed while the first run winds down).
  const running = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;

  async function beatNow(): Promise<void> {
    if (inFlight || running.size === 0) return inFlight;
    inFlight = repo
      .beat([...running.keys()], workerId)
      .then(({ cancelRequested }) => {
        if (cancelRequested.length > 0) onCancelRequested?.(cancelRequested);
      })
      .catch((error: unknown) =>
        logger.warn('attempt heartbeat failed; the next one tries again', {
          stages: running.size,
          error: error instanceof Error ? error.message : String(error),
        }),
      )
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  }

  return {
    track(stageId) {
      running.set(stageId, (running.get(stageId) ?? 0) + 1);
      let done = false;
      return () => {
        if (done) return;
        done = true;
        const left = (running.get(stageId) ?? 1) - 1;
        if (left > 0) running.set(stageId, left);
        else running.delete(stageId);
      };
    },
    start() {
      timer ??= setInterval(() => void beatNow(), everyMs).unref();
    },
    async close() {
      clearInterval(timer);
      timer = undefined;
      await inFlight;
    },
    beatNow,
  };
}
