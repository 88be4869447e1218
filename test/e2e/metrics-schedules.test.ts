// agentic_pipelines_started_total counts the pipelines that schedule ticks create, not only the
// API's submissions: a tick runs in a worker, so the worker's registry counts it, and the sum
// over the API and the workers (what the Grafana panel plots) equals the pipelines created. A
// schema of its own: a schedule left in the shared one would tick in other files' queues.
import { expect } from 'chai';
import type { WorkerRuntime } from '../../src/composition/worker-runtime.js';
import { startHarness, type Harness } from '../support/harness.js';
import { scrapeMetrics, startMetricsWorker } from '../support/metrics-worker.js';
import { request, waitForPipeline, type Loose } from '../support/http.js';
import { sampleValue } from '../support/promtool.js';

const SCHEDULES = '/api/v1/schedules';
const STARTED = 'agentic_pipelines_started_total';

describe('metrics: pipelines started by schedule ticks (e2e)', () => {
  let h: Harness;
  let worker: WorkerRuntime;
  let workerUrl: string;
  before(async function () {
    this.timeout(120_000);
    h = await startHarness({ workers: 0, ownSchema: true });
    worker = await startMetricsWorker(h);
    workerUrl = `http://127.0.0.1:${worker.metricsPort()}`;
  });
  after(async () => {
    await worker?.close();
    await h?.close();
  });

  it("a schedule's ticks are counted by the worker that ran them; API and worker together count every pipeline created", async () => {
    const apiBefore = sampleValue(await scrapeMetrics(h.baseUrl), STARTED);
    const workerBefore = sampleValue(await scrapeMetrics(workerUrl), STARTED);

    const created = await request(h.baseUrl, 'POST', SCHEDULES, {
      name: 'metrics-ticks',
      definition: { name: 'metrics-tick', stages: [{ key: 'a', agent: 'noop' }] },
      everyMs: 1000,
      overlap: 'allow',
      endAt: new Date(Date.now() + 2500).toISOString(),
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const id = created.body.id as string;
    let shown: Loose = created.body;
    const deadline = Date.now() + 30_000;
    while (shown.status !== 'ended' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      shown = (await request(h.baseUrl, 'GET', `${SCHEDULES}/${id}`)).body;
    }
    expect(shown.status).to.equal('ended');
    const runs = (shown.ticks as Loose[]).filter((t) => t.outcome === 'started' && t.pipelineId).map((t) => t.pipelineId as string);
    expect(runs).to.have.length.above(0);
    for (const run of runs) expect((await waitForPipeline(h.baseUrl, run)).status).to.equal('succeeded');
    expect((await request(h.baseUrl, 'DELETE', `${SCHEDULES}/${id}`)).status).to.equal(204);

    const apiDelta = sampleValue(await scrapeMetrics(h.baseUrl), STARTED) - apiBefore;
    const workerDelta = sampleValue(await scrapeMetrics(workerUrl), STARTED) - workerBefore;
    expect({ apiDelta, workerDelta }).to.deep.equal({ apiDelta: 0, workerDelta: runs.length });
  });
});
