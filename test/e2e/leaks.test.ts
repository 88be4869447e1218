// No leaks: an API and a worker runtime in this process (as startHarness starts them) hold the
// same handles, timers, listeners and Redis connections after 1,000 pipelines as before them;
// once closed, nothing they created is left, not even an unref'd timer (async_hooks); and the real
// api and worker entries stop on SIGTERM with nothing left open ("process stopped" says so).
import type { EventEmitter } from 'node:events';
import { request as httpRequest } from 'node:http';
import { expect } from 'chai';
import { Cluster, Redis } from 'ioredis';
import type { RedisClient } from '../../src/infra/queue/redis-connection.js';
import { openTestRedis } from '../support/test-redis.js';
import { startHarness, type Harness } from '../support/harness.js';
import { captureLogger } from '../support/capture-logger.js';
import type { Loose } from '../support/http.js';
import { startEntry, waitForOutput } from '../support/processes.js';
import { freePort, pollUntil } from '../support/chaos/free-port.js';
import { countResources, trackResources, type ResourceCounts } from '../support/resource-counts.js';

const PIPELINES = 1000;
const WARM_UP = 100;
const SUBMITTERS = 16;
const TERMINAL = ['succeeded', 'failed', 'cancelled'];

/** Two noop stages, the second released by the first's finish. */
const definition = (n: number) => ({
  name: `leak-${n}`,
  stages: [
    { key: 'a', agent: 'noop', input: {} },
    { key: 'b', agent: 'noop', dependsOn: ['a'], input: {} },
  ],
});

/**
 * POST /api/v1/pipelines on a connection of its own, closed after the answer: a keep-alive
 * client's idle sockets (and the server's timers for them) would come and go with the load and
 * blur the counts, and they belong to the test, not the platform.
 */
function submit(h: Harness, body: unknown, baseUrl = h.baseUrl): Promise<{ status: number; text: string }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${baseUrl}/api/v1/pipelines`,
      {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          authorization: `Bearer ${h.adminKey}`,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Submits `count` pipelines over HTTP, SUBMITTERS at a time, and waits until every one has finished. */
async function runPipelines(h: Harness, count: number, baseUrl = h.baseUrl): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: SUBMITTERS }, async () => {
      while (next < count) {
        const n = next++;
        const res = await submit(h, definition(n), baseUrl);
        expect(res.status, res.text).to.equal(202);
        ids.push((JSON.parse(res.text) as { id: string }).id);
      }
    }),
  );
  await pollUntil(
    `${count} pipelines finished`,
    async () => {
      const { rows } = await h.db.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pipelines WHERE id = ANY($1::uuid[]) AND status::text = ANY($2::text[])',
        [ids, TERMINAL],
      );
      return rows[0]!.n === count;
    },
    240_000,
    250,
  );
  return ids;
}

async function statusesOf(h: Harness, ids: string[]): Promise<Record<string, number>> {
  const { rows } = await h.db.pool.query<{ status: string; n: number }>(
    'SELECT status, count(*)::int AS n FROM pipelines WHERE id = ANY($1::uuid[]) GROUP BY status',
    [ids],
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** The emitters a test can reach: each BullMQ worker, its Redis connections and their sockets, the pool. */
async function reachableEmitters(h: Harness): Promise<Record<string, EventEmitter>> {
  const emitters: Record<string, EventEmitter> = { pool: h.db.pool };
  const runtime = h.workers[0]!;
  for (const worker of runtime.workers) {
    emitters[`worker ${worker.name}`] = worker;
    const backend = worker.getBackend();
    if (backend.blockingConnection) addConnection(emitters, `blocking ${worker.name}`, ioredis(await backend.blockingConnection.client));
  }
  // Every Worker of the runtime shares one non-blocking connection.
  addConnection(emitters, 'shared', ioredis(await runtime.workers[0]!.getBackend().client));
  return emitters;
}

/** A connection and its socket; a cluster's, its connection to each node (by port) and their sockets. */
function addConnection(emitters: Record<string, EventEmitter>, name: string, client: Redis | Cluster): void {
  emitters[`${name} redis`] = client;
  const servers = client instanceof Cluster ? client.nodes('all').map((node) => [`${name} node ${node.options.port}`, node] as const) : [];
  for (const [label, node] of servers) emitters[`${label} redis`] = node;
  for (const [label, server] of [[name, client] as const, ...servers])
    if (server instanceof Redis && server.stream) emitters[`${label} socket`] = server.stream;
}

/** BullMQ types its connections by an interface; ours are ioredis instances or clusters (checked, not assumed). */
function ioredis(client: unknown): Redis | Cluster {
  if (!(client instanceof Redis) && !(client instanceof Cluster)) throw new Error('expected an ioredis connection or cluster');
  return client;
}

const same = (a: ResourceCounts, b: ResourceCounts) => JSON.stringify(a) === JSON.stringify(b);

describe('no leaks: 1,000 pipelines through an in-process API and worker (e2e)', function () {
  this.timeout(600_000);
  let h: Harness | undefined;
  let redis: RedisClient;
  before(() => {
    redis = openTestRedis();
  });
  // Closed before the next case starts: the close() case counts what is alive in the whole process.
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });
  after(() => redis.disconnect());

  it('handles, timers, listeners and Redis connections are the same after 1,000 pipelines as before', async () => {
    h = await startHarness({ workers: 1, concurrency: 20 });
    const harness = h;
    const emitters = await reachableEmitters(harness);
    const snapshot = () => countResources({ pool: harness.db.pool, emitters, redis });

    // Warm-up: the pool and lazily made objects reach their working size.
    const warm = await runPipelines(harness, WARM_UP);
    expect(await statusesOf(harness, warm)).to.deep.equal({ succeeded: WARM_UP });
    // Steady: three snapshots in a row alike.
    let baseline = await snapshot();
    let alike = 0;
    await pollUntil(
      'a steady baseline',
      async () => {
        const now = await snapshot();
        alike = same(now, baseline) ? alike + 1 : 0;
        baseline = now;
        return alike >= 3;
      },
      60_000,
      500,
    );

    const ids = await runPipelines(harness, PIPELINES);
    expect(await statusesOf(harness, ids)).to.deep.equal({ succeeded: PIPELINES });

    // Settled: the counts come back to the baseline (a leak never does; the wait is only a bound).
    let after = await snapshot();
    await pollUntil(
      'the baseline counts again',
      async () => {
        after = await snapshot();
        return same(after, baseline);
      },
      60_000,
      500,
    ).catch(() => undefined); // then the deep-equal below names what differs
    const pool = { total: harness.db.pool.totalCount, idle: harness.db.pool.idleCount, max: harness.config.DATABASE_POOL_SIZE };
    process.stdout.write(`      figures: ${JSON.stringify({ baseline, after, pool })}\n`);
    expect(after).to.deep.equal(baseline);
    expect(pool.total).to.be.at.most(pool.max);
    // The known periodic timers: each is in the baseline once and still once, so the equality
    // above holds them; signal and error handlers were not added per pipeline.
    expect(after.processListeners.SIGTERM ?? 0).to.equal(baseline.processListeners.SIGTERM ?? 0);
    expect(after.processListeners.uncaughtException ?? 0).to.equal(baseline.processListeners.uncaughtException ?? 0);
  });

  it('close(): nothing the runtimes created is left (not even an unref’d timer), with webhook retries pending and an event stream open', async () => {
    const tracked = trackResources();
    try {
      // Webhooks to a port nobody listens on: deliveries fail and wait in their backoff at close.
      const dead = await freePort();
      // What the platform warned of says why, should the stream carry nothing.
      const logs: Loose[] = [];
      h = await startHarness({
        workers: 1,
        concurrency: 20,
        logger: captureLogger(logs),
        env: { WEBHOOK_URLS: `http://127.0.0.1:${dead}/hook`, WEBHOOK_SECRET: 'leak-test-secret-0123456789abcdef', EVENTS_POLL_MS: '50' },
      });
      const stream = await openEventStream(h);
      const ids = await runPipelines(h, 20);
      expect(await statusesOf(h, ids)).to.deep.equal({ succeeded: 20 });
      // The feed hands events on in id order, holding those above an id not yet committed (up to
      // 2 s): on a busy machine the last finish can come before the stream's first event.
      await pollUntil('the stream to carry an event', async () => stream.received().includes('event: '), 10_000, 50).catch(() => undefined);
      const warnings = logs.filter((l) => l.level === 'warn' || l.level === 'error').map((l) => JSON.stringify(l));
      expect(
        stream.received(),
        `the stream (${stream.ended() ? 'ended' : 'still open'}) carried no event; the platform's warnings:\n${warnings.join('\n')}`,
      ).to.include('event: ');
      // Closed as the entries close: the open stream must not hold the server (it ends itself).
      await h.close();
      h = undefined;
      // Sockets close a tick after their end: wait until nothing is left or the bound passes, then list what is.
      const platforms = () => tracked.alive().filter((r) => !createdByTheTest(r.stack));
      await pollUntil('every resource closed', async () => platforms().length === 0, 30_000, 100).catch(() => undefined);
      const left = platforms().map((r) => `${r.type}${r.ref ? '' : ' (unref)'}\n${r.stack}`);
      expect(left, `left after close():\n${left.join('\n\n')}`).to.deep.equal([]);
    } finally {
      tracked.stop();
    }
  });

  it('the api and worker entries, stopped by SIGTERM after 50 pipelines: "process stopped" names nothing left open', async () => {
    // The harness here only makes the admin key and reads the database; the entries do the work.
    h = await startHarness({ workers: 0 });
    const port = await freePort();
    const env = {
      DATABASE_URL: process.env.TEST_DATABASE_URL!,
      QUEUE_PREFIX: h.config.QUEUE_PREFIX,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'info',
    };
    const api = startEntry('src/server.ts', env);
    const worker = startEntry('src/worker.ts', env);
    try {
      await Promise.all([waitForOutput(api, /api listening/), waitForOutput(worker, /worker process ready/)]);
      const ids = await runPipelines(h, 50, `http://127.0.0.1:${port}`);
      expect(await statusesOf(h, ids)).to.deep.equal({ succeeded: 50 });
    } finally {
      await Promise.all([api.stop(), worker.stop()]);
    }
    for (const [name, started] of [
      ['api', api],
      ['worker', worker],
    ] as const) {
      const stopped = started
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .find((line) => line.message === 'process stopped');
      expect(stopped, `${name}:\n${started.output()}`).to.include({ exitCode: 0 });
      // `leftOpen` appears only when the stop forgot a timer, socket or child.
      expect(stopped!.leftOpen, name).to.equal(undefined);
    }
  });
});

/**
 * Made by the test, not the platform: its first frame outside Node is in test/ (this file's
 * stream client, pollUntil's wait) or in mocha (the case's own timeout timer).
 */
function createdByTheTest(stack: string): boolean {
  const first = stack
    .split('\n')
    .map((line) => line.trim())
    .find((line) => line.startsWith('at ') && !line.includes('node:') && !line.includes('(<anonymous>)'));
  return first !== undefined && (first.includes('/test/') || first.includes('/node_modules/mocha/'));
}

/** GET /api/v1/events kept open (server-sent events), collecting what arrives. */
function openEventStream(h: Harness): Promise<{ received(): string; ended(): boolean }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${h.baseUrl}/api/v1/events`, { agent: false, headers: { authorization: `Bearer ${h.adminKey}` } }, (res) => {
      let text = '';
      let ended = false;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('error', () => undefined);
      res.on('close', () => (ended = true));
      if (res.statusCode !== 200) reject(new Error(`GET /api/v1/events: ${res.statusCode}`));
      else resolve({ received: () => text, ended: () => ended });
    });
    req.on('error', reject);
    req.end();
  });
}
