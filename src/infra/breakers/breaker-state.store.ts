// Breaker states in Redis, so processes that run no breakers (the API) can see them: each worker
// process writes `<prefix>:breaker:<agentType>:<workerId> = <state>` with a TTL of three publish
// intervals, on every state change and every interval; a process that stops (or dies) drops out
// when its keys expire (at once on a clean close). Readers SCAN the keys (bounded, on every
// master of a cluster) and count.
import { redisMasters, type RedisClient } from '../queue/redis-connection.js';
import { BREAKER_STATES, type BreakerRegistry, type BreakerState } from './breaker-registry.js';
import type { Logger } from '../telemetry/logger.js';

/** How often a worker process rewrites its breakers' states. */
export const BREAKER_PUBLISH_INTERVAL_MS = 10_000;
/** SCAN batches a read goes through at most (COUNT 200 each). */
const MAX_SCAN_ROUNDS = 50;
const SCAN_COUNT = 200;
/** A close does not wait longer than this for its DEL. */
const CLOSE_DEL_TIMEOUT_MS = 1000;

export function breakerKeyPrefix(prefix: string): string {
  return `${prefix}:breaker:`;
}

export function breakerStateKey(prefix: string, agentType: string, workerId: string): string {
  return `${breakerKeyPrefix(prefix)}${agentType}:${workerId}`;
}

export interface AgentBreakerStates {
  closed: number;
  open: number;
  half_open: number;
  workers: { workerId: string; state: BreakerState }[];
}

export interface BreakerStatePublisher {
  start(): void;
  /** Stops the timer and the subscription, and removes this process's keys (best effort). */
  close(): Promise<void>;
}

export interface BreakerStatePublisherOptions {
  redis: RedisClient;
  prefix: string;
  workerId: string;
  breakers: BreakerRegistry;
  logger: Pick<Logger, 'debug'>;
  intervalMs?: number;
}

export function createBreakerStatePublisher(options: BreakerStatePublisherOptions): BreakerStatePublisher {
  const { redis, prefix, workerId, breakers, logger } = options;
  const intervalMs = options.intervalMs ?? BREAKER_PUBLISH_INTERVAL_MS;
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;
  let inFlight = false;
  let again = false;
  let closed = false;

  const publish = async (): Promise<void> => {
    if (closed) return;
    // One write at a time: while Redis is slow or down, writes do not pile up; a change that
    // arrives meanwhile is written right after.
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    try {
      const pipeline = redis.pipeline();
      for (const [agentType, state] of Object.entries(breakers.states())) {
        pipeline.set(breakerStateKey(prefix, agentType, workerId), state, 'PX', intervalMs * 3);
      }
      const results = (await pipeline.exec()) ?? [];
      const failed = results.find(([error]) => error);
      if (failed) throw failed[0];
    } catch (error) {
      logger.debug('breaker state publish failed', { error: (error as Error).message });
    } finally {
      inFlight = false;
    }
    if (again) {
      again = false;
      await publish();
    }
  };

  return {
    start() {
      if (timer || closed) return;
      unsubscribe = breakers.onStateChange(() => void publish());
      timer = setInterval(() => void publish(), intervalMs);
      timer.unref();
      void publish();
    },
    async close() {
      if (closed) return;
      closed = true;
      if (timer) clearInterval(timer);
      unsubscribe?.();
      const keys = Object.keys(breakers.states()).map((agentType) => breakerStateKey(prefix, agentType, workerId));
      if (keys.length === 0) return;
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([
        redis.del(...keys).catch((error: Error) => logger.debug('breaker state delete failed', { error: error.message })),
        new Promise<void>((resolve) => {
          timeout = setTimeout(resolve, CLOSE_DEL_TIMEOUT_MS);
          timeout.unref();
        }),
      ]);
      clearTimeout(timeout);
    },
  };
}

const isState = (value: unknown): value is BreakerState =>
  typeof value === 'string' && (BREAKER_STATES as readonly string[]).includes(value);

/**
 * The breaker states every live worker process published, per agent type. `agentTypes` are
 * listed even when no process serves them (all counts 0). Reads at most MAX_SCAN_ROUNDS SCAN
 * batches per master.
 */
export async function readBreakerStates(
  redis: RedisClient,
  prefix: string,
  agentTypes: readonly string[] = [],
): Promise<Record<string, AgentBreakerStates>> {
  const empty = (): AgentBreakerStates => ({ closed: 0, open: 0, half_open: 0, workers: [] });
  const result: Record<string, AgentBreakerStates> = Object.fromEntries(agentTypes.map((type) => [type, empty()]));
  const start = breakerKeyPrefix(prefix);
  const keys: string[] = [];
  // SCAN walks one server: on a cluster, every master (the keys share QUEUE_PREFIX's hash tag,
  // so one of them answers, but which one moves with its slot).
  for (const server of redisMasters(redis)) {
    let cursor = '0';
    let rounds = 0;
    do {
      const [next, batch] = await server.scan(cursor, 'MATCH', `${start}*`, 'COUNT', SCAN_COUNT);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0' && ++rounds < MAX_SCAN_ROUNDS);
  }
  const unique = [...new Set(keys)].sort();
  if (unique.length === 0) return result;
  const values = await redis.mget(...unique);
  unique.forEach((key, i) => {
    const state = values[i];
    if (!isState(state)) return; // expired between SCAN and MGET, or not ours
    const rest = key.slice(start.length);
    const colon = rest.indexOf(':');
    if (colon <= 0) return;
    // Agent types have no ':' (AGENT_TYPE_PATTERN); worker ids do (host:pid:id).
    const agentType = rest.slice(0, colon);
    const workerId = rest.slice(colon + 1);
    const entry = (result[agentType] ??= empty());
    entry[state]++;
    entry.workers.push({ workerId, state });
  });
  return result;
}
