// Two worker processes on the same queues split 200 stages; each stage runs exactly once.
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness.js';
import { request, waitForPipeline } from '../support/http.js';
import { spawnWorker, type WorkerProcess } from '../support/processes.js';

describe('horizontal scale (e2e, two worker processes)', () => {
  let h: Harness;
  let workers: WorkerProcess[] = [];

  before(async () => {
    h = await startHarness({ workers: 0 });
    workers = [spawnWorker(h.config, ['--concurrency', '8']), spawnWorker(h.config, ['--concurrency', '8'])];
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { body } = await request(h.baseUrl, 'GET', '/api/v1/agents');
      const sleep = body.items.find((a: { type: string }) => a.type === 'sleep');
      if (sleep.workersOnline >= 2) break;
      if (Date.now() > deadline) throw new Error(`workers did not come online:\n${workers.map((w) => w.output()).join('\n')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  after(async () => {
    const codes = await Promise.all(workers.map((w) => w.stop('SIGTERM')));
    await h.close();
    expect(codes, 'worker exit codes after SIGTERM').to.deep.equal([0, 0]);
  });

  it('200 stages over 4 pipelines: both processes take some, each stage runs once', async () => {
    const ids: string[] = [];
    for (let p = 0; p < 4; p++) {
      const stages = Array.from({ length: 50 }, (_, i) => ({ key: `s${i}`, agent: 'sleep', input: { ms: 20 } }));
      const res = await request(h.baseUrl, 'POST', '/api/v1/pipelines', { name: `scale-${p}`, stages });
      expect(res.status).to.equal(202);
      ids.push(res.body.id);
    }
    const finished = await Promise.all(ids.map((id) => waitForPipeline(h.baseUrl, id, 60_000)));
    expect(finished.map((p) => p.status)).to.deep.equal(['succeeded', 'succeeded', 'succeeded', 'succeeded']);

    const runs = await h.db.prisma.stageRun.findMany({
      where: { pipelineId: { in: ids } },
      select: { stageId: true, workerId: true, status: true },
    });
    expect(runs).to.have.length(200);
    expect(new Set(runs.map((r) => r.stageId)).size).to.equal(200);
    expect(runs.every((r) => r.status === 'succeeded')).to.equal(true);
    const byWorker = new Map<string, number>();
    for (const run of runs) byWorker.set(run.workerId, (byWorker.get(run.workerId) ?? 0) + 1);
    const pids = workers.map((w) => String(w.child.pid));
    expect([...byWorker.keys()].map((id) => id.split(':')[1]).sort()).to.deep.equal(pids.sort());
    for (const count of byWorker.values()) expect(count).to.be.greaterThan(0);
  });
});
