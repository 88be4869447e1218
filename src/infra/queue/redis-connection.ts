// ioredis connections: producers fail fast when Redis is down (so the API can answer 503),
// workers retry forever (BullMQ requires maxRetriesPerRequest: null for them).
import { Redis } from 'ioredis';
import { UnavailableError } from '../../domain/errors.js';

export type RedisRole = 'producer' | 'worker' | 'subscriber';

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
export function assertRedisReady(redis: Redis): void {
  if (redis.status !== 'ready')
    throw new UnavailableError('QUEUE_UNAVAILABLE', `The queue (Redis) is unreachable: its connection is ${redis.status}.`);
}

/**
 * Whether a connection is usable now: false from its first error or close until it is ready
 * again. A connection still coming up at boot counts as usable, so a process just started does
 * not refuse its first requests (if it is not up by the dispatch, assertRedisReady answers 503).
 */
export function watchRedisAvailability(redis: Redis): () => boolean {
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

export function createRedisConnection(url: string, role: RedisRole, log?: RedisErrorSink, owner?: string): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: role === 'producer' ? 1 : null,
    enableOfflineQueue: role !== 'producer',
    ...(role === 'producer' ? { commandTimeout: PRODUCER_COMMAND_TIMEOUT_MS } : {}),
    // Reconnect with a capped backoff; never give up.
    retryStrategy: (times) => Math.min(times * 200, 2000),
    connectionName: redisConnectionName(role, owner),
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
