// Breaker states seen from the API process: a worker whose agent's downstream fails opens that
// agent's breaker; the worker publishes it to Redis, and GET /health/detailed and GET /metrics
// on the API show it (open on one worker, the queue held), the other agents closed. Both need
// the operator role (or admin); METRICS_TOKEN opens /metrics to a scraper, and nothing else.
import { expect } from 'chai';
import { z } from 'zod';
import { defineAgent } from '../../src/agents/define-agent.js';
import { DownstreamError } from '../../src/domain/errors.js';
import { agentQueueName } from '../../src/infra/queue/queue-names.js';
import { startHarness, type Harness } from '../support/harness.js';
import { ANONYMOUS, bearer, request, type Loose } from '../support/http.js';
import { TEST_AGENTS } from '../support/agents.js';

const METRICS_TOKEN = 'visibility-metrics-token-0123456789abcdef';

const failingAgent = defineAgent({
  type: 'flaky-downstream',
  version: '1.0.0',
  input: z.object({}).strict(),
  output: z.object({ ok: z.literal(true) }),
  handler: async () => {
    throw new DownstreamError('DOWNSTREAM_ERROR', 'connect ECONNREFUSED 10.0.0.9:443');
  },
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('breaker states in /health/detailed and /metrics (e2e)', () => {
  let h: Harness;
  let auth: Record<string, string>;
  let viewer: string;

  before(async () => {
    h = await startHarness({
      agents: [...TEST_AGENTS, failingAgent],
      concurrency: 1,
      env: { BREAKER_VOLUME_THRESHOLD: '2', BREAKER_RESET_MS: '60000', RETRY_BACKOFF_CAP_MS: '50', METRICS_TOKEN },
    });
    auth = bearer((await h.createKey('visibility-operator', ['operator'])).key);
    viewer = (await h.createKey('visibility-viewer', ['viewer'])).key;
  });
  after(async () => {
    await h?.close();
  });

  it('/health/detailed: 401 without a key or with a wrong one, 403 for a viewer, 200 for an operator', async () => {
    const none = await request(h.baseUrl, 'GET', '/health/detailed', undefined, ANONYMOUS);
    expect(none.status).to.equal(401);
    expect(none.body.error).to.include({ code: 'AUTHENTICATION_REQUIRED' });
    const wrong = await request(h.baseUrl, 'GET', '/health/detailed', undefined, { authorization: 'Bearer not-the-token-at-all-000' });
    expect(wrong.status).to.equal(401);
    expect(wrong.body.error).to.include({ code: 'API_KEY_MALFORMED' });
    const forbidden = await request(h.baseUrl, 'GET', '/health/detailed', undefined, bearer(viewer));
    expect(forbidden.status).to.equal(403);
    expect(forbidden.body.error).to.include({ code: 'FORBIDDEN' });
    const ok = await request(h.baseUrl, 'GET', '/health/detailed', undefined, auth);
    expect(ok.status).to.equal(200);
    expect(ok.body).to.include({ status: 'ok', version: '0.1.0' });
  });

  it('shows the open breaker (one worker, queue held) and the closed ones, with queue counts and metrics', async () => {
    // Arrange: stages of an agent whose downstream refuses every call.
    const retry = { attempts: 20, backoff: { type: 'fixed', delayMs: 10, jitter: 0 } };
    const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
      name: 'visibility',
      stages: ['a', 'b', 'c', 'd'].map((key) => ({ key, agent: 'flaky-downstream', retry })),
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(202);

    // Act: wait until the API sees the breaker open and the queue held.
    let body: Loose;
    const deadline = Date.now() + 20_000;
    for (;;) {
      body = (await request(h.baseUrl, 'GET', '/health/detailed', undefined, auth)).body;
      const b = body.breakers?.['flaky-downstream'];
      if (b?.open === 1 && b.holdMs > 0) break;
      if (Date.now() > deadline) throw new Error(`breakers: ${JSON.stringify(body.breakers)}`);
      await sleep(50);
    }

    // Assert: the failing agent is open on the one worker, the others closed on it.
    const workerId = h.workers[0]!.workerId;
    expect(body.breakers['flaky-downstream']).to.deep.include({ open: 1, closed: 0, half_open: 0, workers: [{ workerId, state: 'open' }] });
    expect(body.breakers['flaky-downstream'].holdMs).to.be.within(1, 60_000);
    for (const type of h.catalog.keys()) {
      if (type === 'flaky-downstream') continue;
      expect(body.breakers[type], type).to.deep.include({ closed: 1, open: 0, half_open: 0, holdMs: 0 });
    }
    expect(body.components.map((c: Loose) => [c.name, c.ok])).to.deep.equal([
      ['postgres', true],
      ['redis', true],
    ]);
    expect(body.components[0].latencyMs).to.be.a('number');
    const counts = body.queues[agentQueueName('flaky-downstream')];
    expect(counts).to.have.all.keys('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized');
    expect(Object.values(counts as Record<string, number>).reduce((a, b) => a + b, 0)).to.be.greaterThan(0);
    expect(body.queues).to.have.property('control');
    expect(body.uptimeSeconds).to.be.a('number');
    expect(body.memory.heapUsed).to.be.a('number');

    // /metrics: the same states as gauges, in the Prometheus text format.
    const res = await fetch(`${h.baseUrl}/metrics`, { headers: auth });
    const text = await res.text();
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
    expect(text).to.contain('agentic_breaker_state{agent_type="flaky-downstream",state="open"} 1\n');
    expect(text).to.contain('agentic_breaker_state{agent_type="flaky-downstream",state="closed"} 0\n');
    expect(text).to.contain('agentic_breaker_state{agent_type="inspect",state="closed"} 1\n');
    expect(text).to.contain('agentic_breaker_hold_seconds{agent_type="inspect"} 0\n');
    const hold = /^agentic_breaker_hold_seconds\{agent_type="flaky-downstream"\} (\S+)$/m.exec(text);
    expect(Number(hold?.[1])).to.be.within(0.001, 60);
    expect(text).to.contain('process_resident_memory_bytes');
  });

  it('METRICS_TOKEN opens /metrics (200) and nothing else: /health/detailed answers it 401; a viewer gets 403 on /metrics', async () => {
    const token = bearer(METRICS_TOKEN);
    const metrics = await fetch(`${h.baseUrl}/metrics`, { headers: token });
    expect(metrics.status).to.equal(200);
    expect(await metrics.text()).to.contain('agentic_breaker_state{');
    const detailed = await request(h.baseUrl, 'GET', '/health/detailed', undefined, token);
    expect(detailed.status).to.equal(401);
    expect(detailed.body.error).to.include({ code: 'API_KEY_MALFORMED' });
    const anonymous = await request(h.baseUrl, 'GET', '/metrics', undefined, ANONYMOUS);
    expect(anonymous.status).to.equal(401);
    expect(anonymous.body.error).to.include({ code: 'AUTHENTICATION_REQUIRED' });
    const forbidden = await request(h.baseUrl, 'GET', '/metrics', undefined, bearer(viewer));
    expect(forbidden.status).to.equal(403);
    expect(forbidden.body.error).to.include({ code: 'FORBIDDEN' });
  });
});
