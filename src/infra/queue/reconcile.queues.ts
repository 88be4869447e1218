// The reconciler's view of Redis: where each job is, read as one MULTI per queue and batch (a
// consistent snapshot, so a job moving from wait to active is seen in one of them), and the
// repairs of single jobs (retry a failed one, remove a finished or orphaned one so its id can
// be added again). Only ids, never payloads, cross this module.
import { Job, type Queue } from 'bullmq';
import type { RedisClient } from './redis-connection.js';
import type { JobPresence, ReconcileJobRef, ReconcileQueues } from '../../services/reconcile.ports.js';
import { agentQueueName } from './queue-names.js';

/** Wait and paused lists longer than this are searched with LPOS per job instead of read whole. */
const LIST_SNAPSHOT_MAX = 100_000;

/** The id control.queue.ts gives a decision's deadline job (one per decision and deadline). */
export function deadlineJobId(decisionId: string, deadlineAt: Date): string {
  return `deadline-${decisionId}-${deadlineAt.getTime()}`;
}

export interface ReconcileQueuesOptions {
  connection: RedisClient;
  /** The agent queues of every agent type the deployment knows. */
  agentQueues: readonly Queue[];
  /** The control queue (deadline jobs). */
  controlQueue: Queue;
}

type Reply = [Error | null, unknown];

/** Creates the Redis side of the reconciler. */
export function createReconcileQueues({ connection, agentQueues, controlQueue }: ReconcileQueuesOptions): ReconcileQueues {
  const byName = new Map(agentQueues.map((q) => [q.name, q]));
  const target = (ref: ReconcileJobRef): { queue: Queue | undefined; jobId: string } =>
    ref.kind === 'stage'
      ? { queue: byName.get(agentQueueName(ref.agent)), jobId: ref.jobId }
      : { queue: controlQueue, jobId: deadlineJobId(ref.decisionId, ref.deadlineAt) };

  /** One snapshot of the states of `jobIds` in `queue`. */
  async function presenceIn(queue: Queue, jobIds: readonly string[]): Promise<JobPresence[]> {
    const k = queue.keys;
    const multi = connection.multi();
    multi.lrange(k.active, 0, -1);
    multi.llen(k.wait).lrange(k.wait, 0, LIST_SNAPSHOT_MAX - 1);
    multi.llen(k.paused).lrange(k.paused, 0, LIST_SNAPSHOT_MAX - 1);
    for (const id of jobIds) {
      multi.exists(queue.toKey(id));
      // A hash without its payload: BullMQ's moveToActive of an id whose hash was deleted writes
      // a few fields into a new hash and hands out a job with no data (the worker fails it).
      multi.hexists(queue.toKey(id), 'data');
      for (const set of ['completed', 'failed', 'delayed', 'prioritized', 'waiting-children']) multi.zscore(k[set], id);
    }
    const replies = ((await multi.exec()) ?? []) as Reply[];
    const failed = replies.find(([error]) => error);
    if (failed) throw failed[0]!;
    const value = (i: number) => replies[i]![1];
    const active = new Set(value(0) as string[]);
    const waitComplete = (value(1) as number) <= LIST_SNAPSHOT_MAX;
    const pausedComplete = (value(3) as number) <= LIST_SNAPSHOT_MAX;
    const queued = new Set([...(value(2) as string[]), ...(value(4) as string[])]);

    const states = jobIds.map((id, n): JobPresence | 'unsure' => {
      const base = 5 + n * 7;
      if (value(base) === 0) return 'missing';
      // Whatever list it is in, running it or retrying it would run nothing: replaced from Postgres.
      if (value(base + 1) === 0) return 'orphaned';
      if (value(base + 2) !== null) return 'completed';
      if (value(base + 3) !== null) return 'failed';
      if (value(base + 4) !== null || value(base + 5) !== null || value(base + 6) !== null) return 'live';
      if (active.has(id) || queued.has(id)) return 'live';
      // A job hash in no list: nothing would ever run it (a partial deletion of the keys).
      return waitComplete && pausedComplete ? 'orphaned' : 'unsure';
    });
    const unsure = states.flatMap((s, n) => (s === 'unsure' ? [n] : []));
    if (unsure.length > 0) {
      const lookups = connection.pipeline();
      for (const n of unsure) lookups.lpos(k.wait, jobIds[n]!).lpos(k.paused, jobIds[n]!);
      const found = ((await lookups.exec()) ?? []) as Reply[];
      unsure.forEach((n, i) => {
        states[n] = found[2 * i]![1] !== null || found[2 * i + 1]![1] !== null ? 'live' : 'orphaned';
      });
    }
    return states as JobPresence[];
  }

  return {
    async presence(refs) {
      const result: JobPresence[] = new Array<JobPresence>(refs.length).fill('unknown');
      const groups = new Map<Queue, number[]>();
      refs.forEach((ref, n) => {
        const { queue } = target(ref);
        if (!queue) return;
        const group = groups.get(queue);
        if (group) group.push(n);
        else groups.set(queue, [n]);
      });
      for (const [queue, indexes] of groups) {
        const states = await presenceIn(
          queue,
          indexes.map((n) => target(refs[n]!).jobId),
        );
        indexes.forEach((n, i) => (result[n] = states[i]!));
      }
      return result;
    },

    async retry(ref) {
      const { queue, jobId } = target(ref);
      const job = queue ? await Job.fromId(queue, jobId) : undefined;
      if (!job || !queue) return false;
      try {
        // A fresh set of attempts: Postgres says the stage is to run, and the runner counts
        // attempts from the job.
        await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        return true;
      } catch (error) {
        // Someone else (a DLQ replay, another pass) retried it first.
        if ((await queue.getJobState(jobId)) !== 'failed') return false;
        throw error;
      }
    },

    async remove(ref) {
      const { queue, jobId } = target(ref);
      // 0 when a worker holds the job's lock: it is live after all, and stays.
      return queue ? (await queue.remove(jobId)) === 1 : false;
    },
  };
}
