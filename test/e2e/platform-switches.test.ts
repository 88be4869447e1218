// The platform switches end to end, with flags served by a local stand-in of Unleash's client API
// that the test flips. `platform.webhooks` off: nothing reaches a local HTTP receiver while events
// accumulate in Postgres (the relay's stored cursor stays put, deliveries already queued are held
// with their attempts); on again: every one is delivered, once. `platform.auto-approval` off: a
// stage its confidence would start waits for a person's decision, at submission (a root) and at a
// finish (a dependant); on again: auto-approved as before.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { expect } from 'chai';
import type { RedisClient } from '../../src/infra/queue/redis-connection.js';
import { redisTargetOf } from '../../src/composition/redis-target.js';
import { createWebhookRuntime, type WebhookRuntime } from '../../src/composition/webhook-runtime.js';
import type { PipelineEvent } from '../../src/domain/events.js';
import { WEBHOOK_QUEUE } from '../../src/infra/queue/queue-names.js';
import { createRedisConnection } from '../../src/infra/queue/redis-connection.js';
import { createWebhookQueue, webhookJobId } from '../../src/infra/webhooks/webhook.queue.js';
import { platformSwitchOn } from '../../src/services/flag-switches.js';
import { captureLogger } from '../support/capture-logger.js';
import { simpleFlag, startFlagServer, type FlagServer } from '../support/flag-server.js';
import { deleteKeys, startHarness, testPrefix, type Harness } from '../support/harness.js';
import { bearer, request, waitForPipeline, waitUntil, type Loose } from '../support/http.js';

const SECRET = 'platform-switch-secret-0123456789abcdef';
const WEBHOOKS = 'platform.webhooks';
const AUTO_APPROVAL = 'platform.auto-approval';
const PIPELINES = '/api/v1/pipelines';

async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface Receiver {
  url: string;
  /** Event ids delivered, in arrival order. */
  received: string[];
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const received: string[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      received.push((JSON.parse(raw) as { id: string }).id);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('platform switches (e2e)', function () {
  this.timeout(90_000);

  describe('platform.webhooks', () => {
    let flagServer: FlagServer;
    let h: Harness;
    let connection: RedisClient;
    let receiver: Receiver;
    let lateReceiver: Receiver;
    let runtime: WebhookRuntime;
    let late: WebhookRuntime | undefined;
    let queue: Queue;
    const logs: Loose[] = [];
    const cursorName = `webhooks-switch-${randomUUID()}`;
    const lateCursorName = `webhooks-switch-late-${randomUUID()}`;
    const latePrefix = testPrefix();

    const insertFinished = async (pipelineId: string) =>
      (
        await h.db.pool.query<{ id: string }>(
          `INSERT INTO pipeline_events (pipeline_id, type, data) VALUES ($1, 'pipeline.finished', '{"status":"succeeded"}') RETURNING id::text AS id`,
          [pipelineId],
        )
      ).rows[0]!.id;
    const cursorOf = async (name: string) =>
      (await h.db.pool.query<{ last_id: string }>('SELECT last_id::text AS last_id FROM event_cursors WHERE name = $1', [name])).rows[0]
        ?.last_id;
    // Its own queue prefix per runtime: delivery job ids name a URL by its index in the runtime's list.
    const runtimeFor = (url: string, cursor: string, prefix: string) =>
      createWebhookRuntime({
        connection,
        prefix,
        db: h.db,
        config: { WEBHOOK_URLS: [url], WEBHOOK_SECRET: SECRET, WEBHOOK_ATTEMPTS: 5, EVENTS_POLL_MS: 50 },
        logger: captureLogger(logs),
        backoffDelayMs: 20,
        cursorName: cursor,
        flags: h.flags,
        switchHoldMs: 200,
      });

    before(async () => {
      flagServer = await startFlagServer([]);
      receiver = await startReceiver();
      lateReceiver = await startReceiver();
      h = await startHarness({ workers: 0, env: { UNLEASH_URL: flagServer.url, UNLEASH_REFRESH_MS: '500' } });
      connection = createRedisConnection(redisTargetOf(h.config), 'worker');
      runtime = runtimeFor(receiver.url, cursorName, h.config.QUEUE_PREFIX);
      await runtime.start();
      queue = new Queue(WEBHOOK_QUEUE, { connection: h.connection(), prefix: h.config.QUEUE_PREFIX });
    });
    after(async () => {
      await late?.close();
      if (h) await deleteKeys(h.config.REDIS_URL, latePrefix);
      await runtime?.close();
      await queue?.close();
      await connection?.quit();
      await h?.close();
      await receiver?.close();
      await lateReceiver?.close();
      await flagServer?.close();
    });

    it('off: nothing is sent while events accumulate (cursor kept, queued deliveries held); on: all are delivered once', async () => {
      // On (undefined: its fallback): delivered as usual.
      const first = await insertFinished(randomUUID());
      await waitFor(() => receiver.received.includes(first), 'a delivery while on');

      flagServer.set([simpleFlag(WEBHOOKS, false)]);
      await waitFor(() => !platformSwitchOn(h.flags, 'webhooks'), 'the switch to be read');
      await waitFor(() => logs.some((l) => l.message.startsWith('webhook relay paused')), 'the relay to pause');
      const cursorWhenOff = (await cursorOf(cursorName))!;

      // Started while off: it positions its cursor (so nothing written from now on is lost) and reads nothing.
      late = runtimeFor(lateReceiver.url, lateCursorName, latePrefix);
      await late.start();
      const lateCursor = await cursorOf(lateCursorName);
      expect(lateCursor, 'the late relay stored its starting cursor').to.be.a('string');

      const pipelineId = randomUUID();
      const held: string[] = [];
      for (let i = 0; i < 4; i++) held.push(await insertFinished(pipelineId));
      // A delivery already in the queue (added before the switch was seen): held, not sent.
      const deliveries = createWebhookQueue(connection, h.config.QUEUE_PREFIX, { attempts: 5 });
      const queued: PipelineEvent = {
        id: held[0]!,
        pipelineId,
        type: 'pipeline.finished',
        stageKey: null,
        actor: 'system',
        data: { status: 'succeeded' },
        createdAt: new Date(),
      };
      await deliveries.enqueue([queued], [receiver.url]);
      await deliveries.close();
      await waitFor(
        async () => ((await queue.getJob(webhookJobId(held[0]!, 0)))?.attemptsStarted ?? 0) >= 1,
        'the queued delivery to be fetched and put back',
      );

      // Many relay polls (50 ms) and holds (200 ms) later, still nothing sent or relayed.
      await new Promise((r) => setTimeout(r, 1500));
      expect(
        receiver.received.filter((id) => held.includes(id)),
        'sent while off',
      ).to.deep.equal([]);
      expect(lateReceiver.received, 'sent by the late relay while off').to.deep.equal([]);
      expect(await cursorOf(cursorName), 'the stored cursor').to.equal(cursorWhenOff);
      expect(await cursorOf(lateCursorName), 'the late relay cursor').to.equal(lateCursor);
      for (const id of held.slice(1)) expect(await queue.getJob(webhookJobId(id, 0)), `a job for event ${id}`).to.equal(undefined);
      const job = (await queue.getJob(webhookJobId(held[0]!, 0)))!;
      expect(job.attemptsMade).to.equal(0);
      expect(await job.getState()).to.not.equal('completed');

      // On again: every event written meanwhile is delivered, once, by both relays.
      flagServer.set([simpleFlag(WEBHOOKS, true)]);
      await waitFor(() => held.every((id) => receiver.received.includes(id)), 'every held event to be delivered');
      await waitFor(() => held.every((id) => lateReceiver.received.includes(id)), 'the late relay to deliver them');
      const sent = receiver.received.filter((id) => held.includes(id));
      expect([...sent].sort((a, b) => Number(a) - Number(b))).to.deep.equal(held);
      await waitFor(async () => BigInt((await cursorOf(cursorName))!) >= BigInt(held[3]!), 'the stored cursor to pass them');
      expect((await queue.getJob(webhookJobId(held[0]!, 0)))!.attemptsMade).to.equal(1);
      expect(logs.filter((l) => l.message === 'webhooks switched off by flag')).to.have.length.of.at.least(2);
      expect(logs.some((l) => l.message === 'webhooks switched on')).to.equal(true);
    });
  });

  describe('platform.auto-approval', () => {
    let flagServer: FlagServer;
    let h: Harness;
    let techLead: { key: string; id: string };

    const decisionFor = async (pipelineId: string, key: string): Promise<Loose> => {
      const p = await waitUntil(h.baseUrl, pipelineId, (x) =>
        (x.decisions as Loose[]).some((d) => d.stageKey === key && d.status === 'pending'),
      );
      const summary = (p.decisions as Loose[]).find((d) => d.stageKey === key && d.status === 'pending')!;
      return (await request(h.baseUrl, 'GET', `/api/v1/decisions/${summary.id}`)).body;
    };
    const approve = async (decision: Loose) => {
      const res = await request(h.baseUrl, 'POST', `/api/v1/decisions/${decision.id}/approve`, {}, bearer(techLead.key));
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
    };
    /** `upstream` (validation) reports confidence 95; `apply` (noop, technical_refactor: auto-approved at 85) depends on it. */
    const pipeline = (name: string) => ({
      name,
      stages: [
        { key: 'upstream', agent: 'sim_validation', input: { simulate: { confidence: 95 } } },
        { key: 'apply', agent: 'noop', dependsOn: ['upstream'] },
      ],
    });

    before(async () => {
      flagServer = await startFlagServer([simpleFlag(AUTO_APPROVAL, false)]);
      h = await startHarness({ env: { UNLEASH_URL: flagServer.url, UNLEASH_REFRESH_MS: '500' } });
      techLead = await h.createKey('tech-lead', ['approver', 'tech_lead']);
      await waitFor(() => !platformSwitchOn(h.flags, 'autoApproval'), 'the switch to be read');
    });
    after(async () => {
      await h?.close();
      await flagServer?.close();
    });

    it('off: the root and its dependant, both above their threshold, each wait for a person; approved, they run', async () => {
      const created = await request(h.baseUrl, 'POST', PIPELINES, pipeline('auto-approval-off'));
      expect(created.status, JSON.stringify(created.body)).to.equal(202);
      const id = created.body.id as string;

      // Submission: the root is not queued by its confidence (none reported: 100).
      const rootDecision = await decisionFor(id, 'upstream');
      expect(rootDecision.category).to.equal('technical_refactor');
      expect(rootDecision.evidence.reason).to.match(/^auto-approval is switched off \(platform\.auto-approval\)/);
      const p1 = (await request(h.baseUrl, 'GET', `${PIPELINES}/${id}`)).body;
      expect((p1.stages as Loose[]).map((s) => [s.key, s.status, s.attempts])).to.deep.equal([
        ['upstream', 'waiting', 0],
        ['apply', 'pending', 0],
      ]);
      await approve(rootDecision);

      // Finish: upstream's 95 reaches apply's 85, yet apply waits for its own decision.
      const applyDecision = await decisionFor(id, 'apply');
      expect(applyDecision.confidence).to.equal(95);
      expect(applyDecision.evidence.reason).to.match(/^auto-approval is switched off/);
      const p2 = (await request(h.baseUrl, 'GET', `${PIPELINES}/${id}`)).body;
      expect((p2.stages as Loose[]).find((s) => s.key === 'apply')!.status).to.equal('waiting');
      await approve(applyDecision);

      const done = await waitForPipeline(h.baseUrl, id);
      expect(done.status).to.equal('succeeded');
      expect((done.decisions as Loose[]).map((d) => [d.stageKey, d.status])).to.deep.equal([
        ['upstream', 'approved'],
        ['apply', 'approved'],
      ]);
    });

    it('on again: the same pipeline is auto-approved throughout, no decision opened', async () => {
      flagServer.set([simpleFlag(AUTO_APPROVAL, true)]);
      await waitFor(() => platformSwitchOn(h.flags, 'autoApproval'), 'the switch to be read');
      const created = await request(h.baseUrl, 'POST', PIPELINES, pipeline('auto-approval-on'));
      expect(created.status).to.equal(202);
      const done = await waitForPipeline(h.baseUrl, created.body.id as string);
      expect(done.status).to.equal('succeeded');
      expect(done.decisions).to.deep.equal([]);
    });
  });
});
