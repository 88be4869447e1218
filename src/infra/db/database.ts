// One pg pool per process, shared by Prisma (through its driver adapter) and by the hot-path
// repositories that issue hand-written SQL: Prisma's interactive transactions cost ~3 ms here,
// the same statements on the pool ~0.5 ms, and every stage hop pays for them. The pool is
// measured (src/infra/db/measured-pool.ts); its metrics are `metrics`.
import { PrismaPg } from '@prisma/adapter-pg';
import type pg from 'pg';
import { PrismaClient } from '../../generated/prisma/client.js';
import { createDatabaseMetrics } from '../telemetry/database-metrics.js';
import type { MetricsSource } from '../telemetry/metrics.js';
import { toPgConnection, withSessionSetting } from './connection-url.js';
import { createMeasuredPool } from './measured-pool.js';

export interface Database {
  prisma: PrismaClient;
  pool: pg.Pool;
  /** The pool's wait, size and statement metrics (served by the API's and the worker's /metrics). */
  metrics: MetricsSource;
  close(): Promise<void>;
}

/** How the pool connects and what every connection of it promises (docs/connections.md). */
export interface PoolSettings {
  /** DATABASE_POOL_SIZE: connections at most. */
  size: number;
  /** DATABASE_POOL_IDLE_TIMEOUT_MS: an idle connection is closed after this (0: never). */
  idleTimeoutMs: number;
  /** DATABASE_CONNECT_TIMEOUT_MS: the longest wait for a client, new or freed. */
  connectTimeoutMs: number;
  /** DATABASE_STATEMENT_TIMEOUT_MS: the session's statement_timeout (0: the server's own). */
  statementTimeoutMs: number;
  /** DATABASE_JIT: `off` turns the session's JIT compilation off; `server` keeps the server's setting. */
  jit: 'off' | 'server';
}

/** The configuration's defaults, for pools made without a configuration (tests, the bench). */
export const DEFAULT_POOL_SETTINGS: PoolSettings = {
  size: 10,
  idleTimeoutMs: 10_000,
  connectTimeoutMs: 5000,
  statementTimeoutMs: 30_000,
  jit: 'off',
};

/** The pool settings a configuration names. */
export function poolSettings(config: {
  DATABASE_POOL_SIZE: number;
  DATABASE_POOL_IDLE_TIMEOUT_MS: number;
  DATABASE_CONNECT_TIMEOUT_MS: number;
  DATABASE_STATEMENT_TIMEOUT_MS: number;
  DATABASE_JIT: 'off' | 'server';
}): PoolSettings {
  return {
    size: config.DATABASE_POOL_SIZE,
    idleTimeoutMs: config.DATABASE_POOL_IDLE_TIMEOUT_MS,
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
    jit: config.DATABASE_JIT,
  };
}

/** `settings`: a pool size alone, or the settings (each missing one from DEFAULT_POOL_SETTINGS). */
export function createDatabase(databaseUrl: string, settings: number | Partial<PoolSettings> = {}): Database {
  const { size, idleTimeoutMs, connectTimeoutMs, statementTimeoutMs, jit } = {
    ...DEFAULT_POOL_SETTINGS,
    ...(typeof settings === 'number' ? { size: settings } : settings),
  };
  const { connectionString: url, schema } = toPgConnection(databaseUrl);
  // JIT compiles a statement anew on each execution once the planner's estimate passes
  // jit_above_cost; the hot-path statements are short, and an estimate over a large stages table
  // made the stage-finish statement spend 80-90 ms compiling (docs/connections.md).
  const connectionString = jit === 'off' ? withSessionSetting(url, 'jit=off') : url;
  // The gauges read the pool at each scrape, after it exists.
  const metrics = createDatabaseMetrics({ maxClients: size, pool: () => pool });
  const pool = createMeasuredPool(
    {
      connectionString,
      max: size,
      idleTimeoutMillis: idleTimeoutMs,
      // Bounds a new connection (a server that is stopped, not gone, would hang it) and the wait for a freed one.
      connectionTimeoutMillis: connectTimeoutMs,
      // A startup parameter of each connection: the server cancels longer statements (SQLSTATE 57014).
      ...(statementTimeoutMs > 0 ? { statement_timeout: statementTimeoutMs } : {}),
      // keepAlive: a connection to a server that vanished is noticed by TCP, not by the next query.
      keepAlive: true,
    },
    metrics,
  );
  // An idle client's error (server restart) must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool, schema ? { schema } : undefined) });
  let closing: Promise<void> | undefined;
  return {
    prisma,
    pool,
    metrics,
    close() {
      closing ??= (async () => {
        await prisma.$disconnect().catch(() => undefined);
        await pool.end().catch(() => undefined);
      })();
      return closing;
    },
  };
}

/** Runs `fn` in a transaction on one pooled client (BEGIN … COMMIT, ROLLBACK on error). */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

const DEADLOCK_DETECTED = '40P01';
const UNIQUE_VIOLATION = '23505';

/** Postgres refused a row a unique index already holds (an Idempotency-Key taken by a concurrent request). */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === UNIQUE_VIOLATION;
}

/**
 * Re-runs a statement Postgres aborted as a deadlock victim (concurrent finishes lock
 * dependants and the pipeline row; the loser simply goes again).
 */
export async function retryOnDeadlock<T>(fn: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if ((error as { code?: string }).code !== DEADLOCK_DETECTED || attempt >= attempts) throw error;
    }
  }
}

export { isDatabaseUnavailable } from './unavailable.js';
