// The boot's look at a Redis Cluster (REDIS_CLUSTER_NODES): that its seeds answer and the cluster
// is whole (`cluster_state:ok`, which ioredis' ready check waits for), and what eviction policy
// each master runs, since BullMQ's keys can live on any of them.
import { Cluster } from 'ioredis';
import { BootError } from '../../domain/boot-error.js';
import { parseClusterNode } from '../../domain/redis-cluster.js';
import { clusterOptions, type RedisTarget } from '../queue/redis-connection.js';

/** How long the probe waits for the cluster to be ready (its seeds answer and CLUSTER INFO says ok). */
const PROBE_TIMEOUT_MS = 5000;

/** `seeds (REDIS_CLUSTER_NODES)`, for messages. */
export function clusterWhere(nodes: readonly string[]): string {
  return `${nodes.join(', ')} (REDIS_CLUSTER_NODES)`;
}

/**
 * Connects to the cluster through its seeds and reads `maxmemory-policy` on every master: the
 * first one that is not `noeviction` (with the master's address), else `noeviction`; undefined
 * when CONFIG is refused (managed services), said through `warn`. A cluster that does not come
 * up within PROBE_TIMEOUT_MS is a BootError DEPENDENCY_UNAVAILABLE naming the seeds.
 */
export async function probeRedisCluster(
  target: RedisTarget & { clusterNodes: readonly string[] },
  warn: (message: string) => void,
): Promise<{ evictionPolicy: string | undefined; node?: string }> {
  const base = clusterOptions(target.url, 'producer');
  const cluster = new Cluster(target.clusterNodes.map(parseClusterNode), {
    ...base,
    lazyConnect: true,
    clusterRetryStrategy: () => null,
    redisOptions: { ...base.redisOptions, connectTimeout: 3000, maxRetriesPerRequest: 0, connectionName: 'agentic-sdlc:boot-check' },
  });
  let cause: Error | undefined;
  cluster.on('error', (error: Error) => {
    cause ??= error;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    try {
      await Promise.race([
        cluster.connect(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`not ready within ${PROBE_TIMEOUT_MS} ms (is cluster_state ok?)`)), PROBE_TIMEOUT_MS);
        }),
      ]);
    } catch (error) {
      throw new BootError(
        'DEPENDENCY_UNAVAILABLE',
        [
          `The Redis Cluster is unreachable through ${clusterWhere(target.clusterNodes)}: ${(cause ?? (error as Error)).message}.`,
          'Check that the seeds answer (redis-cli -c -h HOST -p PORT CLUSTER INFO says cluster_state:ok),',
          'or unset REDIS_CLUSTER_NODES to use the single Redis of REDIS_URL.',
        ].join('\n'),
      );
    }
    const masters = cluster.nodes('master');
    let policy: string | undefined = 'noeviction';
    for (const master of masters) {
      const node = `${master.options.host ?? '?'}:${master.options.port ?? '?'}`;
      try {
        const reply = (await master.call('CONFIG', 'GET', 'maxmemory-policy')) as string[];
        if (reply[1] !== undefined && reply[1] !== 'noeviction') return { evictionPolicy: reply[1], node };
      } catch (error) {
        warn(
          `Could not check the maxmemory-policy of the Redis Cluster master ${node} (CONFIG GET: ${(error as Error).message}). ` +
            'BullMQ needs "noeviction" on every master; make sure your cluster (or its provider) is set that way.',
        );
        policy = undefined;
      }
    }
    return { evictionPolicy: policy };
  } finally {
    clearTimeout(timer);
    cluster.disconnect();
  }
}
