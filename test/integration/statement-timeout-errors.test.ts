// A statement Postgres cancels at DATABASE_STATEMENT_TIMEOUT_MS, for real (pg_sleep, or a wait on
// a locked table, through the same pool as the code uses), is recognised whichever path sent it
// (pool.query, a Prisma model query, a Prisma raw query), classified as the retryable
// DATABASE_TIMEOUT (downstream), and answered by the real app as 503 DATABASE_TIMEOUT with
// Retry-After. A cancel by pg_cancel_backend shares the SQLSTATE and is not a timeout.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import pg from 'pg';
import { classifyError } from '../../src/domain/errors.js';
import { isStatementTimeout, isTransactionTimeout } from '../../src/domain/statement-timeout.js';
import { toPgConnection } from '../../src/infra/db/connection-url.js';
import { createDatabase, type Database } from '../../src/infra/db/database.js';
import { pollUntil } from '../support/chaos/free-port.js';
import { startHarness, type Harness } from '../support/harness.js';
import { request } from '../support/http.js';
import { lockTable } from '../support/table-lock.js';

const url = () => process.env.TEST_DATABASE_URL!;

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  expect.fail('expected a rejection');
}

const expectDatabaseTimeout = (error: unknown) => {
  expect(isStatementTimeout(error), String(error)).to.equal(true);
  expect(classifyError(error)).to.include({ code: 'DATABASE_TIMEOUT', category: 'downstream', retryable: true });
  expect(classifyError(error).message).to.include('DATABASE_STATEMENT_TIMEOUT_MS=200');
};

describe('statement timeouts through the error hierarchy (integration)', function () {
  this.timeout(60_000);

  describe('the errors pg and Prisma throw', () => {
    let db: Database;
    before(() => {
      db = createDatabase(url(), { size: 2, statementTimeoutMs: 200 });
    });
    after(async () => {
      await db?.close();
    });

    it('pool.query past the timeout: DATABASE_TIMEOUT, downstream, retryable', async () => {
      const error = await rejectionOf(db.pool.query({ name: 'sleep_past_timeout', text: 'SELECT pg_sleep($1)', values: [30] }));
      expectDatabaseTimeout(error);
      expect((error as { code?: string }).code).to.equal('57014');
    });

    it('a Prisma model query waiting on a locked table (DriverAdapterError, the pg error as its cause): DATABASE_TIMEOUT', async () => {
      const lock = await lockTable(url(), 'api_keys');
      try {
        expectDatabaseTimeout(await rejectionOf(db.prisma.apiKey.findMany({ take: 1 })));
      } finally {
        await lock.release();
      }
      // The same query once the lock is gone: the connection serves it.
      expect(await db.prisma.apiKey.findMany({ take: 1 })).to.be.an('array');
    });

    it('a Prisma raw query (P2010, the pg error in meta.driverAdapterError): DATABASE_TIMEOUT', async () => {
      const error = await rejectionOf(db.prisma.$queryRaw`SELECT pg_sleep(30)`);
      expect((error as { code?: string }).code).to.equal('P2010');
      expectDatabaseTimeout(error);
    });

    it('a Prisma transaction past its own 5 s limit (P2028): DATABASE_TIMEOUT, downstream, retryable, and not a statement timeout', async () => {
      // A pool whose statement timeout (30 s) is not what ends it.
      const patient = createDatabase(url(), { size: 1, statementTimeoutMs: 30_000 });
      let error: unknown;
      try {
        error = await rejectionOf(
          patient.prisma.$transaction(async (tx) => {
            await tx.$queryRaw`SELECT pg_sleep(5.2)::text AS slept`;
            await tx.$queryRaw`SELECT 1::text AS one`;
          }),
        );
      } finally {
        await patient.close();
      }
      expect((error as { code?: string }).code).to.equal('P2028');
      expect(isTransactionTimeout(error)).to.equal(true);
      expect(isStatementTimeout(error)).to.equal(false);
      expect(classifyError(error)).to.include({ code: 'DATABASE_TIMEOUT', category: 'downstream', retryable: true });
    });

    it('a statement cancelled by pg_cancel_backend (same SQLSTATE 57014) is not a timeout', async () => {
      const victim = new pg.Client({ connectionString: toPgConnection(url()).connectionString });
      const killer = new pg.Client({ connectionString: toPgConnection(url()).connectionString });
      await Promise.all([victim.connect(), killer.connect()]);
      try {
        const pid = (await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
        const sleeping = rejectionOf(victim.query('SELECT pg_sleep(30)'));
        await pollUntil('the sleep runs', async () => {
          const { rows } = await killer.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active'", [pid]);
          return rows.length === 1;
        });
        await killer.query('SELECT pg_cancel_backend($1)', [pid]);
        const error = await sleeping;
        expect((error as { code?: string }).code).to.equal('57014');
        expect(isStatementTimeout(error)).to.equal(false);
        expect(classifyError(error).code).to.equal('57014');
      } finally {
        await Promise.all([victim.end(), killer.end()]);
      }
    });
  });

  describe('over HTTP, the real app', () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ workers: 0, env: { DATABASE_STATEMENT_TIMEOUT_MS: '300' } });
    });
    after(async () => {
      await h?.close();
    });

    it('a list of pipelines waiting on a locked table: 503 DATABASE_TIMEOUT with Retry-After, retryable; 200 once the lock is gone', async () => {
      const lock = await lockTable(url(), 'pipelines');
      let res;
      try {
        res = await request(h.baseUrl, 'GET', '/api/v1/pipelines');
      } finally {
        await lock.release();
      }
      expect(res.status, JSON.stringify(res.body)).to.equal(503);
      expect(res.headers.get('retry-after')).to.equal('5');
      expect(res.body.error).to.include({ code: 'DATABASE_TIMEOUT', category: 'downstream', retryable: true });
      expect(res.body.error.hint).to.include('DATABASE_STATEMENT_TIMEOUT_MS');
      // The statement's name stays in the log, not in the answer.
      expect(res.body.error.message).not.to.include('statement "');
      expect((await request(h.baseUrl, 'GET', '/api/v1/pipelines')).status).to.equal(200);
    });
  });

  describe("over HTTP, Prisma's own transaction limit (5 s) before the statement timeout", () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ workers: 0, env: { DATABASE_STATEMENT_TIMEOUT_MS: '30000' } });
    });
    after(async () => {
      await h?.close();
    });

    it("a pipeline's read (a snapshot transaction) whose first statement waits 6 s on a locked table: 503 DATABASE_TIMEOUT, retryable, not 500", async () => {
      // The lock goes after Prisma's transaction has expired and long before the statement timeout:
      // the first statement then finishes, and the next one finds its transaction closed.
      const lock = await lockTable(url(), 'pipelines');
      const pending = request(h.baseUrl, 'GET', `/api/v1/pipelines/${randomUUID()}`);
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      await lock.release();
      const res = await pending;
      expect(res.status, JSON.stringify(res.body)).to.equal(503);
      expect(res.headers.get('retry-after')).to.equal('5');
      expect(res.body.error).to.include({ code: 'DATABASE_TIMEOUT', category: 'downstream', retryable: true });
      expect((await request(h.baseUrl, 'GET', `/api/v1/pipelines/${randomUUID()}`)).status).to.equal(404);
    });
  });
});
