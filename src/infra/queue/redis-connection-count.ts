// How many Redis connections a process opens, from the roles it runs: the documented formula
// (docs/connections.md) that test/e2e/redis-connections.test.ts checks against CLIENT LIST.
// BullMQ blocks one connection per Worker (BZPOPMIN on its queue), and a Worker serves one queue,
// so every agent type a process serves costs one; Queues and the non-blocking side of every
// Worker share one connection, and no QueueEvents is opened.

/** What a worker role runs, as far as Redis is concerned. */
export interface WorkerConnections {
  /** Agent types served: one BullMQ Worker, so one blocking connection, each. */
  agentTypes: number;
  /** The conductor's control-queue Worker: one more blocking connection. */
  conductor: boolean;
  /** WEBHOOK_URLS set: the delivery Worker, one more blocking connection. */
  webhooks: boolean;
}

/**
 * Connections a process holds once started:
 * - the API: 1, its fail-fast producer (Queues, rate limits, cancels, breaker reads);
 * - a worker: 2 (the shared retry-forever connection of its Queues and Workers, the cancel
 *   subscriber) + 1 per agent type + 1 for the conductor + 1 for webhook deliveries;
 * - `npm start`: both.
 */
export function redisConnectionsOf(roles: { api: boolean; worker?: WorkerConnections }): number {
  const api = roles.api ? 1 : 0;
  const w = roles.worker;
  const worker = w ? 2 + w.agentTypes + (w.conductor ? 1 : 0) + (w.webhooks ? 1 : 0) : 0;
  return api + worker;
}
