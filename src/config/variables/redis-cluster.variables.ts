// Redis Cluster: the seed nodes that turn every Redis connection into an ioredis Cluster
// (docs/redis-cluster.md). QUEUE_PREFIX must then be a hash tag (src/config/env-schema.ts).
import { z } from 'zod';
import { parseClusterNode } from '../../domain/redis-cluster.js';
import { splitList } from '../field-types.js';
import { defineGroup } from '../variable.js';

const isHostPort = (item: string) => {
  try {
    parseClusterNode(item);
    return true;
  } catch {
    return false;
  }
};

export const redisClusterVariables = defineGroup('Postgres and Redis', {
  REDIS_CLUSTER_NODES: {
    schema: z
      .string()
      .transform(splitList)
      .refine((items) => items.every(isHostPort), 'comma-separated host:port seed nodes, e.g. 10.0.0.1:7000,10.0.0.2:7000'),
    type: 'comma-separated `host:port` list',
    default: '',
    example: '',
    description:
      'Empty: Redis is the one server of `REDIS_URL`. Set: Redis is a **Redis Cluster**, reached through these seed nodes (a few masters are enough; the client learns the rest from `CLUSTER SLOTS` and follows resharding and failover). Every node is reached with the user, password and TLS (`rediss://`) of `REDIS_URL`, whose own host and port are then not used. `QUEUE_PREFIX` must be a hash tag (`{sdlc}`) so that every key of the platform lands in one slot: a prefix without one is refused. Every master needs `maxmemory-policy noeviction`. See [redis-cluster.md](redis-cluster.md).',
  },
});
