// The reconciler's BullMQ job scheduler on the control queue (and, built the same way by
// createControlScheduler, the priority aging's). Its id is fixed, so the upserts
// of every replica are one scheduler per deployment. Each worker process upserts it at start and
// again every interval: a FLUSHALL deletes the scheduler with everything else, and the next
// upsert brings it back. An upsert of an existing scheduler keeps its next run where it was.
import { Queue } from 'bullmq';
import type { RedisClient } from './redis-connection.js';
import type { Logger } from '../telemetry/logger.js';
import type { ReconcileJob } from './job-payloads.js';
import { CONTROL_QUEUE, RECONCILE_JOB } from './queue-names.js';
import { bullmqTelemetry } from '../telemetry/bullmq-telemetry.js';
import { DEFAULT_QUEUE_RETENTION, finishedJobOptions, retentionQueueOptions, type QueueRetention } from './retention.js';

/** One scheduler per deployment: every replica upserts this same id. */
export const RECONCILER_SCHEDULER_ID = 'reconciler';
/** The aging passes' scheduler (PRIORITY_AGING_MS), one per deployment. */
export const PRIORITY_AGING_SCHEDULER_ID = 'priority-aging';

export interface ReconcileSchedulerOptions {
  connection: RedisClient;
  prefix: string;
  /** RECONCILE_EVERY_MS: how often a pass runs, and how often this process re-upserts. */
  everyMs: number;
  logger: Logger;
  /** The control queue's retention (the Retention variables): its jobs share the finished sets. */
  retention?: QueueRetention;
}

export interface ReconcileScheduler {
  queue: Queue<ReconcileJob>;
  /** Creates the scheduler, or leaves an existing one's schedule as it is. */
  upsert(): Promise<void>;
  /** Upserts now, then every `everyMs` (an unref'd timer) until close(). */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Creates the reconciler scheduler's producer; nothing is written until start() or upsert(). */
export function createReconcileScheduler(options: ReconcileSchedulerOptions): ReconcileScheduler {
  return createControlScheduler({ ...options, schedulerId: RECONCILER_SCHEDULER_ID, jobName: RECONCILE_JOB, what: 'reconciler' });
}

/** A control-queue job scheduler of data-less passes: `schedulerId` names it, `jobName` its jobs. */
export function createControlScheduler({
  connection,
  prefix,
  everyMs,
  logger,
  retention = DEFAULT_QUEUE_RETENTION,
  schedulerId,
  jobName,
  what,
}: ReconcileSchedulerOptions & { schedulerId: string; jobName: string; what: string }): ReconcileScheduler {
  const queue = new Queue<ReconcileJob>(CONTROL_QUEUE, {
    connection,
    prefix,
    telemetry: bullmqTelemetry(),
    ...retentionQueueOptions(retention),
  });
  // The connection's own listener already logs Redis errors (throttled).
  queue.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  let closing: Promise<void> | undefined;

  async function upsert(): Promise<void> {
    await queue.upsertJobScheduler(
      schedulerId,
      // A new scheduler runs its first pass one interval from now, not at once: a deployment
      // that boots does not need a pass before its producers have had a chance to add jobs.
      { every: everyMs, startDate: Date.now() + everyMs },
      {
        name: jobName,
        data: {},
        // A failed pass is not retried: the next one comes within an interval. Kept as the
        // control queue's other jobs are: the finished sets are shared, and the smallest rule wins.
        opts: { attempts: 1, ...finishedJobOptions(retention) },
      },
    );
  }

  const upsertLogged = () =>
    upsert().catch((error: Error) =>
      logger.warn(`could not upsert the ${what} scheduler; trying again next interval`, { error: error.message }),
    );

  return {
    queue,
    upsert,
    async start() {
      await upsertLogged();
      timer ??= setInterval(() => void upsertLogged(), everyMs);
      timer.unref();
    },
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        await queue.close();
      })();
      return closing;
    },
  };
}
