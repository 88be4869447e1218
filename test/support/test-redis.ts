// The run's Redis for tests: the one server of REDIS_URL (the machine's by default), or the
// 3-master cluster TEST_REDIS_CLUSTER=1 starts (test/support/root-hooks.ts). A test that names a
// Redis of its own (a private redis-server, a closed port) keeps that one server: the run's
// cluster seeds go only with the run's URL, in this process and in the processes tests spawn.
import { createRedisConnection, type RedisClient, type RedisRole, type RedisTarget } from '../../src/infra/queue/redis-connection.js';

/** The run's REDIS_URL, read when called: the root hooks set it once the cluster is up, after the test files were loaded. */
export function runRedisUrl(): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/** Remembers the one server the run started with (root hooks, before a cluster takes REDIS_URL's place). */
export function pinSingleServerRedis(): void {
  process.env.TEST_SINGLE_REDIS_URL ??= runRedisUrl();
}

/**
 * The machine's one Redis server, even under TEST_REDIS_CLUSTER=1: for the few tests that need a
 * single server by what they test (a TCP proxy in front of it; a cluster client would learn the
 * nodes' own addresses from CLUSTER SLOTS and go around the proxy). Each caller says why.
 */
export function singleServerRedisUrl(): string {
  return process.env.TEST_SINGLE_REDIS_URL ?? runRedisUrl();
}

/** The run's cluster seeds when `redisUrl` is the run's REDIS_URL; else none (one server). */
export function testClusterNodes(redisUrl: string = runRedisUrl()): string[] {
  const nodes = process.env.REDIS_CLUSTER_NODES;
  return nodes && redisUrl === process.env.REDIS_URL ? nodes.split(',') : [];
}

/** Where `redisUrl` is: the run's cluster when it is the run's URL, else that one server. */
export function testRedisTarget(redisUrl: string = runRedisUrl()): RedisTarget {
  return { url: redisUrl, clusterNodes: testClusterNodes(redisUrl) };
}

/**
 * A connection of the platform's kind (one server or a Cluster) to the run's Redis, or to
 * `target`; the caller disconnects it. Role `worker` by default: BullMQ Queues and Workers take it.
 */
export function openTestRedis(target: RedisTarget = testRedisTarget(), role: RedisRole = 'worker'): RedisClient {
  return createRedisConnection(target, role);
}

/**
 * The environment of a process a test starts: `env` over this process's. With a REDIS_URL of its
 * own the process gets no REDIS_CLUSTER_NODES, so it boots on that Redis, not on the run's cluster.
 */
export function childEnv(env: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const ownRedis = env.REDIS_URL !== undefined && env.REDIS_URL !== process.env.REDIS_URL;
  return { ...process.env, ...(ownRedis && env.REDIS_CLUSTER_NODES === undefined ? { REDIS_CLUSTER_NODES: '' } : {}), ...env };
}
