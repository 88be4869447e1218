// Readiness and the detailed view report the workers online per agent type and the workspace
// disk. With no worker running readiness still answers 200 and counts 0 for every agent type of
// the catalogue and the conductor; once a worker runtime runs, 1 for each. The workspace disk is
// the filesystem of WORKSPACE_ROOT as statfs sees it; with WORKSPACE_DISK_MIN_FREE_MB above the
// free space it is low: /health/detailed turns `degraded`, readiness stays 200. A worker's own
// /health and /metrics report its disk too.
import { statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { expect } from 'chai';
import type { WorkerRuntime } from '../../src/composition/worker-runtime.js';
import { pollUntil } from '../support/chaos/free-port.js';
import { startHarness, testConfig, type Harness } from '../support/harness.js';
import { request, type Loose } from '../support/http.js';
import { startMetricsWorker } from '../support/metrics-worker.js';
import { sampleValue } from '../support/promtool.js';

const MB = 1024 * 1024;

/** statfs of the root or, while it does not exist yet, of its nearest existing parent. */
async function filesystemOf(path: string) {
  for (let at = resolve(path); ; at = dirname(at)) {
    try {
      return await statfs(at);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

/** The disk section as the API or a worker gives it, checked against statfs (free space moves under other writers; the size does not). */
async function expectDisk(disk: Loose, root: string, minFreeMb: number, { publicAnswer = false } = {}) {
  const fs = await filesystemOf(root);
  // Readiness is public: it leaves WORKSPACE_ROOT out (the detailed view and a worker's own /health have it).
  if (publicAnswer) expect(disk).to.have.all.keys('freeBytes', 'totalBytes', 'freeRatio', 'minFreeBytes', 'ok');
  else {
    expect(disk).to.have.all.keys('path', 'freeBytes', 'totalBytes', 'freeRatio', 'minFreeBytes', 'ok');
    expect(disk.path).to.equal(resolve(root));
  }
  expect(disk.totalBytes).to.equal(fs.blocks * fs.bsize);
  expect(disk.freeBytes).to.be.above(0).and.at.most(disk.totalBytes);
  expect(disk.freeRatio).to.be.closeTo(disk.freeBytes / disk.totalBytes, 0.0001);
  expect(disk.minFreeBytes).to.equal(minFreeMb * MB);
}

/** The API's Redis connection comes up asynchronously: the first probes must not race it. */
const untilReady = (h: Harness) =>
  pollUntil('the API ready', async () => (await request(h.baseUrl, 'GET', '/health/ready')).status === 200, 10_000, 50);

describe('health: workers online per agent type and the workspace disk (e2e)', function () {
  this.timeout(60_000);

  describe('a deployment whose disk has room', () => {
    let h: Harness;
    let worker: WorkerRuntime | undefined;
    const allTypes = () => ['conductor', ...h.catalog.keys()];

    before(async () => {
      h = await startHarness({ workers: 0 });
      await untilReady(h);
    });
    after(async () => {
      await worker?.close();
      await h?.close();
    });

    it('no worker running: readiness 200, every agent type and the conductor at 0, the workspace disk ok (without its path: the answer is public)', async () => {
      const ready = await request(h.baseUrl, 'GET', '/health/ready');
      expect(ready.status, JSON.stringify(ready.body)).to.equal(200);
      expect(ready.body.status).to.equal('ready');
      expect(ready.body.workers).to.have.all.keys(...allTypes());
      for (const type of allTypes()) expect(ready.body.workers[type], type).to.equal(0);
      await expectDisk(ready.body.workspaceDisk, h.config.WORKSPACE_ROOT, 1, { publicAnswer: true });
      expect(ready.body.workspaceDisk.ok).to.equal(true);
    });

    it('a worker runtime started: readiness counts 1 for every agent type and the conductor; so does the detailed view', async () => {
      worker = await startMetricsWorker(h);
      let workers: Loose = {};
      // Readiness may answer with a count up to 5 s old.
      await pollUntil(
        'readiness counts the worker',
        async () => {
          workers = (await request(h.baseUrl, 'GET', '/health/ready')).body.workers;
          return allTypes().every((type) => workers[type] === 1);
        },
        20_000,
        100,
      ).catch((error: Error) => {
        throw new Error(`${error.message}: ${JSON.stringify(workers)}`);
      });
      const detailed = await request(h.baseUrl, 'GET', '/health/detailed');
      expect(detailed.body.workers).to.deep.equal(workers);
    });

    it('/health/detailed: the workspace disk, ok, and status ok', async () => {
      const detailed = await request(h.baseUrl, 'GET', '/health/detailed');
      expect(detailed.status).to.equal(200);
      await expectDisk(detailed.body.workspaceDisk, h.config.WORKSPACE_ROOT, 1);
      expect(detailed.body.workspaceDisk.ok).to.equal(true);
      expect(detailed.body.status).to.equal('ok');
    });

    it("the worker's /health reports its workspace disk, and its /metrics the free and total bytes", async () => {
      const base = `http://127.0.0.1:${worker!.metricsPort()}`;
      const health = await fetch(`${base}/health`);
      expect(health.status).to.equal(200);
      const body = (await health.json()) as Loose;
      expect(body.status).to.equal('ok');
      await expectDisk(body.workspaceDisk, h.config.WORKSPACE_ROOT, 1);
      const text = await (await fetch(`${base}/metrics`)).text();
      expect(sampleValue(text, 'agentic_workspace_disk_size_bytes')).to.equal(body.workspaceDisk.totalBytes);
      expect(sampleValue(text, 'agentic_workspace_disk_free_bytes')).to.be.above(0).and.at.most(body.workspaceDisk.totalBytes);
    });
  });

  describe('a deployment whose disk is below WORKSPACE_DISK_MIN_FREE_MB', () => {
    let h: Harness;
    let minFreeMb: number;

    before(async () => {
      const fs = await filesystemOf(testConfig().WORKSPACE_ROOT);
      // Twice the whole filesystem: whatever others write meanwhile, the free space is below it.
      minFreeMb = Math.ceil((2 * fs.blocks * fs.bsize) / MB);
      h = await startHarness({ workers: 0, env: { WORKSPACE_DISK_MIN_FREE_MB: String(minFreeMb) } });
      await untilReady(h);
    });
    after(async () => {
      await h?.close();
    });

    it('/health/detailed: workspaceDisk.ok false and status degraded, with every component ok', async () => {
      const detailed = await request(h.baseUrl, 'GET', '/health/detailed');
      expect(detailed.status).to.equal(200);
      await expectDisk(detailed.body.workspaceDisk, h.config.WORKSPACE_ROOT, minFreeMb);
      expect(detailed.body.workspaceDisk.ok).to.equal(false);
      expect(detailed.body.components.every((c: Loose) => c.ok)).to.equal(true);
      expect(detailed.body.status).to.equal('degraded');
    });

    it('/health/ready: still 200 ready, reporting the low disk', async () => {
      const ready = await request(h.baseUrl, 'GET', '/health/ready');
      expect(ready.status, JSON.stringify(ready.body)).to.equal(200);
      expect(ready.body.status).to.equal('ready');
      expect(ready.body.workspaceDisk.ok).to.equal(false);
    });
  });
});
