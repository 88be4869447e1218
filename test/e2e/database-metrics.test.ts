// The pool's metrics after a pipeline runs: the API's /metrics (one pool shared by the API and
// the worker here, as under npm start) has latency samples for the hot path's named statements,
// Prisma's and the transactions', the pool wait and the pool gauges; a worker's own metrics port
// serves the same families for its process.
import { expect } from 'chai';
import type { WorkerRuntime } from '../../src/composition/worker-runtime.js';
import { startHarness, type Harness } from '../support/harness.js';
import { scrapeMetrics, startMetricsWorker } from '../support/metrics-worker.js';
import { request, waitForPipeline } from '../support/http.js';
import { sampleValue } from '../support/promtool.js';

describe('database metrics (e2e)', () => {
  let h: Harness;
  let worker: WorkerRuntime;
  before(async () => {
    h = await startHarness({ workers: 0 });
    worker = await startMetricsWorker(h);
  });
  after(async () => {
    await worker?.close();
    await h?.close();
  });

  it('a three-stage chain leaves samples for its named statements, the pool wait and the gauges', async () => {
    const before = await scrapeMetrics(h.baseUrl);
    const submitted = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
      name: 'db-metrics',
      stages: [
        { key: 'a', agent: 'noop', input: {} },
        { key: 'b', agent: 'noop', dependsOn: ['a'], input: {} },
        { key: 'c', agent: 'noop', dependsOn: ['b'], input: {} },
      ],
    });
    expect(submitted.status).to.equal(202);
    expect((await waitForPipeline(h.baseUrl, submitted.body.id)).status).to.equal('succeeded');

    const after = await scrapeMetrics(h.baseUrl);
    const delta = (name: string, labels?: Record<string, string>) => sampleValue(after, name, labels) - sampleValue(before, name, labels);
    // One claim and one finish per stage; the last finish sees in its own statement that nothing
    // else moves, so no separate "settled?" read follows it.
    expect(delta('agentic_db_statement_duration_seconds_count', { statement: 'stage_claim' })).to.equal(3);
    expect(delta('agentic_db_statement_duration_seconds_count', { statement: 'stage_finish' })).to.equal(3);
    expect(delta('agentic_db_statement_duration_seconds_count', { statement: 'pipelines_settled' })).to.equal(0);
    // The conductor records the outcome: it reads the stages and applies its plan.
    expect(delta('agentic_db_statement_duration_seconds_count', { statement: 'pipeline_state' })).to.be.at.least(1);
    expect(delta('agentic_db_statement_duration_seconds_count', { statement: 'pipeline_apply_plan' })).to.be.at.least(1);
    // The submission: pipeline, stages and audit event in one statement, its own transaction.
    expect(delta('agentic_db_statement_duration_seconds_count', { statement: 'submit_pipeline' })).to.equal(1);
    expect(delta('agentic_db_statement_duration_seconds_sum', { statement: 'stage_finish' })).to.be.above(0);
    // Every statement above took a client from the pool.
    expect(delta('agentic_db_pool_wait_seconds_count')).to.be.at.least(9);
    expect(sampleValue(after, 'agentic_db_pool_max_clients')).to.equal(h.config.DATABASE_POOL_SIZE);
    expect(after).to.match(/^agentic_db_pool_clients\{state="idle"\} \d+$/m);
    expect(after).to.match(/^agentic_db_pool_waiting_requests \d+$/m);
    // Labels come from code: no SQL text, no ids.
    expect(after).not.to.include(submitted.body.id);
    expect(after).not.to.match(/statement="[^"]*\s[^"]*"/);

    const own = await scrapeMetrics(`http://127.0.0.1:${worker.metricsPort()}`);
    expect(sampleValue(own, 'agentic_db_statement_duration_seconds_count', { statement: 'stage_claim' })).to.be.at.least(3);
    expect(sampleValue(own, 'agentic_db_pool_wait_seconds_count')).to.be.at.least(9);
  });
});
