// What a queue prefix holds in Redis, read with plain commands (a BullMQ Queue built here would
// rewrite the queue's meta hash): the keys, the job hashes among them, the jobs still to run, and
// the memory they use. For the retention test and the bench's retention phase. One server or a
// cluster: SCAN walks every master; the prefix's hash tag keeps each pipeline of commands in one slot.
import { redisMasters, type RedisClient } from '../../src/infra/queue/redis-connection.js';

/** Every key under `prefix` (SCAN, so a busy shared Redis is not blocked; on each master of a cluster). */
export async function keysUnder(redis: RedisClient, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  // Once a command went through, a cluster knows its masters: none is missed while it connects.
  await redis.ping();
  for (const server of redisMasters(redis)) {
    let cursor = '0';
    do {
      const [next, batch] = await server.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
  }
  return keys;
}

/** The keys of job hashes under `prefix` whose job name is one of `names` (a job hash has `name`, `data`, `opts`). */
export async function jobHashesUnder(redis: RedisClient, prefix: string, names: readonly string[]): Promise<string[]> {
  const keys = await keysUnder(redis, prefix);
  if (keys.length === 0) return [];
  const types = (await redis.pipeline(keys.map((key) => ['type', key])).exec()) ?? [];
  const hashes = keys.filter((_, i) => types[i]?.[1] === 'hash');
  if (hashes.length === 0) return [];
  const fields = (await redis.pipeline(hashes.map((key) => ['hmget', key, 'name', 'data', 'opts'])).exec()) ?? [];
  return hashes.filter((_, i) => {
    const [name, data, opts] = (fields[i]?.[1] ?? []) as Array<string | null>;
    return name !== null && name !== undefined && names.includes(name) && data !== null && opts !== null;
  });
}

/** Jobs of `queue` still to run or running (wait, active, paused, prioritized, delayed), job schedulers' next runs left out. */
export async function liveJobs(redis: RedisClient, prefix: string, queue: string): Promise<number> {
  const key = (name: string) => `${prefix}:${queue}:${name}`;
  const [wait, active, paused, prioritized, delayed] = await Promise.all([
    redis.llen(key('wait')),
    redis.llen(key('active')),
    redis.llen(key('paused')),
    redis.zcard(key('prioritized')),
    redis.zrange(key('delayed'), '0', '-1'),
  ]);
  return wait + active + paused + prioritized + delayed.filter((id) => !id.startsWith('repeat:')).length;
}

/** Members of a queue's completed and failed sets. */
export async function finishedSetSizes(redis: RedisClient, prefix: string, queue: string): Promise<{ completed: number; failed: number }> {
  const [completed, failed] = await Promise.all([redis.zcard(`${prefix}:${queue}:completed`), redis.zcard(`${prefix}:${queue}:failed`)]);
  return { completed, failed };
}

/** Keys under `prefix` and the bytes Redis reports for them (MEMORY USAGE … SAMPLES 0: every element counted). */
export async function memoryUnder(redis: RedisClient, prefix: string): Promise<{ keys: number; bytes: number }> {
  const keys = await keysUnder(redis, prefix);
  let bytes = 0;
  for (let i = 0; i < keys.length; i += 500) {
    const batch = keys.slice(i, i + 500);
    const replies = (await redis.pipeline(batch.map((key) => ['memory', 'usage', key, 'SAMPLES', '0'])).exec()) ?? [];
    // A key that expired between SCAN and MEMORY USAGE answers null.
    for (const [, value] of replies) bytes += typeof value === 'number' ? value : 0;
  }
  return { keys: keys.length, bytes };
}
