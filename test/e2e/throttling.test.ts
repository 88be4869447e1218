// Throttling per agent type (AGENT_LIMITS) end to end: a rate limit holds across two real worker
// processes, counted from the starts Postgres recorded; a per-type concurrency bounds the runs
// that overlap; an unknown type stops a worker at boot naming it.
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness.js';
import { request, waitForPipeline } from '../support/http.js';
import { spawnWorker, type WorkerProcess } from '../support/processes.js';

/** The most starts found in any window of `windowMs` (a window begins at each start). */
function busiestWindow(startsMs: readonly number[], windowMs: number): number {
  const sorted = [...startsMs].sort((a, b) => a - b);
  let busiest = 0;
  let first = 0;
  for (let last = 0; last < sorted.length; last++) {
    while (sorted[last]! - sorted[first]! >= windowMs) first++;
    busiest = Math.max(busiest, last - first + 1);
  }
  return busiest;
}

/** Starts grouped in bursts (a gap of `gapMs` or more begins the next): each burst's first start and size. */
function burstsOf(startsMs: readonly number[], gapMs: number): { at: number; size: number }[] {
  const bursts: { at: number; size: number }[] = [];
  let previous = Number.NEGATIVE_INFINITY;
  for (const at of [...startsMs].sort((a, b) => a - b)) {
    if (at - previous >= gapMs) bursts.push({ at, size: 0 });
    bursts[bursts.length - 1]!.size += 1;
    previous = at;
  }
  return bursts;
}

/** The most runs in progress at once, from their [start, finish] intervals. */
function mostOverlapping(runs: readonly { start: number; finish: number }[]): number {
  const edges = runs.flatMap((r) => [
    { at: r.start, delta: 1 },
    { at: r.finish, delta: -1 },
  ]);
  // A finish at the same instant as a start frees its slot first.
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let now = 0;
  let most = 0;
  for (const edge of edges) most = Math.max(most, (now += edge.delta));
  return most;
}

async function waitForWorkersOnline(h: Harness, agentType: string, count: number, workers: WorkerProcess[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { body } = await request(h.baseUrl, 'GET', '/api/v1/agents');
    const agent = body.items.find((a: { type: string }) => a.type === agentType);
    if (agent.workersOnline >= count) return;
    if (Date.now() > deadline) throw new Error(`workers did not come online:\n${workers.map((w) => w.output()).join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function runsOf(h: Harness, pipelineId: string) {
  const { rows } = await h.db.pool.query<{ stage_id: string; worker_id: string; status: string; started_at: Date; finished_at: Date }>(
    'SELECT stage_id, worker_id, status, started_at, finished_at FROM stage_runs WHERE pipeline_id = $1 ORDER BY started_at',
    [pipelineId],
  );
  return rows;
}

describe('throttling per agent type (e2e)', () => {
  describe('a rate limit across two worker processes', () => {
    // 4 starts per 2 s for `sleep`; each process could run 5 at once, 10 together.
    const MAX = 4;
    const DURATION_MS = 2000;
    const STAGES = 20;
    const LIMITS = JSON.stringify({ sleep: { concurrency: 5, rate: { max: MAX, durationMs: DURATION_MS } } });
    let h: Harness;
    let workers: WorkerProcess[] = [];

    before(async function () {
      this.timeout(120_000);
      h = await startHarness({ workers: 0 });
      workers = [0, 1].map(() => spawnWorker(h.config, [], { AGENT_LIMITS: LIMITS, LOG_LEVEL: 'info' }));
      await waitForWorkersOnline(h, 'sleep', 2, workers);
    });
    after(async () => {
      const codes = await Promise.all(workers.map((w) => w.stop('SIGTERM')));
      await h.close();
      expect(codes, 'worker exit codes after SIGTERM').to.deep.equal([0, 0]);
    });

    it(`${STAGES} stages at ${MAX} per ${DURATION_MS} ms: no window holds more than ${MAX} starts across both processes`, async function () {
      this.timeout(120_000);
      // Arrange: independent stages, all queued at once
      const stages = Array.from({ length: STAGES }, (_, i) => ({ key: `s${i}`, agent: 'sleep', input: { ms: 50 } }));

      // Act
      const res = await request(h.baseUrl, 'POST', '/api/v1/pipelines', { name: 'rate-limited', stages });
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      const done = await waitForPipeline(h.baseUrl, res.body.id, 90_000);

      // Assert: every stage ran once, and both processes took part
      expect(done.status).to.equal('succeeded');
      const runs = await runsOf(h, res.body.id);
      expect(runs).to.have.length(STAGES);
      expect(new Set(runs.map((r) => r.stage_id)).size).to.equal(STAGES);
      expect(runs.every((r) => r.status === 'succeeded')).to.equal(true);
      const pids = workers.map((w) => String(w.child.pid)).sort();
      const byProcess = new Map<string, number>();
      for (const run of runs) byProcess.set(run.worker_id.split(':')[1]!, (byProcess.get(run.worker_id.split(':')[1]!) ?? 0) + 1);
      expect([...byProcess.keys()].sort()).to.deep.equal(pids);
      // BullMQ's limiter is a fixed window opened by the first start after the last one closed,
      // so starts come in bursts of at most MAX, DURATION_MS apart. Postgres records a start at
      // the claim, a little after the limiter counted it; a window of 3/4 of the duration leaves
      // 500 ms for that delay. Without a limiter all 20 start in one burst (10 at once), and with
      // a limiter per process 8 per window.
      const starts = runs.map((r) => r.started_at.getTime());
      const busiest = busiestWindow(starts, DURATION_MS * 0.75);
      const bursts = burstsOf(starts, DURATION_MS / 4);
      const gaps = bursts.slice(1).map((burst, i) => burst.at - bursts[i]!.at);
      process.stdout.write(
        `      figures: busiest ${DURATION_MS * 0.75} ms window ${busiest} starts (limit ${MAX}); ` +
          `bursts of ${bursts.map((b) => b.size).join(', ')} starts, ${gaps.length > 0 ? `${Math.min(...gaps)}–${Math.max(...gaps)} ms apart` : 'one burst'}; ` +
          `by process ${[...byProcess.values()].join(' + ')}; first to last start ${starts.at(-1)! - starts[0]!} ms\n`,
      );
      expect(busiest).to.be.at.most(MAX);
      // and the limit was used, not merely never reached
      expect(busiest).to.equal(MAX);
      // Each process says which limits it applies.
      for (const worker of workers)
        expect(worker.output()).to.contain('"limits":{"sleep":{"concurrency":5,"rate":{"duration":2000,"max":4}}}');
    });
  });

  it('a concurrency of 2 for sleep: never more than 2 sleep stages run at once in a process of concurrency 10', async function () {
    this.timeout(120_000);
    // Arrange
    const h = await startHarness({ workers: 1, concurrency: 10, env: { AGENT_LIMITS: JSON.stringify({ sleep: { concurrency: 2 } }) } });
    try {
      const byQueue = new Map(h.workers[0]!.workers.map((w) => [w.name, w.concurrency]));
      expect(byQueue.get('agent.sleep')).to.equal(2);
      expect(byQueue.get('agent.noop')).to.equal(10);
      const stages = Array.from({ length: 6 }, (_, i) => ({ key: `s${i}`, agent: 'sleep', input: { ms: 300 } }));

      // Act
      const res = await request(h.baseUrl, 'POST', '/api/v1/pipelines', { name: 'two-at-a-time', stages });
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      const done = await waitForPipeline(h.baseUrl, res.body.id, 60_000);

      // Assert: from the recorded attempts, at most 2 overlapped, and 2 did
      expect(done.status).to.equal('succeeded');
      const runs = await runsOf(h, res.body.id);
      expect(runs).to.have.length(6);
      expect(mostOverlapping(runs.map((r) => ({ start: r.started_at.getTime(), finish: r.finished_at.getTime() })))).to.equal(2);
    } finally {
      await h.close();
    }
  });

  it('an agent type the catalog does not know: the worker stops at boot naming it', async function () {
    this.timeout(120_000);
    const h = await startHarness({ workers: 0 });
    try {
      const worker = spawnWorker(h.config, [], { AGENT_LIMITS: '{"slep":{"rate":{"max":1,"durationMs":1000}},"noop":{"concurrency":2}}' });
      const code = await new Promise<number | null>((resolve) => worker.child.once('exit', resolve));
      expect(code).to.equal(1);
      expect(worker.output()).to.contain('AGENT_LIMITS names unknown agent type(s): slep;');
    } finally {
      await h.close();
    }
  });
});
