// `npx tsx bench/pool-overhead.ts [--queries 20000] [--pool 10] [--concurrency 50]`
//
// What the measured pool (src/infra/db/measured-pool.ts) costs and shows, on the shared Postgres:
// 1. overhead: the same named `SELECT 1` through a plain pg.Pool and through the measured pool
//    with its metrics, one query at a time, in alternating rounds (median of the rounds' means);
// 2. the wrapper alone, on a client whose query answers at once (no I/O), so its CPU is visible;
// 3. pool wait: `--concurrency` loops of a 1 ms statement on a pool of `--pool`, the wait for a
//    client as the pool's metric observes it (the figure behind "queries waiting for a pooled
//    client averaged 24.8 with pool 10 at concurrency 50", now in time).
import { EventEmitter } from 'node:events';
import pg from 'pg';
import { toPgConnection } from '../src/infra/db/connection-url.js';
import { createMeasuredPool, type PoolObserver } from '../src/infra/db/measured-pool.js';
import { createDatabaseMetrics } from '../src/infra/telemetry/database-metrics.js';
import { percentiles } from './stats.js';

const arg = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(`--${name}`);
  const n = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
};
const QUERIES = arg('queries', 20_000);
const POOL = arg('pool', 10);
const CONCURRENCY = arg('concurrency', 50);
const ROUNDS = 5;
const url = toPgConnection(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/agentic_sdlc').connectionString;
const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function perQuery(pool: pg.Pool, n: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < n; i++) await pool.query({ name: 'bench_select_1', text: 'SELECT 1' });
  return (performance.now() - start) / n;
}

async function overhead(): Promise<void> {
  const plain = new pg.Pool({ connectionString: url, max: 1 });
  const metrics = createDatabaseMetrics({ maxClients: 1, pool: () => undefined });
  const measured = createMeasuredPool({ connectionString: url, max: 1 }, metrics);
  await perQuery(plain, 500);
  await perQuery(measured, 500);
  const a: number[] = [];
  const b: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    a.push(await perQuery(plain, QUERIES / ROUNDS));
    b.push(await perQuery(measured, QUERIES / ROUNDS));
  }
  await Promise.all([plain.end(), measured.end()]);
  console.log(`1. SELECT 1 round trip, ${QUERIES} per pool in ${ROUNDS} alternating rounds (median of round means):`);
  console.log(`   plain pg.Pool ${us(median(a))}, measured pool ${us(median(b))}, difference ${us(median(b) - median(a))}`);
}

/** A client whose query answers on the next microtask: what is left is the wrapper's own cost. */
class InstantClient extends EventEmitter {
  query(): Promise<{ rows: never[] }> {
    return Promise.resolve({ rows: [] });
  }
}

async function wrapperOnly(): Promise<void> {
  const metrics = createDatabaseMetrics({ maxClients: 1, pool: () => undefined });
  const n = 1_000_000;
  const time = async (client: { query(config: unknown): Promise<unknown> }) => {
    const start = performance.now();
    for (let i = 0; i < n; i++) await client.query({ name: 'bench_select_1', text: 'SELECT 1' });
    return (performance.now() - start) / n;
  };
  const bare = new InstantClient();
  // The pool instruments each client it connects; here the one client is handed the same way.
  const pool = createMeasuredPool({ max: 1 }, metrics);
  const wrapped = new InstantClient();
  pool.emit('connect', wrapped as unknown as pg.PoolClient);
  await time(bare);
  await time(wrapped);
  const plainMs = median([await time(bare), await time(bare), await time(bare)]);
  const wrappedMs = median([await time(wrapped), await time(wrapped), await time(wrapped)]);
  await pool.end();
  console.log(`2. the wrapper alone (no I/O, ${n} calls): ${((wrappedMs - plainMs) * 1e6).toFixed(0)} ns per statement`);
}

async function poolWait(): Promise<void> {
  const waits: number[] = [];
  const metrics = createDatabaseMetrics({ maxClients: POOL, pool: () => undefined });
  const observer: PoolObserver = {
    waited: (seconds) => {
      waits.push(seconds * 1000);
      metrics.waited(seconds);
    },
    executed: (statement, seconds, error) => metrics.executed(statement, seconds, error),
  };
  const pool = createMeasuredPool({ connectionString: url, max: POOL, connectionTimeoutMillis: 60_000 }, observer);
  const perLoop = Math.ceil(QUERIES / CONCURRENCY);
  let waiting = 0;
  let samples = 0;
  const sampler = setInterval(() => {
    waiting += pool.waitingCount;
    samples++;
  }, 10);
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = 0; i < perLoop; i++) await pool.query({ name: 'bench_sleep_1ms', text: 'SELECT pg_sleep(0.001)' });
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  clearInterval(sampler);
  await pool.end();
  const p = percentiles(waits);
  console.log(
    `3. pool ${POOL}, ${CONCURRENCY} concurrent loops of a 1 ms statement (${perLoop * CONCURRENCY} statements, ${((perLoop * CONCURRENCY) / seconds).toFixed(0)}/s):`,
  );
  console.log(
    `   wait for a client p50 ${p.p50.toFixed(2)} ms, p95 ${p.p95.toFixed(2)} ms, p99 ${p.p99.toFixed(2)} ms, max ${p.max.toFixed(2)} ms; waiting requests (sampled every 10 ms) mean ${(waiting / Math.max(1, samples)).toFixed(1)}`,
  );
}

await overhead();
await wrapperOnly();
await poolWait();
