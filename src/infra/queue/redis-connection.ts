// ioredis connections: producers fail fast when Redis is down (so the API can answer 503),
// workers retry forever (BullMQ requires maxRetriesPerRequest: null for them).
import { Redis } from 'ioredis';

export type RedisRole = 'producer' | 'worker' | 'subscriber';

export interface RedisErrorSink {
  warn(message: string, meta?: Record<string, unknown>): void;
}

/**
 * Throws at once unless the connection is ready. BullMQ's producers wait for a connection that
 * never came up instead of failing, so HTTP paths call this first and answer 503.
 */
export function assertRedisReady(redis: Redis): void {
  if (redis.status !== 'ready') throw new Error(`Redis connection is ${redis.status}`);
}

export function createRedisConnection(url: string, role: RedisRole, log?: RedisErrorSink): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: role === 'producer' ? 1 : null,
    enableOfflineQueue: role !== 'producer',
    // Reconnect with a capped backoff; never give up.
    retryStrategy: (times) => Math.min(times * 200, 2000),
    connectionName: `agentic-sdlc:${role}`,
  });
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
