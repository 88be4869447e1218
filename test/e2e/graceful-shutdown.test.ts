// Graceful shutdown of real api and worker processes: on SIGTERM readiness answers 503 at once,
// no new connection is taken, in-flight requests and jobs finish, the process exits 0, and a
// second signal does not start a second shutdown. The spawned API shares the harness's database,
// so the harness's admin key authenticates there too.
import { freePort, pollUntil } from '../support/chaos/free-port.js';
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Agent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { startHarness, type Harness } from '../support/harness.js';
import { request, waitForPipeline, waitUntil } from '../support/http.js';
import { spawnWorker } from '../support/processes.js';
import { lockTable } from '../support/table-lock.js';
import { Queue } from 'bullmq';
import { agentQueueName } from '../../src/infra/queue/queue-names.js';

interface ApiProcess {
  child: ChildProcess;
  port: number;
  output: () => string;
  exited: Promise<number | null>;
}

/** Spawns src/server.ts on a free port against the harness's Redis, Postgres and queue prefix. */
async function spawnApi(h: Harness): Promise<ApiProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      DATABASE_URL: h.config.DATABASE_URL,
      REDIS_URL: h.config.REDIS_URL,
      QUEUE_PREFIX: h.config.QUEUE_PREFIX,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'info',
      SHUTDOWN_GRACE_MS: '20000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const deadline = Date.now() + 60_000;
  while (!output.includes('api listening')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`api did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, port, output: () => output, exited };
}

/**
 * A POST whose body is sent in two parts: in flight until `finish()` sends the rest. Keep-alive,
 * as browsers and proxies do: the server has to close the connection once it is idle.
 */
function slowPost(port: number, path: string, body: unknown, key: string) {
  const text = JSON.stringify(body);
  const half = Math.floor(text.length / 2);
  let req: ClientRequest;
  const response = new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent: new Agent({ keepAlive: true }),
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), authorization: `Bearer ${key}` },
      },
      (res: IncomingMessage) => {
        let data = '';
        res.on('data', (c: Buffer) => (data += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) as Record<string, unknown> }));
      },
    );
    req.on('error', reject);
    req.write(text.slice(0, half));
  });
  return {
    response,
    finish: () => req.end(text.slice(half)),
  };
}

/**
 * A connection opened before the shutdown with a request whose headers are not complete yet:
 * the server counts it as busy, so `server.close()` leaves it open, and `complete()` sends the
 * rest and returns the raw response.
 */
async function pendingProbe(port: number, path: string) {
  const socket: Socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let raw = '';
  socket.on('data', (c: Buffer) => (raw += c.toString()));
  const closed = once(socket, 'close');
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
  return {
    async complete(): Promise<{ status: number; body: Record<string, unknown> }> {
      socket.write('Connection: close\r\n\r\n');
      await closed;
      const [head, ...rest] = raw.split('\r\n\r\n');
      const status = Number(head!.split(' ')[1]);
      return { status, body: JSON.parse(rest.join('\r\n\r\n')) as Record<string, unknown> };
    },
  };
}

/** Polls until a new TCP connection to the port is refused (the server stopped listening). */
async function waitUntilRefused(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.on('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
    });
    if (refused) return;
    if (Date.now() > deadline) throw new Error(`port ${port} still accepts connections`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const count = (text: string, needle: string) => text.split(needle).length - 1;

/** Polls until a statement waits for a lock on `table` of the harness's schema. */
const waitForLockWait = (h: Harness, table: string): Promise<void> =>
  pollUntil(
    `a statement waits for a lock on ${table}`,
    async () => {
      const { rows } = await h.db.pool.query<{ waiting: number }>(
        'SELECT count(*)::int AS waiting FROM pg_locks WHERE NOT granted AND relation = $1::regclass',
        [table],
      );
      return rows[0]!.waiting > 0;
    },
    15_000,
    20,
  );

describe('graceful shutdown (e2e, real processes)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ workers: 0 });
  });
  after(async () => {
    await h.close();
  });

  it('api on SIGTERM: readiness 503 shuttingDown, new connections refused, the in-flight request completes, exit 0', async () => {
    // Arrange
    const api = await spawnApi(h);
    try {
      const base = `http://127.0.0.1:${api.port}`;
      expect((await request(base, 'GET', '/health/ready')).status).to.equal(200);
      const slow = slowPost(
        api.port,
        '/api/v1/pipelines',
        { name: 'in-flight-at-shutdown', stages: [{ key: 'quick', agent: 'noop' }] },
        h.adminKey,
      );
      const probe = await pendingProbe(api.port, '/health/ready');
      await new Promise((r) => setTimeout(r, 200));

      // Act
      api.child.kill('SIGTERM');
      await waitUntilRefused(api.port);
      const ready = await probe.complete();

      // Assert: out of rotation at once, still draining
      expect(ready.status).to.equal(503);
      expect(ready.body).to.include({ status: 'unavailable', shuttingDown: true });
      expect(api.child.exitCode, 'exited before its in-flight request finished').to.equal(null);

      // Act 2: the in-flight request sends the rest of its body
      slow.finish();
      const created = await slow.response;
      const answeredAt = Date.now();
      const code = await api.exited;

      // Assert 2: answered in full with Redis and Postgres still open, then a prompt exit 0
      expect(created.status, JSON.stringify(created.body)).to.equal(202);
      expect(code, api.output()).to.equal(0);
      expect(Date.now() - answeredAt, 'idle keep-alive connections must not hold the exit').to.be.below(3000);
      expect(count(api.output(), 'SIGTERM received: shutting down')).to.equal(1);
      // the pipeline it recorded was queued for real: a worker runs it to the end
      await h.startWorker();
      expect((await waitForPipeline(h.baseUrl, created.body.id as string)).status).to.equal('succeeded');
    } finally {
      api.child.kill('SIGKILL');
    }
  });

  it('api, two SIGTERMs during the drain: one shutdown (the second is logged and ignored), exit 0', async () => {
    const api = await spawnApi(h);
    try {
      const slow = slowPost(api.port, '/api/v1/pipelines', { name: 'two-signals', stages: [{ key: 'quick', agent: 'noop' }] }, h.adminKey);
      await new Promise((r) => setTimeout(r, 200));

      api.child.kill('SIGTERM');
      await waitUntilRefused(api.port);
      api.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 200));
      expect(api.child.exitCode).to.equal(null);
      slow.finish();

      expect((await slow.response).status).to.equal(202);
      expect(await api.exited, api.output()).to.equal(0);
      expect(count(api.output(), 'received: shutting down')).to.equal(1);
      expect(count(api.output(), 'SIGTERM received again: already shutting down, signal ignored')).to.equal(1);
    } finally {
      api.child.kill('SIGKILL');
    }
  });

  it('api on SIGTERM with a client that hung up mid-request: its handler finishes (pipeline and root job) before Redis and Postgres close, exit 0', async () => {
    // Arrange: the submission waits on a locked pipelines table; its client hangs up meanwhile.
    const api = await spawnApi(h);
    const lock = await lockTable(h.config.DATABASE_URL, 'pipelines');
    const queue = new Queue(agentQueueName('noop'), { connection: h.connection(), prefix: h.config.QUEUE_PREFIX });
    try {
      const body = JSON.stringify({ name: 'client-gone-at-shutdown', stages: [{ key: 'root', agent: 'noop' }] });
      const req = httpRequest({
        host: '127.0.0.1',
        port: api.port,
        path: '/api/v1/pipelines',
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${h.adminKey}` },
      });
      req.on('error', () => undefined);
      const closed = new Promise((resolve) => req.once('close', resolve));
      req.end(body);
      // Hang up once the handler's statement waits for the lock (this schema's table, not another test's).
      await waitForLockWait(h, 'pipelines');
      req.destroy();
      await closed;
      await new Promise((r) => setTimeout(r, 200));

      // Act: stop the API (no connection is left, so the server closes at once), then let the statement through.
      api.child.kill('SIGTERM');
      await waitUntilRefused(api.port);
      await new Promise((r) => setTimeout(r, 500));
      expect(api.child.exitCode, 'exited with a handler still at work').to.equal(null);
      await lock.release();
      const code = await api.exited;

      // Assert: the pipeline was recorded and its root job added, before anything closed.
      expect(code, api.output()).to.equal(0);
      const { rows } = await h.db.pool.query<{ job_id: string }>(
        `SELECT COALESCE(s.job_id, s.id::text) AS job_id FROM stages s JOIN pipelines p ON p.id = s.pipeline_id WHERE p.name = $1`,
        ['client-gone-at-shutdown'],
      );
      expect(rows, 'the pipeline was recorded').to.have.length(1);
      expect(await queue.getJob(rows[0]!.job_id), `its root job was added\n${api.output()}`).to.not.equal(undefined);
      expect(api.output()).to.not.match(/Connection is closed|QUEUE_UNAVAILABLE/);
    } finally {
      api.child.kill('SIGKILL');
      await lock.release();
      await queue.close();
    }
  });

  it('worker, two SIGTERMs mid-stage: takes no new job, the running stage finishes within the grace period, exit 0', async () => {
    // Arrange: in-process workers would take the jobs, so stop them; the spawned one is alone
    await Promise.all(h.workers.map((w) => w.close()));
    h.workers.length = 0;
    const worker = spawnWorker(h.config, ['--concurrency', '2'], { SHUTDOWN_GRACE_MS: '20000', LOG_LEVEL: 'info' });
    try {
      const running = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
        name: 'finish-within-grace',
        stages: [{ key: 'nap', agent: 'sleep', input: { ms: 1500 }, retry: { attempts: 1 } }],
      });
      await waitUntil(h.baseUrl, running.body.id, (p) => p.stages[0].status === 'running', 60_000);

      // Act
      worker.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 100));
      worker.child.kill('SIGTERM');
      const later = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
        name: 'after-sigterm',
        stages: [{ key: 'quick', agent: 'noop' }],
      });
      const [code] = (await once(worker.child, 'exit')) as [number | null];

      // Assert: the running stage ended normally, in one attempt
      expect(code, worker.output()).to.equal(0);
      const done = (await request(h.baseUrl, 'GET', `/api/v1/pipelines/${running.body.id}`)).body;
      expect(done.stages[0].status).to.equal('succeeded');
      const runs = (await request(h.baseUrl, 'GET', `/api/v1/pipelines/${running.body.id}/runs`)).body.items;
      expect(runs.map((r: { status: string }) => r.status)).to.deep.equal(['succeeded']);
      // the job submitted during the drain was not taken
      const waiting = (await request(h.baseUrl, 'GET', `/api/v1/pipelines/${later.body.id}`)).body;
      expect(waiting.stages[0].status).to.equal('queued');
      expect(count(worker.output(), 'received: shutting down')).to.equal(1);
      expect(count(worker.output(), 'SIGTERM received again: already shutting down, signal ignored')).to.equal(1);
      // another worker picks up what the stopped one left
      await h.startWorker();
      expect((await waitForPipeline(h.baseUrl, running.body.id)).status).to.equal('succeeded');
      expect((await waitForPipeline(h.baseUrl, later.body.id)).status).to.equal('succeeded');
    } finally {
      await worker.stop('SIGKILL');
    }
  });
});
