// The pg pool against the real Postgres: DATABASE_STATEMENT_TIMEOUT_MS is a session setting the
// server enforces (a pg_sleep is cancelled with SQLSTATE 57014, whichever path sent it), the
// error names the statement and the variable, and the connection serves the next statement;
// a request waits for a client when all are taken and is measured; past
// DATABASE_CONNECT_TIMEOUT_MS it fails as "Postgres unavailable"; idle connections close after
// DATABASE_POOL_IDLE_TIMEOUT_MS. Queries sent together on one client (Prisma does, in a
// transaction) wait for each other in our pool, not in pg's deprecated queue.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import pg from 'pg';
import { createDatabase, inTransaction, isDatabaseUnavailable, type Database } from '../../src/infra/db/database.js';
import { toPgConnection } from '../../src/infra/db/connection-url.js';
import { pollUntil } from '../support/chaos/free-port.js';
import { sampleValue } from '../support/promtool.js';

const url = () => process.env.TEST_DATABASE_URL!;
const run = promisify(execFile);

async function rejectionOf(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  expect.fail('expected a rejection');
}

describe('database pool (integration)', () => {
  const opened: Database[] = [];
  const open = (settings: Parameters<typeof createDatabase>[1]) => {
    const db = createDatabase(url(), settings);
    opened.push(db);
    return db;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((db) => db.close()));
  });

  it('queries sent together on one client run in order, a failure does not stop the next, and pg queues none (no DeprecationWarning)', async () => {
    // In a process of its own: pg's warning is emitted once per process.
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/fixtures/pg-queue/concurrent-queries.ts'], {
      env: { ...process.env, TEST_DATABASE_URL: url() },
    });
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      direct: unknown[];
      mixed: unknown[];
      viaPrisma: unknown[];
      warnings: string[];
    };
    expect(report.direct).to.deep.equal([1, 'error: division by zero', 3, 4]);
    expect(report.mixed).to.deep.equal([1, 2, 3, 4]);
    expect(report.viaPrisma).to.deep.equal([5, 6, 7]);
    expect(report.warnings).to.deep.equal([]);
  });

  it('statement_timeout: the server cancels a long statement from pool.query, a transaction and Prisma; the error names the statement and the variable', async () => {
    const db = open({ size: 2, statementTimeoutMs: 200 });
    expect((await db.pool.query<{ statement_timeout: string }>('SHOW statement_timeout')).rows[0]!.statement_timeout).to.equal('200ms');

    const named = await rejectionOf(db.pool.query({ name: 'sleep_too_long', text: 'SELECT pg_sleep($1)', values: [30] }));
    expect(named.code).to.equal('57014');
    expect(named.message).to.equal(
      'canceling statement due to statement timeout (statement "sleep_too_long" ran longer than DATABASE_STATEMENT_TIMEOUT_MS=200)',
    );
    // Not an outage: the worker does not hold its queue for it (the API answers 503 DATABASE_TIMEOUT,
    // test/integration/statement-timeout-errors.test.ts).
    expect(isDatabaseUnavailable(named)).to.equal(false);

    const inTx = await rejectionOf(inTransaction(db.pool, (client) => client.query('SELECT pg_sleep(30)')));
    expect(inTx.code).to.equal('57014');
    expect(inTx.message).to.include('statement "unnamed"').and.include('DATABASE_STATEMENT_TIMEOUT_MS=200');

    const viaPrisma = await rejectionOf(db.prisma.$queryRaw`SELECT pg_sleep(30)`);
    // Prisma wraps it (P2010) and keeps the message.
    expect(viaPrisma.message)
      .to.include('Code: `57014`')
      .and.include('statement "prisma" ran longer than DATABASE_STATEMENT_TIMEOUT_MS=200');

    // Both connections still serve statements after their cancels.
    const after = await Promise.all([db.pool.query('SELECT 1 AS one'), db.prisma.$queryRaw<{ one: number }[]>`SELECT 1 AS one`]);
    expect(after[0].rows[0]).to.deep.equal({ one: 1 });
    expect(after[1][0]).to.deep.equal({ one: 1 });

    const text = await db.metrics.metrics();
    expect(sampleValue(text, 'agentic_db_statement_timeouts_total', { statement: 'sleep_too_long' })).to.equal(1);
    expect(sampleValue(text, 'agentic_db_statement_timeouts_total', { statement: 'unnamed' })).to.equal(1);
    expect(sampleValue(text, 'agentic_db_statement_timeouts_total', { statement: 'prisma' })).to.equal(1);
    expect(sampleValue(text, 'agentic_db_statement_duration_seconds_count', { statement: 'transaction' })).to.equal(2);
    expect(sampleValue(text, 'agentic_db_statement_duration_seconds_count', { statement: 'prisma' })).to.equal(2);
  });

  it("statement timeout 0 sends no setting: the session keeps the server's own", async () => {
    const plain = new pg.Client({ connectionString: toPgConnection(url()).connectionString });
    await plain.connect();
    const server = (await plain.query<{ statement_timeout: string }>('SHOW statement_timeout')).rows[0]!.statement_timeout;
    await plain.end();
    const db = open({ size: 1, statementTimeoutMs: 0 });
    expect((await db.pool.query<{ statement_timeout: string }>('SHOW statement_timeout')).rows[0]!.statement_timeout).to.equal(server);
  });

  it("JIT: off in the pool's sessions by default (with the schema's search_path kept); DATABASE_JIT=server keeps the server's setting", async () => {
    const show = async (db: Database) =>
      (
        await db.pool.query<{ jit: string; search_path: string }>(
          "SELECT current_setting('jit') AS jit, current_setting('search_path') AS search_path",
        )
      ).rows[0]!;
    const plain = new pg.Client({ connectionString: toPgConnection(url()).connectionString });
    await plain.connect();
    const server = (await plain.query<{ jit: string }>('SHOW jit')).rows[0]!.jit;
    await plain.end();
    const schema = new URL(url()).searchParams.get('schema')!;
    expect(await show(open({ size: 1 }))).to.deep.equal({ jit: 'off', search_path: `"${schema}"` });
    expect(await show(open({ size: 1, jit: 'server' }))).to.deep.equal({ jit: server, search_path: `"${schema}"` });
  });

  it('pool wait: with every client taken a request waits (gauge 1) and is measured when it gets one; past the connect timeout it fails as Postgres unavailable', async () => {
    const db = open({ size: 1, connectTimeoutMs: 60_000 });
    const held = await db.pool.connect();
    const pending = db.pool.query({ name: 'after_wait', text: 'SELECT 1 AS one' });
    await pollUntil('the query waits for the held client', async () => db.pool.waitingCount === 1);
    let text = await db.metrics.metrics();
    expect(sampleValue(text, 'agentic_db_pool_waiting_requests')).to.equal(1);
    expect(sampleValue(text, 'agentic_db_pool_clients', { state: 'busy' })).to.equal(1);
    expect(sampleValue(text, 'agentic_db_pool_max_clients')).to.equal(1);
    expect(sampleValue(text, 'agentic_db_pool_wait_seconds_count')).to.equal(1);
    held.release();
    expect((await pending).rows).to.deep.equal([{ one: 1 }]);
    text = await db.metrics.metrics();
    expect(sampleValue(text, 'agentic_db_pool_waiting_requests')).to.equal(0);
    expect(sampleValue(text, 'agentic_db_pool_wait_seconds_count')).to.equal(2);
    expect(sampleValue(text, 'agentic_db_statement_duration_seconds_count', { statement: 'after_wait' })).to.equal(1);

    const short = open({ size: 1, connectTimeoutMs: 100 });
    const taken = await short.pool.connect();
    const timedOut = await rejectionOf(short.pool.query('SELECT 1'));
    taken.release();
    expect(timedOut.message).to.equal('timeout exceeded when trying to connect');
    expect(isDatabaseUnavailable(timedOut)).to.equal(true);
    expect(sampleValue(await short.metrics.metrics(), 'agentic_db_pool_wait_seconds_count')).to.equal(2);
  });

  it('idle connections close after the idle timeout; the next statement opens one again', async () => {
    const db = open({ size: 2, idleTimeoutMs: 100 });
    const [a, b] = await Promise.all([db.pool.connect(), db.pool.connect()]);
    a.release();
    b.release();
    expect(db.pool.totalCount).to.equal(2);
    await pollUntil('the idle connections are closed', async () => db.pool.totalCount === 0);
    expect((await db.pool.query('SELECT 1 AS one')).rows).to.deep.equal([{ one: 1 }]);
    expect(sampleValue(await db.metrics.metrics(), 'agentic_db_pool_clients', { state: 'idle' })).to.equal(1);
  });
});
