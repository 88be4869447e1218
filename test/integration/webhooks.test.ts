// Webhooks end to end against the real Redis and Postgres; only the receivers are ours (real
// local HTTP servers). The test database is shared by the run: receivers look only at their own
// pipelines' events. Delivery jobs carry only `{ v: 2, eventId, urlIndex }`: jobs written
// straight into the queue (a forged v1 job, an unknown event, a non-webhook event, an index
// beyond WEBHOOK_URLS, a mismatched job id) fail and send nothing.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { expect } from 'chai';
import type { RedisClient } from '../../src/infra/queue/redis-connection.js';
import { redisTargetOf } from '../../src/composition/redis-target.js';
import { createRedisConnection } from '../../src/infra/queue/redis-connection.js';
import { WEBHOOK_QUEUE } from '../../src/infra/queue/queue-names.js';
import { createLogger } from '../../src/infra/telemetry/logger.js';
import type { PipelineEvent } from '../../src/domain/events.js';
import { createEventReader } from '../../src/infra/events/event.repository.js';
import { toWebhookBody, WEBHOOK_DELIVERY_JOB } from '../../src/infra/webhooks/webhook-payloads.js';
import { createWebhookQueue, webhookJobId } from '../../src/infra/webhooks/webhook.queue.js';
import { createWebhookRuntime, type WebhookRuntime } from '../../src/composition/webhook-runtime.js';
import { verifyWebhook } from '../../src/infra/webhooks/webhook-signature.js';
import { startHarness, type Harness } from '../support/harness.js';
import { bearer as bearerOf, request, waitForPipeline, type Loose } from '../support/http.js';
import { runCliCaptured } from '../support/cli-captured.js';

const SECRET = 'webhook-test-secret-0123456789abcdef';

interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  body: Loose;
  status: number;
}

interface Receiver {
  url: string;
  received: Received[];
  forPipeline(pipelineId: string): Received[];
  close(): Promise<void>;
}

/** A real HTTP receiver; `answer` picks the status for each delivery. */
async function startReceiver(answer: (body: Loose, received: Received[]) => number = () => 200): Promise<Receiver> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      const body = JSON.parse(raw) as Loose;
      const status = answer(body, received);
      received.push({ headers: req.headers, raw, body, status });
      res.writeHead(status, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    forPipeline: (pipelineId) => received.filter((r) => r.body.pipelineId === pipelineId),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function expectSigned(r: Received): void {
  const signature = r.headers['x-agentic-signature'];
  expect(signature)
    .to.be.a('string')
    .and.match(/^t=\d+,v1=[0-9a-f]{64}$/);
  expect(verifyWebhook(SECRET, signature as string, r.raw), 'signature').to.equal(true);
  expect(verifyWebhook('not-the-secret-at-all-0123456789', signature as string, r.raw)).to.equal(false);
}

describe('webhooks (integration)', () => {
  describe('wired into the worker runtime (WEBHOOK_URLS set)', () => {
    let receiver: Receiver;
    let h: Harness;
    before(async () => {
      receiver = await startReceiver();
      h = await startHarness({ env: { WEBHOOK_URLS: receiver.url, WEBHOOK_SECRET: SECRET, EVENTS_POLL_MS: '50' } });
    });
    after(async () => {
      await h.close();
      await receiver.close();
    });

    it('a pipeline finishes: the receiver gets pipeline.finished once, signed, with the event id and type headers', async () => {
      const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
        name: 'webhook-e2e',
        stages: [
          { key: 'a', agent: 'noop' },
          { key: 'b', agent: 'noop', dependsOn: ['a'] },
        ],
      });
      const id = created.body.id as string;
      expect((await waitForPipeline(h.baseUrl, id)).status).to.equal('succeeded');
      await waitFor(() => receiver.forPipeline(id).some((r) => r.body.type === 'pipeline.finished'), 'pipeline.finished');

      const { rows } = await h.db.pool.query<{ id: string }>(
        "SELECT id::text AS id FROM pipeline_events WHERE pipeline_id = $1 AND type = 'pipeline.finished'",
        [id],
      );
      const deliveries = receiver.forPipeline(id);
      // Stage events are not webhook events.
      expect(deliveries.map((r) => r.body.type)).to.deep.equal(['pipeline.finished']);
      const [delivery] = deliveries;
      expectSigned(delivery!);
      expect(delivery!.headers['x-agentic-event']).to.equal('pipeline.finished');
      expect(delivery!.headers['x-agentic-delivery']).to.equal(rows[0]!.id);
      expect(delivery!.headers['content-type']).to.equal('application/json');
      expect(delivery!.body).to.include({ id: rows[0]!.id, type: 'pipeline.finished', pipelineId: id, stageKey: null, actor: 'system' });
      expect(delivery!.body.data.status).to.equal('succeeded');
      expect(Number.isNaN(Date.parse(delivery!.body.createdAt))).to.equal(false);
    });

    it('a decision and a clarification open: the receiver gets decision.requested and clarification.requested, signed', async () => {
      const held = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
        name: 'webhook-decision',
        stages: [{ key: 'ship', agent: 'sim_deployment' }],
      });
      const asked = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
        name: 'webhook-clarification',
        input: { requirements: 'Make it maybe faster' },
        stages: [{ key: 'a', agent: 'noop' }],
      });

      await waitFor(() => receiver.forPipeline(held.body.id).some((r) => r.body.type === 'decision.requested'), 'decision.requested');
      await waitFor(
        () => receiver.forPipeline(asked.body.id).some((r) => r.body.type === 'clarification.requested'),
        'clarification.requested',
      );

      const decision = receiver.forPipeline(held.body.id).find((r) => r.body.type === 'decision.requested')!;
      expectSigned(decision);
      expect(decision.body).to.include({ stageKey: 'ship', actor: 'policy' });
      expect(decision.body.data).to.include({ category: 'cost_impacting' });
      expect(decision.body.data.decisionId).to.match(/^DEC-\d{4}-\d{5,}$/);
      const clarification = receiver.forPipeline(asked.body.id).find((r) => r.body.type === 'clarification.requested')!;
      expectSigned(clarification);
      expect(clarification.body).to.include({ stageKey: null, actor: 'submission' });
      expect((clarification.body.data.questions as Loose[]).map((q) => q.id)).to.include('ambiguous:maybe');
      await request(h.baseUrl, 'POST', `/api/v1/pipelines/${held.body.id}/cancel`);
      await request(h.baseUrl, 'POST', `/api/v1/pipelines/${asked.body.id}/cancel`);
    });
  });

  describe('rotating the secret (WEBHOOK_SECRET_PREVIOUS set)', () => {
    const OLD = 'webhook-old-secret-0123456789abcdef';
    let receiver: Receiver;
    let h: Harness;
    before(async () => {
      receiver = await startReceiver();
      h = await startHarness({
        env: { WEBHOOK_URLS: receiver.url, WEBHOOK_SECRET: SECRET, WEBHOOK_SECRET_PREVIOUS: OLD, EVENTS_POLL_MS: '50' },
      });
    });
    after(async () => {
      await h.close();
      await receiver.close();
    });

    it('a delivery carries one v1 per secret: a receiver still on the old secret and one on the new both accept it', async () => {
      const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
        name: 'webhook-rotation',
        stages: [{ key: 'a', agent: 'noop' }],
      });
      const id = created.body.id as string;
      await waitFor(() => receiver.forPipeline(id).some((r) => r.body.type === 'pipeline.finished'), 'pipeline.finished');

      const [delivery] = receiver.forPipeline(id);
      const signature = delivery!.headers['x-agentic-signature'] as string;
      expect(signature).to.match(/^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
      expect(verifyWebhook(SECRET, signature, delivery!.raw), 'receiver on the new secret').to.equal(true);
      expect(verifyWebhook(OLD, signature, delivery!.raw), 'receiver still on the old secret').to.equal(true);
      expect(verifyWebhook('not-the-secret-at-all-0123456789', signature, delivery!.raw)).to.equal(false);
    });
  });

  describe('own runtime with a 20 ms backoff base', () => {
    let receiver: Receiver;
    // Not in WEBHOOK_URLS: a forged job names it; it must never get a request.
    let stranger: Receiver;
    let h: Harness;
    let connection: RedisClient;
    let runtime: WebhookRuntime;
    let queue: Queue;
    const cursorName = `webhooks-test-${randomUUID()}`;
    // Per pipeline: the statuses to answer, in order (the last one repeats).
    const script = new Map<string, number[]>();

    const insertFinished = async (pipelineId: string) =>
      (
        await h.db.pool.query<{ id: string }>(
          `INSERT INTO pipeline_events (pipeline_id, type, data) VALUES ($1, 'pipeline.finished', '{"status":"succeeded"}') RETURNING id::text AS id`,
          [pipelineId],
        )
      ).rows[0]!.id;
    const insertEvent = async (pipelineId: string, type: string, data: object = {}) =>
      (
        await h.db.pool.query<{ id: string }>(
          `INSERT INTO pipeline_events (pipeline_id, type, data) VALUES ($1, $2, $3) RETURNING id::text AS id`,
          [pipelineId, type, JSON.stringify(data)],
        )
      ).rows[0]!.id;
    const jobOf = (eventId: string) => queue.getJob(webhookJobId(eventId, 0));
    const stateOf = async (jobId: string) => (await queue.getJob(jobId))?.getState();

    before(async () => {
      receiver = await startReceiver((body, received) => {
        const statuses = script.get(body.pipelineId as string) ?? [200];
        const seen = received.filter((r) => r.body.id === body.id).length;
        return statuses[Math.min(seen, statuses.length - 1)]!;
      });
      stranger = await startReceiver();
      h = await startHarness({ workers: 0 });
      connection = createRedisConnection(redisTargetOf(h.config), 'worker');
      runtime = createWebhookRuntime({
        connection,
        prefix: h.config.QUEUE_PREFIX,
        db: h.db,
        config: { WEBHOOK_URLS: [receiver.url], WEBHOOK_SECRET: SECRET, WEBHOOK_ATTEMPTS: 5, EVENTS_POLL_MS: 50 },
        logger: createLogger({ level: 'error', service: 'test', silent: !process.env.TEST_LOGS }),
        backoffDelayMs: 20,
        cursorName,
      });
      await runtime.start();
      queue = new Queue(WEBHOOK_QUEUE, { connection: h.connection(), prefix: h.config.QUEUE_PREFIX });
    });
    after(async () => {
      await runtime.close();
      await queue.close();
      await connection.quit();
      await h.close();
      await receiver.close();
      await stranger.close();
    });

    it('the receiver answers 500, then 200: delivered again with the same delivery id, job completed on attempt 2, cursor moved past it', async () => {
      const pipelineId = randomUUID();
      script.set(pipelineId, [500, 200]);
      const eventId = await insertFinished(pipelineId);

      await waitFor(async () => (await (await jobOf(eventId))?.getState()) === 'completed', 'the delivery to complete');
      const deliveries = receiver.forPipeline(pipelineId);
      expect(deliveries.map((r) => r.status)).to.deep.equal([500, 200]);
      expect(deliveries.map((r) => r.headers['x-agentic-delivery'])).to.deep.equal([eventId, eventId]);
      deliveries.forEach(expectSigned);
      const job = (await jobOf(eventId))!;
      expect(job.attemptsMade).to.equal(2);

      await waitFor(async () => {
        const { rows } = await h.db.pool.query<{ last_id: string }>('SELECT last_id::text AS last_id FROM event_cursors WHERE name = $1', [
          cursorName,
        ]);
        return rows.length === 1 && BigInt(rows[0]!.last_id) >= BigInt(eventId);
      }, 'the stored cursor to pass the event');
    });

    it('the receiver answers 400: not retried, the job stays in the failed set', async () => {
      const pipelineId = randomUUID();
      script.set(pipelineId, [400]);
      const eventId = await insertFinished(pipelineId);

      await waitFor(async () => (await (await jobOf(eventId))?.getState()) === 'failed', 'the delivery to fail');
      const job = (await jobOf(eventId))!;
      expect(job.failedReason).to.include('400');
      expect(receiver.forPipeline(pipelineId).map((r) => r.status)).to.deep.equal([400]);
    });

    it('the same event added again (another relay, a restart): no second job, no second delivery', async () => {
      const pipelineId = randomUUID();
      const eventId = await insertFinished(pipelineId);
      await waitFor(async () => (await (await jobOf(eventId))?.getState()) === 'completed', 'the first delivery');
      const finishedOn = (await jobOf(eventId))!.finishedOn;

      const again = createWebhookQueue(connection, h.config.QUEUE_PREFIX, { attempts: 5 });
      try {
        const event: PipelineEvent = {
          id: eventId,
          pipelineId,
          type: 'pipeline.finished',
          stageKey: null,
          actor: 'system',
          data: { status: 'succeeded' },
          createdAt: new Date(),
        };
        await again.enqueue([event], [receiver.url]);
      } finally {
        await again.close();
      }
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      expect(counts).to.deep.equal({ waiting: 0, active: 0, delayed: 0, prioritized: 0 });
      const job = (await jobOf(eventId))!;
      expect(await job.getState()).to.equal('completed');
      expect(job.finishedOn).to.equal(finishedOn);
      expect(receiver.forPipeline(pipelineId)).to.have.length(1);
    });

    describe('jobs carry only an event id and a URL index', () => {
      /** Adds a job straight to the queue (as Redis or a writable Bull Board could) and waits for it to fail. */
      async function addAndExpectFailed(jobId: string, data: unknown): Promise<string> {
        await queue.add(WEBHOOK_DELIVERY_JOB, data, { jobId, attempts: 5 });
        await waitFor(async () => (await stateOf(jobId)) === 'failed', `job ${jobId} to fail`);
        const job = (await queue.getJob(jobId))!;
        // Refused on the first attempt: not retried.
        expect(job.attemptsMade).to.equal(1);
        return job.failedReason;
      }

      it('the normal path: the job data is { v: 2, eventId, urlIndex } and the receiver gets the stored event, signed', async () => {
        const pipelineId = randomUUID();
        const eventId = await insertEvent(pipelineId, 'pipeline.finished', { status: 'failed', failedStages: ['b'] });

        await waitFor(async () => (await (await jobOf(eventId))?.getState()) === 'completed', 'the delivery to complete');
        const job = (await jobOf(eventId))!;
        expect(job.data).to.deep.equal({ v: 2, eventId, urlIndex: 0 });
        const stored = (await createEventReader(h.db, { warn: () => undefined }).readById(eventId))!;
        expect(stored).to.include({ id: eventId, type: 'pipeline.finished', pipelineId });
        const [delivery, ...more] = receiver.forPipeline(pipelineId);
        expect(more).to.have.length(0);
        expect(delivery!.raw).to.equal(JSON.stringify(toWebhookBody(stored)));
        expect(delivery!.body).to.deep.equal(toWebhookBody(stored));
        expectSigned(delivery!);
        expect(delivery!.headers['x-agentic-delivery']).to.equal(eventId);
        expect(delivery!.headers['x-agentic-event']).to.equal('pipeline.finished');
      });

      it('a forged v1 job naming another receiver and a made-up event: failed, nobody gets anything', async () => {
        const pipelineId = randomUUID();
        const forged = {
          v: 1,
          url: stranger.url,
          event: {
            id: '1',
            type: 'pipeline.finished',
            pipelineId,
            stageKey: null,
            actor: 'system',
            data: { status: 'succeeded' },
            createdAt: new Date().toISOString(),
          },
        };

        const reason = await addAndExpectFailed(`forged-${randomUUID()}`, forged);
        expect(reason).to.match(/^webhook job refused: data is not/);
        expect(reason).not.to.include(stranger.url);
        expect(stranger.received).to.have.length(0);
        expect(receiver.forPipeline(pipelineId)).to.have.length(0);
      });

      it('a v2 job with an extra url (pointing at another receiver) for a real event: failed, nobody gets anything', async () => {
        const pipelineId = randomUUID();
        const eventId = await insertEvent(pipelineId, 'pipeline.finished', { status: 'succeeded' });
        await waitFor(async () => (await (await jobOf(eventId))?.getState()) === 'completed', "the relay's own delivery");

        const reason = await addAndExpectFailed(webhookJobId(eventId, 1), { v: 2, eventId, urlIndex: 1, url: stranger.url });
        expect(reason).to.match(/^webhook job refused: data is not/);
        expect(stranger.received).to.have.length(0);
        expect(receiver.forPipeline(pipelineId)).to.have.length(1);
      });

      it('a v2 job naming an event id that does not exist: failed, nothing sent', async () => {
        const eventId = '9223372036854775000';

        const reason = await addAndExpectFailed(webhookJobId(eventId, 0), { v: 2, eventId, urlIndex: 0 });
        expect(reason).to.equal(`webhook job refused: event ${eventId} does not exist`);
        expect(receiver.received.filter((r) => r.body.id === eventId)).to.have.length(0);
        expect(stranger.received).to.have.length(0);
      });

      it('a v2 job naming a stored event that is not a webhook event (stage.finished): failed, nothing sent', async () => {
        const pipelineId = randomUUID();
        const eventId = await insertEvent(pipelineId, 'stage.finished', { status: 'succeeded' });

        const reason = await addAndExpectFailed(webhookJobId(eventId, 0), { v: 2, eventId, urlIndex: 0 });
        expect(reason).to.equal(`webhook job refused: event ${eventId} is a stage.finished event, not a webhook event`);
        expect(receiver.forPipeline(pipelineId)).to.have.length(0);
        expect(stranger.received).to.have.length(0);
      });

      it('a v2 job whose urlIndex is beyond WEBHOOK_URLS: failed, nothing more sent', async () => {
        const pipelineId = randomUUID();
        const eventId = await insertEvent(pipelineId, 'pipeline.finished', { status: 'succeeded' });
        await waitFor(async () => (await (await jobOf(eventId))?.getState()) === 'completed', "the relay's own delivery");

        const reason = await addAndExpectFailed(webhookJobId(eventId, 1), { v: 2, eventId, urlIndex: 1 });
        expect(reason).to.equal('webhook job refused: urlIndex 1 is not a configured receiver (1 configured)');
        // Only the relay's delivery to URL 0.
        expect(receiver.forPipeline(pipelineId)).to.have.length(1);
        expect(stranger.received).to.have.length(0);
      });

      it('a valid v2 job under another job id (a fresh id to re-send an event): failed, nothing more sent', async () => {
        const pipelineId = randomUUID();
        const eventId = await insertEvent(pipelineId, 'pipeline.finished', { status: 'succeeded' });
        await waitFor(async () => (await (await jobOf(eventId))?.getState()) === 'completed', "the relay's own delivery");

        const reason = await addAndExpectFailed(`again-${randomUUID()}`, { v: 2, eventId, urlIndex: 0 });
        expect(reason).to.equal(`webhook job refused: job id does not match its data (${webhookJobId(eventId, 0)})`);
        expect(receiver.forPipeline(pipelineId)).to.have.length(1);
      });
    });

    describe('failed deliveries redelivered over the API and the CLI (operator)', () => {
      let operatorKey: string;
      let operatorId: string;
      before(async () => {
        ({ key: operatorKey, id: operatorId } = await h.createKey('webhooks-operator', ['operator']));
      });
      const op = () => ({ authorization: `Bearer ${operatorKey}` });
      const cli = (...args: string[]) =>
        runCliCaptured(args, { API_URL: h.baseUrl, SDLC_API_KEY: operatorKey, DEV_ADMIN_KEY_FILE: '/nonexistent/agentic-sdlc/admin-key' });

      it('a delivery answered 400 is listed; POST …/:jobId/retry sends it again (same delivery id, attempts afresh), audited; a second retry is 409', async () => {
        const pipelineId = randomUUID();
        script.set(pipelineId, [400, 204]);
        const eventId = await insertFinished(pipelineId);
        const jobId = webhookJobId(eventId, 0);
        await waitFor(async () => (await stateOf(jobId)) === 'failed', 'the delivery to fail');

        const listed = await request(h.baseUrl, 'GET', '/api/v1/webhooks/failed?limit=1000', undefined, op());
        expect(listed.status).to.equal(200);
        const item = (listed.body.items as Loose[]).find((i) => i.jobId === jobId);
        expect(item).to.deep.include({
          eventId,
          urlIndex: 0,
          attemptsMade: 1,
          failedReason: 'webhook receiver answered 400',
          refused: false,
        });
        expect(listed.body.total).to.be.at.least(1);

        const retried = await request(h.baseUrl, 'POST', `/api/v1/webhooks/failed/${jobId}/retry`, undefined, op());
        expect(retried.status).to.equal(202);
        expect(retried.body).to.include({ jobId, eventId });
        await waitFor(async () => (await stateOf(jobId)) === 'completed', 'the redelivery to complete');
        const deliveries = receiver.forPipeline(pipelineId);
        expect(deliveries.map((r) => r.status)).to.deep.equal([400, 204]);
        expect(deliveries.map((r) => r.headers['x-agentic-delivery'])).to.deep.equal([eventId, eventId]);
        deliveries.forEach(expectSigned);
        // BullMQ's own retry of the job, its counters reset: one attempt of a fresh WEBHOOK_ATTEMPTS.
        expect((await queue.getJob(jobId))!.attemptsMade).to.equal(1);

        const audit = await request(h.baseUrl, 'GET', `/api/v1/audit?action=webhook.redelivered&targetId=${jobId}`);
        expect(audit.status).to.equal(200);
        expect(audit.body.items).to.have.length(1);
        expect(audit.body.items[0]).to.deep.include({ targetType: 'webhook_delivery', targetId: jobId });
        expect(audit.body.items[0].identity.id).to.equal(operatorId);
        expect(audit.body.items[0].data).to.include({ eventId, urlIndex: 0 });

        // Delivered: a retry would send it again, so it is refused and nothing moves.
        const again = await request(h.baseUrl, 'POST', `/api/v1/webhooks/failed/${jobId}/retry`, undefined, op());
        expect(again.status).to.equal(409);
        expect(again.body.error.code).to.equal('WEBHOOK_DELIVERY_NOT_FAILED');
        expect(again.body.error.details).to.deep.equal([{ field: 'jobId', message: 'state is completed' }]);
        expect(receiver.forPipeline(pipelineId)).to.have.length(2);
      });

      it('an unknown delivery is 404 WEBHOOK_DELIVERY_NOT_FOUND; a malformed id or an actor in the body is 400 naming the field', async () => {
        const missing = await request(h.baseUrl, 'POST', '/api/v1/webhooks/failed/999999999999-0/retry', undefined, op());
        expect(missing.status).to.equal(404);
        expect(missing.body.error.code).to.equal('WEBHOOK_DELIVERY_NOT_FOUND');
        const malformed = await request(h.baseUrl, 'POST', '/api/v1/webhooks/failed/not-a-delivery/retry', undefined, op());
        expect(malformed.status).to.equal(400);
        expect(malformed.body.error.details.map((d: Loose) => d.field)).to.include('jobId');
        const actor = await request(h.baseUrl, 'POST', '/api/v1/webhooks/failed/retry', { actor: 'someone-else' }, op());
        expect(actor.status).to.equal(400);
        expect(actor.body.error.details.map((d: Loose) => d.field)).to.include('actor');
        const limit = await request(h.baseUrl, 'GET', '/api/v1/webhooks/failed?limit=0', undefined, op());
        expect(limit.status).to.equal(400);
        expect(limit.body.error.details.map((d: Loose) => d.field)).to.include('limit');
        // A viewer may not list them (operator and up, like the DLQ).
        const viewer = await h.createKey('webhooks-viewer', ['viewer']);
        const refused = await request(h.baseUrl, 'GET', '/api/v1/webhooks/failed', undefined, bearerOf(viewer.key));
        expect(refused.status).to.equal(403);
      });

      it('the CLI lists them and redelivers all: refused jobs skipped, the others delivered again', async () => {
        const first = randomUUID();
        const second = randomUUID();
        script.set(first, [400, 200]);
        script.set(second, [400, 200]);
        const firstId = webhookJobId(await insertFinished(first), 0);
        const secondId = webhookJobId(await insertFinished(second), 0);
        await waitFor(
          async () => (await stateOf(firstId)) === 'failed' && (await stateOf(secondId)) === 'failed',
          'both deliveries to fail',
        );
        // A job the worker refuses (no such event): a redelivery would be refused again.
        const refusedId = webhookJobId('999999999998', 0);
        await queue.add(WEBHOOK_DELIVERY_JOB, { v: 2, eventId: '999999999998', urlIndex: 0 }, { jobId: refusedId, attempts: 5 });
        await waitFor(async () => (await stateOf(refusedId)) === 'failed', 'the refused job to fail');

        const listing = await cli('webhooks', 'failed', '--limit', '1000');
        expect(listing.code, listing.all).to.equal(0);
        expect(listing.out).to.match(/^\d+ failed deliver(y|ies)$/m);
        expect(listing.out).to.match(/^DELIVERY +EVENT +RECEIVER +ATTEMPTS +FAILED AT +REASON$/m);
        expect(listing.out).to.match(new RegExp(`^${firstId} +\\d+ +#0 +1 +\\S+ +webhook receiver answered 400$`, 'm'));

        const usage = await cli('webhooks', 'redeliver');
        expect(usage.code).to.equal(2);

        const all = await cli('webhooks', 'redeliver', '--all', '--limit', '1000', '--json');
        expect(all.code, all.all).to.equal(0);
        const report = await request(h.baseUrl, 'POST', '/api/v1/webhooks/failed/retry', { limit: 1000 }, op());
        expect(report.status).to.equal(202);
        // The first pass redelivered both; the refused job is skipped by each pass.
        expect(report.body.redelivered).to.not.include(firstId);
        expect(report.body.skipped).to.deep.include({ jobId: refusedId, reason: 'refused' });
        await waitFor(
          async () => (await stateOf(firstId)) === 'completed' && (await stateOf(secondId)) === 'completed',
          'both redeliveries to complete',
        );
        expect(receiver.forPipeline(first).map((r) => r.status)).to.deep.equal([400, 200]);
        expect(receiver.forPipeline(second).map((r) => r.status)).to.deep.equal([400, 200]);
        expect(await stateOf(refusedId)).to.equal('failed');

        const one = await cli('webhooks', 'redeliver', firstId);
        expect(one.code).to.equal(1);
        expect(one.all).to.include('WEBHOOK_DELIVERY_NOT_FAILED');
      });
    });
  });
});
