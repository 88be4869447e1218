// ioredis connections: producers fail fast when Redis is down (so the API can answer 503),
// workers retry forever (BullMQ requires maxRetriesPerRequest: null for them). One Redis, or a
// Redis Cluster (REDIS_CLUSTER_NODES) through an ioredis Cluster with the same promises.
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { UnavailableError } from '../../domain/errors.js';
import { parseClusterNode } from '../../domain/redis-cluster.js';

export type RedisRole = 'producer' | 'worker' | 'subscriber';

/** A connection to one Redis or to a Redis Cluster: BullMQ takes either, and so does every module here. */
export type RedisClient = Redis | Cluster;

/**
 * Where Redis is: `url` alone for one server; with `clusterNodes` (`host:port` seeds), a Redis
 * Cluster whose every node is reached with the user, password and TLS (`rediss:`) of `url`.
 */
export interface RedisTarget {
  url: string;
  clusterNodes?: readonly string[];
}

/** The target as given: a bare URL is one server. */
export function toRedisTarget(target: string | RedisTarget): RedisTarget {
  return typeof target === 'string' ? { url: target } : target;
}

export function isClusterTarget(target: RedisTarget): target is RedisTarget & { clusterNodes: readonly string[] } {
  return (target.clusterNodes?.length ?? 0) > 0;
}

/** The options every node of a cluster shares with a single-server connection: the URL's credentials and TLS. */
function nodeOptionsFromUrl(url: string): RedisOptions {
  const u = new URL(url);
  return {
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** The servers whose keys a connection holds: each master of a cluster (SCAN and SCRIPT LOAD go to every one), or the one server. */
export function redisMasters(redis: RedisClient): Redis[] {
  return redis instanceof Cluster ? redis.nodes('master') : [redis];
}

/**
 * A producer command that takes longer fails: a Redis that hangs (a frozen process, a
 * partition) otherwise holds HTTP requests until it answers. Not for workers, whose blocking
 * commands wait on purpose.
 */
export const PRODUCER_COMMAND_TIMEOUT_MS = 2000;

export interface RedisErrorSink {
  warn(message: string, meta?: Record<string, unknown>): void;
}

/**
 * Throws at once unless the connection is ready. BullMQ's producers wait for a connection that
 * never came up instead of failing, so HTTP paths call this first: the UnavailableError answers
 * 503 QUEUE_UNAVAILABLE with Retry-After wherever it surfaces.
 */
export function assertRedisReady(redis: RedisClient): void {
  if (redis.status !== 'ready')
    throw new UnavailableError('QUEUE_UNAVAILABLE', `The queue (Redis) is unreachable: its connection is ${redis.status}.`);
}

/**
 * Resolves true once the connection is ready (at once if it is); false after `timeoutMs`, or at
 * its first error or its end (Redis is down: waiting longer would not help). A Cluster is ready
 * only after CLUSTER SLOTS and its ready check, a longer way than one server's: the API waits here
 * before it listens, so its first requests do not meet a connection still coming up
 * (assertRedisReady would answer them 503).
 */
export function whenRedisReady(redis: RedisClient, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  if (redis.status === 'end') return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    const settle = (ready: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('end', onDown);
      redis.off('error', onDown);
      resolve(ready);
    };
    const onReady = () => settle(true);
    const onDown = () => settle(false);
    const timer = setTimeout(() => settle(false), timeoutMs);
    redis.on('ready', onReady);
    redis.on('end', onDown);
    redis.on('error', onDown);
  });
}

/**
 * Whether a connection is usable now: false from its first error or close until it is ready
 * again. A connection still coming up at boot counts as usable, so a process just started does
 * not refuse its first requests (if it is not up by the dispatch, assertRedisReady answers 503).
 */
export function watchRedisAvailability(redis: RedisClient): () => boolean {
  let down = false;
  redis.on('ready', () => (down = false));
  redis.on('error', () => (down = true));
  redis.on('close', () => (down = true));
  return () => !down;
}

/**
 * The CLIENT SETNAME of a connection: `agentic-sdlc:<role>`, then `:<owner>` when given (the
 * process's `<host>:<pid>`, or a worker runtime's id that starts with it), so CLIENT LIST tells
 * whose each connection is (docs/connections.md). Redis refuses spaces in a name.
 */
export function redisConnectionName(role: RedisRole, owner?: string): string {
  return owner ? `agentic-sdlc:${role}:${owner.replace(/[^\x21-\x7e]/g, '_')}` : `agentic-sdlc:${role}`;
}

/** Reconnect with a capped backoff; never give up. */
const reconnectDelay = (times: number) => Math.min(times * 200, 2000);

/** What a role promises, per connection (for a cluster: per node connection). */
function roleOptions(role: RedisRole, owner?: string): RedisOptions {
  return {
    maxRetriesPerRequest: role === 'producer' ? 1 : null,
    enableOfflineQueue: role !== 'producer',
    ...(role === 'producer' ? { commandTimeout: PRODUCER_COMMAND_TIMEOUT_MS } : {}),
    connectionName: redisConnectionName(role, owner),
  };
}

/**
 * The ioredis Cluster options of a role: the role's per-node options under `redisOptions` (where
 * BullMQ looks for `maxRetriesPerRequest: null`), the offline queue at the cluster level too (a
 * producer's command fails at once while the cluster is down), and the ready check (CLUSTER INFO
 * says `cluster_state:ok`) before `ready`.
 */
export function clusterOptions(url: string, role: RedisRole, owner?: string): ClusterOptions {
  const { enableOfflineQueue, ...perNode } = roleOptions(role, owner);
  return {
    enableOfflineQueue,
    enableReadyCheck: true,
    clusterRetryStrategy: reconnectDelay,
    redisOptions: { ...nodeOptionsFromUrl(url), ...perNode },
    // TLS certificates name the cluster's host names, and CLUSTER SLOTS answers with IPs.
    ...(new URL(url).protocol === 'rediss:' ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
  };
}

export function createRedisConnection(target: string | RedisTarget, role: RedisRole, log?: RedisErrorSink, owner?: string): RedisClient {
  const where = toRedisTarget(target);
  const redis: RedisClient = isClusterTarget(where)
    ? new Cluster(where.clusterNodes.map(parseClusterNode), clusterOptions(where.url, role, owner))
    : new Redis(where.url, { ...roleOptions(role, owner), retryStrategy: reconnectDelay });
  let lastLogged = 0;
  redis.on('error', (error: Error) => {
    // One line per 10 s: an outage must be visible without flooding the log.
    const now = Date.now();
    if (now - lastLogged > 10_000) {
      lastLogged = now;
      log?.warn('redis connection error', { role, error: error.message });
    }
  });
  return redis;
}
