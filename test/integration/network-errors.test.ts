// The network-error classifier against real failures: a socket refused by a closed port, what
// pg, ioredis and fetch throw against it, and a Postgres backend terminated under a query. Each
// must be recognised as a network failure by the same function the HTTP error handler, the
// worker's database-down hold and the agent error classification use.
import net from 'node:net';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import pg from 'pg';
import { classifyError } from '../../src/domain/errors.js';
import { classifyNetworkError, isNetworkError } from '../../src/domain/network-errors.js';
import { isDatabaseUnavailable } from '../../src/infra/db/unavailable.js';
import { BASE_DATABASE_URL } from '../support/test-database.js';

/** A port nothing listens on: bound by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('network-error classifier (integration: real sockets, pg, ioredis, Postgres)', () => {
  let port: number;
  before(async () => {
    port = await closedPort();
  });

  it('net.connect to a closed port: ECONNREFUSED, unreachable', async () => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const error = await new Promise<Error>((resolve) => socket.once('error', resolve));
    expect(classifyNetworkError(error)).to.deep.equal({ kind: 'unreachable', code: 'ECONNREFUSED' });
    expect(classifyError(error)).to.include({ code: 'ECONNREFUSED', category: 'downstream', retryable: true });
  });

  it("fetch to a closed port: TypeError('fetch failed') whose cause is the refusal", async () => {
    const error = await rejectionOf(fetch(`http://127.0.0.1:${port}/`));
    expect(error).to.be.instanceOf(TypeError);
    expect(classifyNetworkError(error)).to.deep.equal({ kind: 'unreachable', code: 'ECONNREFUSED' });
    expect(classifyError(error)).to.include({ code: 'ECONNREFUSED', category: 'downstream' });
  });

  it('pg connecting to a closed port: a database outage', async () => {
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'nobody', database: 'nothing' });
    const error = await rejectionOf(client.connect());
    expect(classifyNetworkError(error)).to.deep.include({ kind: 'unreachable' });
    expect(isDatabaseUnavailable(error)).to.equal(true);
  });

  it('ioredis against a closed port: a producer (no offline queue), a closed connection, a command out of retries', async () => {
    const producer = new Redis({ host: '127.0.0.1', port, enableOfflineQueue: false, retryStrategy: () => null, lazyConnect: true });
    const closed = new Redis({ host: '127.0.0.1', port, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    const retrying = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 });
    const clients = [producer, closed, retrying];
    for (const client of clients) client.on('error', () => undefined);
    try {
      const errors = await Promise.all(clients.map((client) => rejectionOf(client.get('k'))));
      // "Stream isn't writeable…", "Connection is closed.", MaxRetriesPerRequestError: none has a
      // code, so only their messages tell.
      expect(errors.map((error) => (error as { code?: string }).code)).to.deep.equal([undefined, undefined, undefined]);
      for (const error of errors) {
        expect(isNetworkError(error), String(error)).to.equal(true);
        // Redis, not Postgres, is down: the worker's database-down hold does not apply.
        expect(isDatabaseUnavailable(error), String(error)).to.equal(false);
      }
    } finally {
      for (const client of clients) client.disconnect();
    }
  });

  it('a Postgres backend terminated under a query (57P01): server unavailable', async () => {
    const victim = new pg.Client({ connectionString: BASE_DATABASE_URL });
    const killer = new pg.Client({ connectionString: BASE_DATABASE_URL });
    await Promise.all([victim.connect(), killer.connect()]);
    victim.on('error', () => undefined);
    try {
      const { rows } = await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const query = rejectionOf(victim.query('SELECT pg_sleep(10)'));
      // pg_terminate_backend only signals: wait until the sleep is really running before.
      for (let i = 0; i < 50; i++) {
        const active = await killer.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND query LIKE 'SELECT pg_sleep%'", [
          rows[0]!.pid,
        ]);
        if (active.rowCount) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await killer.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      const error = await query;
      expect(classifyNetworkError(error)).to.deep.equal({ kind: 'server_unavailable', code: '57P01' });
      expect(isDatabaseUnavailable(error)).to.equal(true);
    } finally {
      await Promise.allSettled([victim.end(), killer.end()]);
    }
  });

  it("a statement's own error from a live Postgres is not a network failure", async () => {
    const client = new pg.Client({ connectionString: BASE_DATABASE_URL });
    await client.connect();
    try {
      const error = await rejectionOf(client.query('SELECT * FROM no_such_table_h3'));
      expect((error as { code?: string }).code).to.equal('42P01');
      expect(classifyNetworkError(error)).to.equal(null);
    } finally {
      await client.end();
    }
  });
});
