// Holding an agent queue on every worker process (its circuit breaker is open, Postgres is down):
// the queue's limiter key is set above any `max` for the hold, as BullMQ's `Queue.rateLimit` does,
// so every worker's fetch finds the queue rate-limited and waits; jobs stay in Redis and use no
// attempt. Unlike `Queue.rateLimit`, a hold never ends before what the key already held: the key is
// also the limiter's window counter (AGENT_LIMITS), and a hold that replaced a window and lapsed
// before that window's end would let a second `max` of starts into it; nor does a short hold (a
// Postgres blip) cut a breaker's long one short.
import type { Queue } from 'bullmq';
import type { RedisClient } from './redis-connection.js';

/**
 * KEYS[1] the queue's limiter key; ARGV[1] the hold in ms. Sets the key to 2^53 - 1 (what
 * `Queue.rateLimit` writes: over any limiter's `max`) for the longer of the hold and the key's
 * remaining time to live. Returns the hold applied, in ms.
 */
const HOLD_SCRIPT = `
local ms = tonumber(ARGV[1])
local left = redis.call('PTTL', KEYS[1])
if left > ms then ms = left end
redis.call('SET', KEYS[1], '9007199254740991', 'PX', ms)
return ms`;

/** Holds `queue` for at least `ms` on every worker process, through `redis` (the queue's own server); resolves to the hold applied (ms). */
export async function holdQueue(redis: Pick<RedisClient, 'eval'>, queue: Pick<Queue, 'keys'>, ms: number): Promise<number> {
  return Number(await redis.eval(HOLD_SCRIPT, 1, queue.keys.limiter, String(Math.max(1, Math.ceil(ms)))));
}
