// One pg pool per process, shared by Prisma (through its driver adapter) and by the hot-path
// repositories that issue hand-written SQL: Prisma's interactive transactions cost ~3 ms here,
// the same statements on the pool ~0.5 ms, and every stage hop pays for them.
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../../generated/prisma/client.js';
import { toPgConnection } from './connection-url.js';

export interface Database {
  prisma: PrismaClient;
  pool: pg.Pool;
  close(): Promise<void>;
}

/** A connect that takes longer fails (a server that is stopped, not gone, would hang it). */
const CONNECT_TIMEOUT_MS = 5000;

export function createDatabase(databaseUrl: string, poolSize = 10): Database {
  const { connectionString, schema } = toPgConnection(databaseUrl);
  // keepAlive: a connection to a server that vanished is noticed by TCP, not by the next query.
  const pool = new pg.Pool({ connectionString, max: poolSize, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, keepAlive: true });
  // An idle client's error (server restart) must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool, schema ? { schema } : undefined) });
  let closing: Promise<void> | undefined;
  return {
    prisma,
    pool,
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
