// SIGTERM on a worker process: running stages get SHUTDOWN_GRACE_MS, then their AbortSignal;
// their jobs go back to the queue without using an attempt and another worker finishes them.
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness.js';
import { request, waitForPipeline, waitUntil } from '../support/http.js';
import { spawnWorker } from '../support/processes.js';

describe('worker shutdown (e2e, real worker process)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ workers: 0 });
  });
  after(async () => {
    await h.close();
  });

  it('SIGTERM mid-stage: exit 0 after the grace period, the stage is re-run elsewhere and the pipeline succeeds', async () => {
    const worker = spawnWorker(h.config, ['--concurrency', '2'], { SHUTDOWN_GRACE_MS: '300' });
    try {
      const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
        name: 'drain',
        stages: [{ key: 'long', agent: 'sleep', input: { ms: 2000 }, retry: { attempts: 1 } }],
      });
      await waitUntil(h.baseUrl, created.body.id, (p) => p.stages[0].status === 'running', 60_000);
      const code = await worker.stop('SIGTERM');
      expect(code, worker.output()).to.equal(0);
      const parked = (await request(h.baseUrl, 'GET', `/api/v1/pipelines/${created.body.id}`)).body;
      expect(parked.stages[0].status).to.equal('queued');

      await h.startWorker();
      const done = await waitForPipeline(h.baseUrl, created.body.id);
      expect(done.status).to.equal('succeeded');
      const runs = (await request(h.baseUrl, 'GET', `/api/v1/pipelines/${created.body.id}/runs`)).body.items;
      expect(runs.map((r: { status: string }) => r.status)).to.deep.equal(['failed', 'succeeded']);
      expect(runs[0].error.code).to.equal('WORKER_SHUTDOWN');
    } finally {
      await worker.stop('SIGKILL');
    }
  });
});
