// Where the configuration says Redis is: the one server of REDIS_URL, or the Redis Cluster of
// REDIS_CLUSTER_NODES reached with REDIS_URL's credentials and TLS (docs/redis-cluster.md).
import type { Config } from '../config.js';
import type { RedisTarget } from '../infra/queue/redis-connection.js';

export function redisTargetOf(config: Pick<Config, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>): RedisTarget {
  return { url: config.REDIS_URL, clusterNodes: config.REDIS_CLUSTER_NODES };
}
