// Redis memory as the load and soak phases see it: INFO memory's used_memory (the whole server,
// sampled during a phase for its peak), and what the bench's prefix holds, by key family, so a
// family that grows is named.
import type { Redis } from 'ioredis';
import { keysUnder, memoryUnder } from '../test/support/redis-keys.js';

/** INFO memory's used_memory: bytes the server allocated, for every client of a shared Redis. */
export async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN);
}

export interface UsedMemorySpan {
  before: number;
  peak: number;
  after: number;
}

/** Samples used_memory every `everyMs` from now until stop() (which takes the `after` reading). */
export async function sampleUsedMemory(redis: Redis, everyMs = 500): Promise<{ stop(): Promise<UsedMemorySpan> }> {
  const before = await usedMemory(redis);
  let peak = before;
  let reading: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    reading = usedMemory(redis).then(
      (bytes) => void (peak = Math.max(peak, bytes)),
      () => undefined,
    );
  }, everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await reading;
      const after = await usedMemory(redis);
      return { before, peak: Math.max(peak, after), after };
    },
  };
}

/**
 * A key's family: its name under the prefix with ids made generic (`control:*`, `agent.noop:*:logs`),
 * so that job hashes of one queue count as one family.
 */
export function keyFamily(prefix: string, key: string): string {
  return key
    .slice(prefix.length + 1)
    .split(':')
    .map((part) => (/^[0-9a-f-]{8,}$|^\d+$|^repeat-|^[0-9a-f]{6,}$/i.test(part) ? '*' : part))
    .join(':');
}

export interface PrefixSnapshot {
  /** INFO used_memory of the whole server. */
  usedMemory: number;
  /** MEMORY USAGE summed over the prefix's keys. */
  bytes: number;
  keys: number;
  /** Keys per family, sorted by family, of the keys without an expiry. */
  families: Record<string, number>;
  /** Keys with an expiry (BullMQ's limiter and stalled-check keys, deduplication keys): they come and go with the clock. */
  expiring: number;
}

export async function snapshotPrefix(redis: Redis, prefix: string): Promise<PrefixSnapshot> {
  const [memory, keys, used] = await Promise.all([memoryUnder(redis, prefix), keysUnder(redis, prefix), usedMemory(redis)]);
  const ttls = keys.length > 0 ? ((await redis.pipeline(keys.map((key) => ['pttl', key])).exec()) ?? []) : [];
  const counts = new Map<string, number>();
  let expiring = 0;
  for (const [i, key] of keys.entries()) {
    // -1: no expiry; -2: gone since the SCAN; >= 0: expiring.
    const ttl = ttls[i]?.[1];
    if (ttl === -2) continue;
    if (ttl !== -1) {
      expiring++;
      continue;
    }
    const family = keyFamily(prefix, key);
    counts.set(family, (counts.get(family) ?? 0) + 1);
  }
  const families = Object.fromEntries([...counts].sort(([a], [b]) => a.localeCompare(b)));
  return { usedMemory: used, bytes: memory.bytes, keys: memory.keys, families, expiring };
}

/** The families whose key count differs between two snapshots: `family before → after`. */
export function familyChanges(before: PrefixSnapshot, after: PrefixSnapshot): string[] {
  const names = new Set([...Object.keys(before.families), ...Object.keys(after.families)]);
  return [...names]
    .sort()
    .filter((name) => (before.families[name] ?? 0) !== (after.families[name] ?? 0))
    .map((name) => `${name} ${before.families[name] ?? 0} → ${after.families[name] ?? 0}`);
}
