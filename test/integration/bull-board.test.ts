// Bull Board at /admin/queues: the operator gate (Bearer or Basic with ADMIN_TOKEN), the board's
// API listing every queue, the read-only control queue (writes answer 405) and a retry of a failed
// job on an agent queue. API only (no platform workers), against the real Redis and Postgres.
import { expect } from 'chai';
import { Queue, Worker } from 'bullmq';
import { startHarness, type Harness } from '../support/harness.js';
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

  it('its API lists the agent queues and the control queue (read-only)', async () => {
    const res = await get(`${BOARD}/api/queues`, bearer);
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { queues: { name: string; readOnlyMode: boolean }[] };
    const byName = new Map(body.queues.map((q) => [q.name, q]));
    expect(byName.get(CONTROL_QUEUE)?.readOnlyMode).to.equal(true);
    const agentNames = [...h.catalog.keys()].map(agentQueueName);
    expect(agentNames.length).to.be.greaterThan(0);
    for (const name of agentNames) expect(byName.get(name)?.readOnlyMode, name).to.equal(false);
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
