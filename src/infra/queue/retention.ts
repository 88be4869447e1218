// How long finished jobs stay in Redis, as BullMQ options: one QueueRetention (from the Retention
// variables) for every queue. BullMQ trims a finished set whenever a job lands in it, with that
// job's own keep rule, so every producer of a queue must carry the same rule or the smallest wins.
// Likewise every Queue instance writes its events-stream cap into the queue's meta hash when it
// is created (HSET, last writer wins): a Queue built without these options resets it to 10,000.
import type { DefaultJobOptions, KeepJobs, QueueOptions } from 'bullmq';
import type { Config } from '../../config.js';

/** How many finished jobs of one kind a queue keeps, and for how long (both must hold). */
export interface KeepRule {
  /** `0`: the job's keys are deleted the moment it finishes. */
  count: number;
  ageSeconds: number;
}

export interface QueueRetention {
  completed: KeepRule;
  failed: KeepRule;
  /** Approximate length of the queue's events stream (`streams.events.maxLen`). */
  eventsMaxLen: number;
}

/**
 * The Retention variables' defaults, for queues a test builds without a config
 * (test/unit/queue-retention.test.ts keeps the two equal).
 */
export const DEFAULT_QUEUE_RETENTION: QueueRetention = {
  completed: { count: 1000, ageSeconds: 24 * 3600 },
  failed: { count: 10_000, ageSeconds: 14 * 24 * 3600 },
  eventsMaxLen: 1000,
};

type RetentionConfig = Pick<
  Config,
  'COMPLETED_JOBS_KEEP' | 'COMPLETED_JOBS_MAX_AGE' | 'FAILED_JOBS_KEEP' | 'FAILED_JOBS_MAX_AGE' | 'QUEUE_EVENTS_MAX_LEN'
>;

/** BullMQ counts ages in whole seconds; a configured age below one second still keeps a job one second. */
const seconds = (ms: number) => Math.max(1, Math.round(ms / 1000));

export function queueRetentionFrom(config: RetentionConfig): QueueRetention {
  return {
    completed: { count: config.COMPLETED_JOBS_KEEP, ageSeconds: seconds(config.COMPLETED_JOBS_MAX_AGE) },
    failed: { count: config.FAILED_JOBS_KEEP, ageSeconds: seconds(config.FAILED_JOBS_MAX_AGE) },
    eventsMaxLen: config.QUEUE_EVENTS_MAX_LEN,
  };
}

/**
 * BullMQ's KeepJobs for a rule. With `count: 0` BullMQ deletes the job's keys (hash, logs) at
 * once and never adds it to the finished set; otherwise it adds it, then removes what is older
 * than `age` (at most 1000 per finish) and what is beyond `count`.
 */
export function keepJobs(rule: KeepRule): KeepJobs {
  return { count: rule.count, age: rule.ageSeconds };
}

/** The removeOnComplete / removeOnFail pair of a job (or of a queue's defaultJobOptions). */
export function finishedJobOptions(retention: QueueRetention): Pick<DefaultJobOptions, 'removeOnComplete' | 'removeOnFail'> {
  return { removeOnComplete: keepJobs(retention.completed), removeOnFail: keepJobs(retention.failed) };
}

/** Queue options every Queue instance of the platform carries: the events cap and the keep rules as defaults. */
export function retentionQueueOptions(retention: QueueRetention): Pick<QueueOptions, 'streams'> & {
  defaultJobOptions: Pick<DefaultJobOptions, 'removeOnComplete' | 'removeOnFail'>;
} {
  return { streams: { events: { maxLen: retention.eventsMaxLen } }, defaultJobOptions: finishedJobOptions(retention) };
}
