// Bull Board at /admin/queues: the operator gate (Bearer or Basic with ADMIN_TOKEN), the board's
// API listing every queue, the read-only control queue (writes answer 405) and a retry of a failed
// job on an agent queue. API only (no platform workers), against the real Redis and Postgres.
// Then, with a worker: the board's retry of a failed stage job is a DLQ replay (the stage and
// pipeline reopen and finish), one job or all of an agent queue's.
import { expect } from 'chai';
import { Queue, Worker } from 'bullmq';
import { startHarness, type Harness } from '../support/harness.js';
import { request, waitForPipeline, type Loose } from '../support/http.js';
import { agentQueueName, CONTROL_QUEUE } from '../../src/infra/queue/queue-names.js';

const TOKEN = 'bull-board-test-token-0123456789';
const BOARD = '/admin/queues';
const bearer = { authorization: `Bearer ${TOKEN}` };
const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`operator:${password}`).toString('base64')}` });

describe('Bull Board at /admin/queues (integration)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ workers: 0, env: { ADMIN_TOKEN: TOKEN } });
  });
  after(async () => {
    await h?.close();
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${h.baseUrl}${path}`, { headers });

  it('answers 401 with a Basic challenge without the token, or with a wrong one', async () => {
    for (const headers of [{}, { authorization: 'Bearer not-the-admin-token-at-all' }, basic('wrong-password-wrong-password')]) {
      const res = await get(BOARD, headers);
      expect(res.status).to.equal(401);
      expect(res.headers.get('www-authenticate')).to.equal('Basic realm="agentic-sdlc"');
      await res.text();
    }
  });

  it('serves the board (HTML, base path /admin/queues/) with the token as Bearer or as the Basic password', async () => {
    for (const headers of [bearer, basic(TOKEN)]) {
      const res = await get(BOARD, headers);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^text\/html/);
      expect(res.headers.get('content-security-policy')).to.contain("script-src 'self'");
      const html = await res.text();
      expect(html).to.contain('<base href="/admin/queues/"');
    }
  });

  it('its API lists the agent queues and the control queue (read-only), and no webhook queue while webhooks are off', async () => {
    const res = await get(`${BOARD}/api/queues`, bearer);
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { queues: { name: string; readOnlyMode: boolean }[] };
    const byName = new Map(body.queues.map((q) => [q.name, q]));
    expect(byName.get(CONTROL_QUEUE)?.readOnlyMode).to.equal(true);
    const agentNames = [...h.catalog.keys()].map(agentQueueName);
    expect(agentNames.length).to.be.greaterThan(0);
    for (const name of agentNames) expect(byName.get(name)?.readOnlyMode, name).to.equal(false);
    expect(byName.has('webhooks')).to.equal(false);
  });

  it('refuses every write to the control queue with 405', async () => {
    for (const [method, path] of [
      ['POST', 'retry/failed'],
      ['PUT', 'retry/failed'],
      ['PUT', 'clean/completed'],
      ['PUT', 'pause'],
      ['DELETE', 'some-job'],
      ['PATCH', 'some-job/clean'],
    ] as const) {
      const res = await fetch(`${h.baseUrl}${BOARD}/api/queues/${CONTROL_QUEUE}/${path}`, { method, headers: bearer });
      expect(res.status, `${method} ${path}`).to.equal(405);
      await res.text();
    }
  });

  it('retries a failed job of an agent queue', async () => {
    const agentType = [...h.catalog.keys()][0]!;
    const name = agentQueueName(agentType);
    const connection = { url: h.config.REDIS_URL };
    const queue = new Queue(name, { connection, prefix: h.config.QUEUE_PREFIX });
    const worker = new Worker(
      name,
      async () => {
        throw new Error('boom');
      },
      { connection, prefix: h.config.QUEUE_PREFIX },
    );
    try {
      const failed = new Promise<void>((resolve) => worker.on('failed', () => resolve()));
      const job = await queue.add('board-test', { note: 'fails once' }, { attempts: 1 });
      await failed;
      await worker.close();
      expect(await job.getState()).to.equal('failed');

      const res = await fetch(`${h.baseUrl}${BOARD}/api/queues/${encodeURIComponent(name)}/${job.id}/retry`, { method: 'PUT', headers: bearer });
      expect(res.status).to.equal(204);
      expect(await queue.getJobState(job.id!)).to.equal('waiting');
    } finally {
      await worker.close();
      await queue.close();
    }
  });
});

describe('Bull Board with webhooks configured (integration)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ workers: 0, env: { ADMIN_TOKEN: TOKEN, WEBHOOK_URLS: 'http://127.0.0.1:9/hook', WEBHOOK_SECRET: 'webhook-secret-0123456789' } });
  });
  after(async () => {
    await h?.close();
  });

  it('also shows the webhook deliveries queue, writable', async () => {
    const res = await fetch(`${h.baseUrl}${BOARD}/api/queues`, { headers: bearer });
    const body = (await res.json()) as { queues: { name: string; readOnlyMode: boolean; description?: string }[] };
    const webhooks = body.queues.find((q) => q.name === 'webhooks');
    expect(webhooks, body.queues.map((q) => q.name).join(', ')).to.not.equal(undefined);
    expect(webhooks!.readOnlyMode).to.equal(false);
    expect(webhooks!.description).to.equal('Webhook deliveries (retry re-sends one)');
  });
});

describe('Bull Board retry of failed stage jobs is a DLQ replay (integration)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ env: { ADMIN_TOKEN: TOKEN } });
  });
  after(async () => {
    await h?.close();
  });

  /** A one-stage pipeline whose `fail` stage fails its first attempt, and has only one. */
  const failedOnce = async (name: string): Promise<Loose> => {
    const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
      name,
      stages: [{ key: 'flaky', agent: 'fail', input: { message: 'flaky for now', failAttempts: 1 }, retry: { attempts: 1 } }],
    });
    expect(created.status).to.equal(202);
    const failed = await waitForPipeline(h.baseUrl, created.body.id);
    expect(failed.status).to.equal('failed');
    return failed;
  };
  const put = (path: string) => fetch(`${h.baseUrl}${BOARD}/api/queues/${encodeURIComponent(agentQueueName('fail'))}/${path}`, { method: 'PUT', headers: bearer });

  it('retry of one job: 204, the stage reopens and the pipeline succeeds; the audit names bull-board', async () => {
    const failed = await failedOnce('board-retry-one');
    const res = await put(`${failed.stages[0].id}/retry`);
    expect(res.status).to.equal(204);
    const done = await waitForPipeline(h.baseUrl, failed.id);
    expect(done.status).to.equal('succeeded');
    const audit = await request(h.baseUrl, 'GET', `/api/v1/pipelines/${failed.id}/audit`);
    expect(audit.body.items.some((e: Loose) => e.type === 'dlq.replayed' && e.actor === 'bull-board')).to.equal(true);
  });

  it('a retry the DLQ refuses (the stage had continueOnFailure, its pipeline went on) answers 409 with the reason; the job stays failed', async () => {
    const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
      name: 'board-retry-refused',
      stages: [
        { key: 'optional', agent: 'fail', input: { message: 'never mind' }, retry: { attempts: 1 }, continueOnFailure: true },
        { key: 'after', agent: 'noop', dependsOn: ['optional'], input: {} },
      ],
    });
    const done = await waitForPipeline(h.baseUrl, created.body.id);
    expect(done.status).to.equal('succeeded');
    const jobId = done.stages[0].id as string;
    const res = await put(`${jobId}/retry`);
    expect(res.status).to.equal(409);
    expect(((await res.json()) as Loose).error.code).to.equal('CONTINUED_ON_FAILURE');
    const queue = new Queue(agentQueueName('fail'), { connection: { url: h.config.REDIS_URL }, prefix: h.config.QUEUE_PREFIX });
    try {
      expect(await queue.getJobState(jobId)).to.equal('failed');
    } finally {
      await queue.close();
    }
  });

  it('retry all failed of an agent queue: every failed stage job replayed, their pipelines succeed', async () => {
    const pipelines = await Promise.all([failedOnce('board-retry-all-1'), failedOnce('board-retry-all-2')]);
    const res = await put('retry/failed');
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { retried: number; skipped: number };
    expect(body.retried).to.be.at.least(2);
    for (const p of pipelines) expect((await waitForPipeline(h.baseUrl, p.id)).status).to.equal('succeeded');
  });
});
