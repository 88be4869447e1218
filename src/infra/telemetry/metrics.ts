// The API process's Prometheus registry: default process metrics (no prefix) and the circuit
// breaker gauges, read from Redis on each scrape (the breakers live in the worker processes).
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { BREAKER_STATES } from '../breakers/breaker-registry.js';
import type { AgentBreakerStates } from '../breakers/breaker-state.store.js';

export type BreakerOverview = Record<string, AgentBreakerStates & { holdMs: number }>;

export interface ApiMetrics {
  registry: Registry;
  contentType: string;
  metrics(): Promise<string>;
}

/** Scrapes that land this close together share one Redis read. */
const READ_REUSE_MS = 1000;

export function createApiMetrics(readBreakers: () => Promise<BreakerOverview>): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  let last: { at: number; read: Promise<BreakerOverview> } | undefined;
  const read = () => {
    if (!last || Date.now() - last.at > READ_REUSE_MS) {
      last = { at: Date.now(), read: readBreakers() };
      // A failed read is not reused.
      last.read.catch(() => (last = undefined));
    }
    return last.read;
  };

  new Gauge({
    name: 'agentic_breaker_state',
    help: 'Worker processes whose circuit breaker for the agent type is in the state (closed, open, half_open).',
    labelNames: ['agent_type', 'state'] as const,
    registers: [registry],
    async collect() {
      const overview = await read();
      this.reset();
      for (const [agentType, states] of Object.entries(overview)) {
        for (const state of BREAKER_STATES) this.set({ agent_type: agentType, state }, states[state]);
      }
    },
  });
  new Gauge({
    name: 'agentic_breaker_hold_seconds',
    help: "Time left on the agent queue's hold (rate limit set by an open breaker), in seconds; 0 when not held.",
    labelNames: ['agent_type'] as const,
    registers: [registry],
    async collect() {
      const overview = await read();
      this.reset();
      for (const [agentType, { holdMs }] of Object.entries(overview)) this.set({ agent_type: agentType }, holdMs / 1000);
    },
  });

  return { registry, contentType: registry.contentType, metrics: () => registry.metrics() };
}
