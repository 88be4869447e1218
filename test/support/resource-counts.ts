// What a process holds, counted: active handles and timers by type, event listeners on process
// and on the emitters a test can reach, and the process's Redis connections by name in CLIENT
// LIST. Two snapshots of a steady process compare equal (test/e2e/leaks.test.ts).
import { createHook } from 'node:async_hooks';
import type { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type pg from 'pg';
import { redisMasters, type RedisClient } from '../../src/infra/queue/redis-connection.js';
import { countByType } from '../../src/lifecycle/open-handles.js';

export interface ResourceCounts {
  /** process.getActiveResourcesInfo() by type, without the pg pool's sockets and idle timers. */
  resources: Record<string, number>;
  /** Listeners on `process`, per event. */
  processListeners: Record<string, number>;
  /** Listeners per reachable emitter (by the name the caller gives it), all events together. */
  emitterListeners: Record<string, number>;
  /** This process's Redis connections (CLIENT LIST names carrying `<host>:<pid>`), by kind. */
  redisClients: Record<string, number>;
}

/** Every listener of an emitter, whatever the event. */
export function listenerTotal(emitter: EventEmitter): number {
  return emitter.eventNames().reduce((sum, name) => sum + emitter.listenerCount(name), 0);
}

/**
 * A connection's kind: ours are `agentic-sdlc:<role>:<owner>` → `agentic-sdlc:<role>`; BullMQ's
 * blocking ones `<prefix>:<queue in base64>:w:<worker>` → `bullmq-blocking:<queue>`.
 */
function connectionKind(name: string): string {
  const ours = /^(agentic-sdlc:[a-z]+)(:|$)/.exec(name);
  if (ours) return ours[1]!;
  const blocking = /^\{[^}]*\}:([A-Za-z0-9+/=]+):w:/.exec(name);
  if (blocking) return `bullmq-blocking:${Buffer.from(blocking[1]!, 'base64').toString()}`;
  return 'other';
}

/** CLIENT LIST of the one server, or of every master of a cluster (each lists its own clients), as one text. */
export async function clientListEverywhere(redis: RedisClient): Promise<string> {
  // Once a command went through, a cluster knows its masters: none is missed while it connects.
  await redis.ping();
  const lists = await Promise.all(redisMasters(redis).map((server) => server.client('LIST') as Promise<string>));
  return lists.join('\n');
}

/** This process's connections in CLIENT LIST (on every master of a cluster), by kind (see connectionKind). */
export async function redisClientsOfThisProcess(redis: RedisClient): Promise<Record<string, number>> {
  const owner = `${hostname()}:${process.pid}`;
  const list = await clientListEverywhere(redis);
  const names = list
    .split('\n')
    .map((line) => /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '')
    .filter((name) => name.split(':').some((_, i, parts) => parts.slice(i, i + 2).join(':') === owner));
  return countByType(names.map(connectionKind));
}

/**
 * One snapshot. The pool's clients come and go with load and its idle timeout (pg's own
 * policy, bounded by DATABASE_POOL_SIZE): their sockets and idle timers are taken out of
 * `resources` and reported by the caller. Read synchronously, so the pool and the resource
 * list describe the same instant.
 */
export async function countResources(options: {
  pool: pg.Pool;
  emitters: Record<string, EventEmitter>;
  redis: RedisClient;
}): Promise<ResourceCounts> {
  const redisClients = await redisClientsOfThisProcess(options.redis);
  const resources = countByType(process.getActiveResourcesInfo());
  const { pool } = options;
  const poolTimers = pool.options.idleTimeoutMillis ? pool.idleCount : 0;
  subtract(resources, 'TCPSocketWrap', pool.totalCount);
  subtract(resources, 'Timeout', poolTimers);
  const processListeners = Object.fromEntries(
    process
      .eventNames()
      .map((name) => [String(name), process.listenerCount(name)] as const)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  const emitterListeners = Object.fromEntries(Object.entries(options.emitters).map(([name, e]) => [name, listenerTotal(e)]));
  return { resources, processListeners, emitterListeners, redisClients };
}

function subtract(counts: Record<string, number>, type: string, n: number): void {
  const left = (counts[type] ?? 0) - n;
  if (left > 0) counts[type] = left;
  else delete counts[type];
}

/** Handle and timer types that keep a process alive (async_hooks names), unref'd or not. */
const HANDLE_TYPES = new Set([
  'Timeout',
  'TCPWRAP',
  'TCPSERVERWRAP',
  'PIPEWRAP',
  'PIPESERVERWRAP',
  'PROCESSWRAP',
  'UDPWRAP',
  'FSEVENTWRAP',
  'STATWATCHER',
  'SIGNALWRAP',
]);

export interface TrackedResource {
  type: string;
  /** Whether it would keep the process alive (an unref'd timer or socket would not). */
  ref: boolean;
  stack: string;
}

/**
 * Records every handle and timer created from now on, until it is destroyed, with where it was
 * created: what a close() forgets is left in `alive()` even when it is unref'd (which
 * process.getActiveResourcesInfo() does not show). async_hooks slows promises: short tests only.
 */
export function trackResources(): { alive(): TrackedResource[]; stop(): void } {
  const live = new Map<number, { type: string; stack: string; resource: { hasRef?: () => boolean } }>();
  const hook = createHook({
    init(asyncId, type, _trigger, resource) {
      if (!HANDLE_TYPES.has(type)) return;
      const stack = (new Error().stack ?? '').split('\n').slice(2, 16).join('\n');
      live.set(asyncId, { type, stack, resource: resource as { hasRef?: () => boolean } });
    },
    destroy(asyncId) {
      live.delete(asyncId);
    },
  }).enable();
  return {
    alive: () =>
      [...live.values()].map(({ type, stack, resource }) => ({
        type,
        stack,
        ref: typeof resource.hasRef === 'function' ? resource.hasRef() : true,
      })),
    stop: () => void hook.disable(),
  };
}
