// Workers online per queue, read from Redis CLIENT LIST through BullMQ's getWorkers(): the one
// source of /health/ready's and /health/detailed's `workers`. A read may reuse the last one when
// it is young enough (readiness polls often; each getWorkers is a CLIENT LIST of every
// connection), and reads that overlap share one round.
import type { Queue } from 'bullmq';

export interface WorkersOnline {
  /** Counts per name; `maxAgeMs` > 0 accepts a count read that recently (default 0: read now). */
  read(maxAgeMs?: number): Promise<Record<string, number>>;
}

export interface WorkersOnlineOptions {
  /** Each name with the queue whose workers it counts (`conductor` → the control queue, agent types → theirs). */
  queues: readonly (readonly [string, Pick<Queue, 'getWorkers'>])[];
  /** Runs before each read (the API passes assertRedisReady: Redis down fails at once). */
  failFast?: () => void;
  now?: () => number;
}

export function createWorkersOnline({ queues, failFast = () => undefined, now = Date.now }: WorkersOnlineOptions): WorkersOnline {
  let last: { at: number; counts: Record<string, number> } | undefined;
  let inFlight: Promise<Record<string, number>> | undefined;
  const readNow = async () => {
    failFast();
    const lists = await Promise.all(queues.map(([, queue]) => queue.getWorkers()));
    // A Redis without the CLIENT command makes BullMQ invent one worker (no `rawname`): an error, not a count.
    if (lists.some((clients) => clients.some((client) => client.rawname === undefined))) {
      throw new Error('this Redis refuses CLIENT LIST: workers cannot be counted');
    }
    const counts = Object.fromEntries(queues.map(([name], i) => [name, lists[i]!.length]));
    last = { at: now(), counts };
    return counts;
  };
  return {
    async read(maxAgeMs = 0) {
      if (last && now() - last.at < maxAgeMs) return last.counts;
      inFlight ??= readNow().finally(() => (inFlight = undefined));
      return inFlight;
    },
  };
}
