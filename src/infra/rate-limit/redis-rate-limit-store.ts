// The rate limiters' store: rate-limit-redis on the API's own fail-fast producer connection, so
// every API replica counts in the same Redis keys (under QUEUE_PREFIX, removed with the rest; on a
// cluster they share its hash tag, and the scripts are loaded on every master).
import { Cluster } from 'ioredis';
import { redisMasters, type RedisClient } from '../queue/redis-connection.js';
import type { Options } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';

type ScriptName = 'increment' | 'get';

/**
 * rate-limit-redis 6 loads its Lua scripts once, in `init`, and keeps the promise: a load that
 * failed (Redis down at boot, which is every boot here since the producer connection refuses
 * commands until it is ready) is awaited again by every later call, so the limiter fails forever
 * even after Redis is back. Only NOSCRIPT makes the library load again. This store forgets a
 * failed load and loads again on the next call, so the limiter recovers by itself.
 */
export class RecoveringRedisStore extends RedisStore {
  private readonly failed = new Set<ScriptName>();

  override loadIncrementScript(key?: string): Promise<string> {
    return this.remember('increment', super.loadIncrementScript(key));
  }

  override loadGetScript(key?: string): Promise<string> {
    return this.remember('get', super.loadGetScript(key));
  }

  /** Never rejects: a failed load is retried by the first call that needs the script. */
  override async init(options: Options): Promise<void> {
    await super.init(options).catch(() => undefined);
  }

  override async increment(key: string) {
    if (this.failed.has('increment')) this.incrementScriptSha = this.loadIncrementScript(key);
    return super.increment(key);
  }

  /** Undefined for a key with no hits: ioredis answers the script's nil count with null, which the library reads as NaN hits. */
  override async get(key: string) {
    if (this.failed.has('get')) this.getScriptSha = this.loadGetScript(key);
    const info = await super.get(key);
    return info && Number.isFinite(info.totalHits) && info.totalHits > 0 ? info : undefined;
  }

  private remember(script: ScriptName, loading: Promise<string>): Promise<string> {
    // Cleared at once so that concurrent calls share this load instead of starting their own.
    this.failed.delete(script);
    loading.catch(() => this.failed.add(script));
    return loading;
  }
}

/**
 * One new store per call (express-rate-limit refuses a store shared by two limiters), its keys
 * under `<queuePrefix>:rl:<name>:`. Commands fail at once while Redis is down (the producer
 * connection has no offline queue), so a limiter that lets requests through does not hold them.
 */
export function redisRateLimitStores(redis: RedisClient, queuePrefix: string): (name: string) => RecoveringRedisStore {
  const sendCommand = (command: string, ...args: string[]) =>
    (redis instanceof Cluster && isScriptLoad(command, args)
      ? loadOnEveryMaster(redis, args)
      : redis.call(command, ...args)) as Promise<RedisReply>;
  return (name) => new RecoveringRedisStore({ prefix: `${queuePrefix}:rl:${name}:`, sendCommand });
}

const isScriptLoad = (command: string, args: readonly string[]) => command.toUpperCase() === 'SCRIPT' && args[0]?.toUpperCase() === 'LOAD';

/**
 * SCRIPT LOAD has no key, so a cluster sends it to any node, and the EVALSHA that follows (routed
 * by its key) finds NOSCRIPT on another: load the script on every master, answering its SHA.
 */
async function loadOnEveryMaster(cluster: Cluster, args: readonly string[]): Promise<unknown> {
  const masters = redisMasters(cluster);
  if (masters.length === 0) throw new Error('SCRIPT LOAD: no master of the Redis Cluster is connected');
  const shas = await Promise.all(masters.map((node) => node.call('SCRIPT', ...args)));
  return shas[0];
}
