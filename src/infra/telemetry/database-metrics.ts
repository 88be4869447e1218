// The Postgres pool's metrics, one registry per pool (so per process): the wait for a pooled
// client, the clients open and idle and the requests waiting (read from the pool on each scrape),
// and each statement's latency and timeouts by statement name. The API's /metrics and a worker's
// own /metrics serve it beside their registries (src/composition/*-runtime.ts).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { isStatementTimeout } from '../../domain/statement-timeout.js';
import type { PoolObserver } from '../db/measured-pool.js';
import { METRIC_NAMES, type MetricsSource } from './metrics.js';

/** What the pool says about itself at a scrape (pg.Pool's counts). */
export interface PoolCounts {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

export interface DatabaseMetrics extends MetricsSource, PoolObserver {}

/**
 * Statement names are chosen in code, but a name built at run time must not grow the series
 * without bound: past this many, new names count as `other`.
 */
export const MAX_STATEMENT_LABELS = 100;

// A free client is handed out within a tick (sub-millisecond); waits up to the connect timeout.
const WAIT_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
// Statements up to the default statement timeout (30 s).
const STATEMENT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createDatabaseMetrics(options: { maxClients: number; pool: () => PoolCounts | undefined }): DatabaseMetrics {
  const registry = new Registry();
  const wait = new Histogram({
    name: METRIC_NAMES.dbPoolWait,
    help: 'Time from asking the pg pool for a client to getting one (or the connect failing), in seconds.',
    buckets: WAIT_BUCKETS,
    registers: [registry],
  });
  new Gauge({
    name: METRIC_NAMES.dbPoolClients,
    help: 'Postgres connections the pg pool holds open, by state (idle, busy); their sum is the open connections.',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const counts = options.pool();
      if (!counts) return;
      this.set({ state: 'idle' }, counts.idleCount);
      this.set({ state: 'busy' }, counts.totalCount - counts.idleCount);
    },
  });
  new Gauge({
    name: METRIC_NAMES.dbPoolWaiting,
    help: 'Requests waiting for a pooled Postgres client right now.',
    registers: [registry],
    collect() {
      this.set(options.pool()?.waitingCount ?? 0);
    },
  });
  new Gauge({
    name: METRIC_NAMES.dbPoolMax,
    help: 'The pg pool size (DATABASE_POOL_SIZE).',
    registers: [registry],
  }).set(options.maxClients);
  const duration = new Histogram({
    name: METRIC_NAMES.dbStatementDuration,
    help: 'Application statements on the pg pool by statement name (hot-path names, prisma, transaction, unnamed), in seconds.',
    labelNames: ['statement'] as const,
    buckets: STATEMENT_BUCKETS,
    registers: [registry],
  });
  const timeouts = new Counter({
    name: METRIC_NAMES.dbStatementTimeouts,
    help: 'Statements Postgres cancelled for running past DATABASE_STATEMENT_TIMEOUT_MS, by statement name.',
    labelNames: ['statement'] as const,
    registers: [registry],
  });

  // One child per name, so a statement costs a map lookup, not a label hash.
  const children = new Map<string, Histogram.Internal<'statement'>>();
  const childFor = (statement: string): Histogram.Internal<'statement'> => {
    const known = children.get(statement);
    if (known) return known;
    const label = children.size < MAX_STATEMENT_LABELS ? statement : 'other';
    let child = children.get(label);
    if (!child) {
      child = duration.labels({ statement: label });
      children.set(label, child);
    }
    return child;
  };

  return {
    registry,
    contentType: registry.contentType,
    metrics: () => registry.metrics(),
    waited: (seconds) => wait.observe(seconds),
    executed(statement, seconds, error) {
      childFor(statement).observe(seconds);
      if (error && isStatementTimeout(error)) timeouts.inc({ statement: children.has(statement) ? statement : 'other' });
    },
  };
}
