// The dead-letter queue over BullMQ: the failed sets of the agent queues (`removeOnFail: false`
// keeps every finally failed stage job there). Reads are bounded: at most DLQ_SCAN_CAP jobs
// per agent queue, the newest ones.
import type { Job, Queue } from 'bullmq';
import { UnavailableError } from '../../domain/errors.js';
import type { DeadLetter, DeadLetterQueue } from '../../services/dlq.ports.js';
import { stageJobSchema, type StageJob } from './job-payloads.js';

/** The newest failed jobs read from each agent queue per scan (GET /dlq and bulk replays). */
export const DLQ_SCAN_CAP = 1000;

/** The code of a failedReason the agent worker did not write (`<code>: <message>`). */
export const UNCODED_FAILURE = 'JOB_FAILED';

// The agent worker fails a job with UnrecoverableError(`${code}: ${message}`); a code is one
// word. Other failures (stalled too often, lock lost) have no code.
const CODED_REASON = /^([A-Za-z][\w.-]{0,99}): ([\s\S]*)$/;

/** Splits a failedReason into the stage error's code and message. */
export function parseFailedReason(reason: string | undefined): { code: string; message: string } {
  const match = CODED_REASON.exec(reason ?? '');
  return match ? { code: match[1]!, message: match[2]! } : { code: UNCODED_FAILURE, message: reason ?? '' };
}

export interface DeadLettersOptions {
  /** Agent type → its queue (the agent types this process knows). */
  queues: ReadonlyMap<string, Queue<StageJob>>;
  /** Runs before each call (the API passes assertRedisReady, so an outage answers 503 at once). */
  failFast?: () => void;
  /** Jobs read per queue by `scan` (default DLQ_SCAN_CAP). */
  scanCap?: number;
}

function toDeadLetter(agent: string, job: Job<StageJob>): DeadLetter {
  const data = stageJobSchema.safeParse(job.data);
  return {
    jobId: job.id!,
    agent,
    pipelineId: data.success ? data.data.pipelineId : null,
    stageId: data.success ? data.data.stageId : null,
    stageKey: data.success ? data.data.stageKey : null,
    error: parseFailedReason(job.failedReason),
    attemptsMade: job.attemptsMade,
    failedAt: new Date(job.finishedOn ?? job.timestamp),
  };
}

/** Newest first; the job id breaks ties so that the order, and a cursor over it, is total. */
export function newestFirst(a: DeadLetter, b: DeadLetter): number {
  return b.failedAt.getTime() - a.failedAt.getTime() || (a.jobId < b.jobId ? 1 : a.jobId > b.jobId ? -1 : 0);
}

export function createDeadLetters({
  queues,
  failFast: assertReady = () => undefined,
  scanCap = DLQ_SCAN_CAP,
}: DeadLettersOptions): DeadLetterQueue {
  const failFast = () => {
    try {
      assertReady();
    } catch {
      throw new UnavailableError('DEPENDENCY_UNAVAILABLE', 'Redis is unreachable; retry shortly.');
    }
  };
  const queueOf = (agent: string) => {
    const queue = queues.get(agent);
    if (!queue) throw new Error(`no queue for agent type "${agent}"`);
    return queue;
  };
  const jobOf = async (dead: DeadLetter) => (await queueOf(dead.agent).getJob(dead.jobId)) as Job<StageJob> | undefined;

  return {
    async scan({ agent }) {
      failFast();
      const selected = agent === undefined ? [...queues] : [[agent, queueOf(agent)] as const];
      const perQueue = await Promise.all(
        selected.map(async ([type, queue]) => {
          // The failed set is ordered by finish time: from the top, the newest first.
          const [jobs, count] = await Promise.all([queue.getJobs(['failed'], 0, scanCap - 1, false), queue.getFailedCount()]);
          return {
            jobs: (jobs as Job<StageJob>[]).filter((job) => job?.id).map((job) => toDeadLetter(type, job)),
            truncated: count > scanCap,
          };
        }),
      );
      return {
        jobs: perQueue.flatMap((q) => q.jobs).sort(newestFirst),
        perQueueCap: scanCap,
        truncated: perQueue.some((q) => q.truncated),
      };
    },

    async find(jobId) {
      failFast();
      // Job ids are stage ids (UUIDs), so at most one queue has it: ask them all at once.
      const found = await Promise.all(
        [...queues].map(async ([type, queue]) => {
          const job = (await queue.getJob(jobId)) as Job<StageJob> | undefined;
          return job ? { job: toDeadLetter(type, job), state: await job.getState() } : null;
        }),
      );
      return found.find((f) => f !== null) ?? null;
    },

    async retry(dead) {
      failFast();
      const job = await jobOf(dead);
      if (!job) return 'missing';
      try {
        // Atomic: only a job still in the failed set moves. The attempt counters start again,
        // so the stage gets its retry.attempts once more (BullMQ keeps them unless told).
        await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        return 'retried';
      } catch (error) {
        const state = await job.getState();
        if (state === 'unknown') return 'missing';
        if (state !== 'failed') return 'present';
        throw error;
      }
    },

    async remove(dead) {
      failFast();
      const job = await jobOf(dead);
      if (!job) return 'missing';
      if ((await job.getState()) !== 'failed') return 'not_failed';
      // Not atomic with the check: a replay that retries the job in between loses it (its stage
      // stays queued without a job until a reconciler adds one). A failed job holds no lock.
      await job.remove();
      return 'removed';
    },
  };
}
