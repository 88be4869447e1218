// Health and metrics: a worker serves /health and /metrics on its own port; a pipeline run
// moves the API's and the worker's counters and histograms; both expositions pass
// `promtool check metrics` with no lint warnings. The API's /metrics needs a credential (the
// harness's admin key here); the worker's metrics port has no API keys and serves it as it is.
import { expect } from 'chai';
import type { WorkerRuntime } from '../../src/composition/worker-runtime.js';
import { startHarness, type Harness } from '../support/harness.js';
import { scrapeMetrics, startMetricsWorker } from '../support/metrics-worker.js';
import { ANONYMOUS, request, waitForPipeline, withAuth } from '../support/http.js';
import { promtool, sampleValue } from '../support/promtool.js';

describe('health and metrics (e2e)', () => {
  let h: Harness;
  let worker: WorkerRuntime;
  let workerUrl: string;
  before(async () => {
    h = await startHarness({ workers: 0 });
    worker = await startMetricsWorker(h);
    workerUrl = `http://127.0.0.1:${worker.metricsPort()}`;
  });
  after(async () => {
    await worker?.close();
    await h?.close();
  });

  it('the worker answers /health on its metrics port (ephemeral with port 0) and 404s elsewhere', async () => {
    expect(worker.metricsPort()).to.be.a('number').above(0);
    const health = await fetch(`${workerUrl}/health`);
    expect(health.status).to.equal(200);
    // Liveness, plus its workspace disk (test/e2e/health-workers-disk.test.ts checks the figures).
    expect(await health.json())
      .to.have.all.keys('status', 'workspaceDisk')
      .and.include({ status: 'ok' });
    expect((await fetch(`${workerUrl}/nope`)).status).to.equal(404);
  });

  it("the API's /metrics wants a credential (401 without one); the worker's port does not", async () => {
    const anonymous = await request(h.baseUrl, 'GET', '/metrics', undefined, ANONYMOUS);
    expect(anonymous.status).to.equal(401);
    expect(anonymous.body.error).to.include({ code: 'AUTHENTICATION_REQUIRED' });
    const worker = await fetch(`${workerUrl}/metrics`);
    expect(worker.status).to.equal(200);
    await worker.text();
  });

  it('a pipeline run moves the counters and histograms on the API and the worker', async () => {
    const apiBefore = await scrapeMetrics(h.baseUrl);
    const workerBefore = await scrapeMetrics(workerUrl);

    const ok = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
      name: 'metrics-ok',
      stages: [
        { key: 'a', agent: 'noop', input: {} },
        { key: 'b', agent: 'noop', dependsOn: ['a'], input: {} },
      ],
    });
    expect(ok.status).to.equal(202);
    const bad = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
      name: 'metrics-fail',
      stages: [{ key: 'x', agent: 'fail', input: { unrecoverable: true } }],
    });
    expect(bad.status).to.equal(202);
    expect((await waitForPipeline(h.baseUrl, ok.body.id)).status).to.equal('succeeded');
    expect((await waitForPipeline(h.baseUrl, bad.body.id)).status).to.equal('failed');
    expect((await request(h.baseUrl, 'GET', '/health/ready')).status).to.equal(200);

    const api = await scrapeMetrics(h.baseUrl);
    const delta = (after: string, before: string, name: string, labels?: Record<string, string>) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels);
    expect(delta(api, apiBefore, 'agentic_pipelines_started_total')).to.equal(2);
    expect(
      delta(api, apiBefore, 'http_request_duration_seconds_count', { method: 'POST', route: '/api/v1/pipelines', status: '202' }),
    ).to.equal(2);
    expect(
      delta(api, apiBefore, 'http_request_duration_seconds_count', { method: 'GET', route: '/api/v1/pipelines/:id', status: '200' }),
    ).to.be.above(0);
    // The raw URL (with the id) is never a label value.
    expect(api).not.to.include(ok.body.id);
    expect(delta(api, apiBefore, 'agentic_db_query_duration_seconds_count', { operation: 'select_1' })).to.be.above(0);
    expect(delta(api, apiBefore, 'agentic_redis_command_duration_seconds_count', { command: 'ping' })).to.be.above(0);
    expect(sampleValue(api, 'agentic_queue_jobs', { queue: 'agent.noop', state: 'completed' })).to.be.at.least(2);
    expect(api).to.match(/^agentic_decisions_pending \d+$/m);
    expect(api).to.match(/^process_cpu_user_seconds_total /m);

    const w = await scrapeMetrics(workerUrl);
    expect(delta(w, workerBefore, 'agentic_pipelines_finished_total', { status: 'succeeded' })).to.equal(1);
    expect(delta(w, workerBefore, 'agentic_pipelines_finished_total', { status: 'failed' })).to.equal(1);
    expect(delta(w, workerBefore, 'agentic_stage_attempts_total', { agent: 'noop' })).to.equal(2);
    expect(delta(w, workerBefore, 'agentic_stage_duration_seconds_count', { agent: 'noop', status: 'succeeded' })).to.equal(2);
    expect(delta(w, workerBefore, 'agentic_stage_failures_total', { agent: 'fail', code: 'AGENT_FAILED_ON_PURPOSE' })).to.equal(1);
  });

  it("the dashboard, Bull Board's page and a board retry (a DLQ replay) are labelled with route templates, not `unmatched`", async () => {
    const failed = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
      name: 'metrics-board-retry',
      stages: [{ key: 'x', agent: 'fail', input: { failAttempts: 1, unrecoverable: true } }],
    });
    const done = await waitForPipeline(h.baseUrl, failed.body.id);
    expect(done.status).to.equal('failed');
    const before = await scrapeMetrics(h.baseUrl);

    expect((await fetch(`${h.baseUrl}/dashboard/pipelines/${done.id}`)).status).to.equal(200);
    const board = await fetch(`${h.baseUrl}/admin/queues/`, { headers: withAuth(h.baseUrl, {}) });
    expect([board.status, (await board.text()).startsWith('<!DOCTYPE')]).to.deep.equal([200, true]);
    const retry = await request(h.baseUrl, 'PUT', `/admin/queues/api/queues/agent.fail/${done.stages[0].id}/retry`);
    expect(retry.status, JSON.stringify(retry.body)).to.equal(204);
    expect((await waitForPipeline(h.baseUrl, done.id)).status).to.equal('succeeded');

    const after = await scrapeMetrics(h.baseUrl);
    const delta = (labels: Record<string, string>) =>
      sampleValue(after, 'http_request_duration_seconds_count', labels) -
      sampleValue(before, 'http_request_duration_seconds_count', labels);
    expect({
      dashboard: delta({ method: 'GET', route: '/dashboard/{*path}', status: '200' }),
      board: delta({ method: 'GET', route: '/admin/queues/{*path}', status: '200' }),
      retry: delta({ method: 'PUT', route: '/admin/queues/api/queues/:queueName/:jobId/retry', status: '204' }),
    }).to.deep.equal({ dashboard: 1, board: 1, retry: 1 });
    expect(after).not.to.include(done.id);
  });

  it('both expositions pass `promtool check metrics` without warnings', async () => {
    for (const text of [await scrapeMetrics(h.baseUrl), await scrapeMetrics(workerUrl)]) {
      const result = await promtool(['check', 'metrics'], text);
      expect(result.stdout.trim(), result.stdout).to.equal('');
      expect(result.code, result.stderr).to.equal(0);
    }
  });
});
