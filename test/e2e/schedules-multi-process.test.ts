// A schedule firing every second across two API processes and two worker processes (each with
// its conductor, and a reconciler pass every second that compares the job schedulers with
// Postgres), while both APIs keep re-installing the schedule's job scheduler (POST /resume):
// every tick starts exactly one run, one pipeline per `scheduled_for`.
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness.js';
import { bearer, request, type Loose } from '../support/http.js';
import { spawnWorker, startEntry, waitForOutput, type Started, type WorkerProcess } from '../support/processes.js';
import { freePort } from '../support/chaos/free-port.js';

const TICKS = 6;

describe('schedules across processes (e2e: two API processes, two workers)', function () {
  this.timeout(180_000);
  let h: Harness;
  const apis: { started: Started; url: string }[] = [];
  const workers: WorkerProcess[] = [];
  const admin = () => bearer(h.adminKey);
  before(async function () {
    this.timeout(120_000);
    // A schema of its own: every reconciler pass installs the job schedulers of the schedules in
    // its schema, so a schedule left in the shared one would tick in other files' queues.
    // The harness makes the keys and reads the database; the spawned entries do the work.
    h = await startHarness({ workers: 0, ownSchema: true });
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const started = startEntry('src/server.ts', {
        DATABASE_URL: h.config.DATABASE_URL,
        QUEUE_PREFIX: h.config.QUEUE_PREFIX,
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'info',
      });
      apis.push({ started, url: `http://127.0.0.1:${port}` });
    }
    for (let i = 0; i < 2; i++)
      workers.push(spawnWorker(h.config, ['--concurrency', '4'], { RECONCILE_EVERY_MS: '1000', LOG_LEVEL: 'info' }));
    await Promise.all(apis.map((api) => waitForOutput(api.started, /api listening/)));
    const deadline = Date.now() + 60_000;
    while (!workers.every((w) => /worker process ready/.test(w.output()))) {
      if (Date.now() > deadline) throw new Error(`workers did not start:\n${workers.map((w) => w.output()).join('\n')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  after(async () => {
    await Promise.all([...workers.map((w) => w.stop('SIGTERM')), ...apis.map((api) => api.started.stop())]);
    await h?.close();
  });

  it(`every tick of a 1 s schedule starts one run: ${TICKS}+ ticks, one pipeline per scheduled_for`, async () => {
    const [a, b] = apis as [(typeof apis)[0], (typeof apis)[0]];
    const created = await request(
      a.url,
      'POST',
      '/api/v1/schedules',
      {
        name: 'every second, everywhere',
        definition: { name: 'tick', stages: [{ key: 'only', agent: 'noop' }] },
        everyMs: 1000,
        overlap: 'allow',
      },
      admin(),
    );
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const id = created.body.id as string;
    // Both API replicas re-install the job scheduler while it ticks.
    const deadline = Date.now() + 90_000;
    for (let round = 0; ; round++) {
      const api = round % 2 === 0 ? a : b;
      expect((await request(api.url, 'POST', `/api/v1/schedules/${id}/resume`, undefined, admin())).status).to.equal(200);
      const ticks = (await request(api.url, 'GET', `/api/v1/schedules/${id}`, undefined, admin())).body.ticks as Loose[];
      if (ticks.filter((t) => t.outcome === 'started' && t.pipelineId).length >= TICKS) break;
      if (Date.now() > deadline) throw new Error(`too few ticks: ${JSON.stringify(ticks)}\n${workers.map((w) => w.output()).join('\n')}`);
      await new Promise((r) => setTimeout(r, 300));
    }
    expect((await request(b.url, 'POST', `/api/v1/schedules/${id}/pause`, undefined, admin())).status).to.equal(200);
    // Ticks already on their way settle (a paused schedule records them skipped).
    await new Promise((r) => setTimeout(r, 1500));

    const { rows: perTick } = await h.db.pool.query<{ scheduled_for: Date; runs: number }>(
      'SELECT scheduled_for, count(*)::int AS runs FROM pipelines WHERE schedule_id = $1 GROUP BY scheduled_for ORDER BY scheduled_for',
      [id],
    );
    const { rows: tickRows } = await h.db.pool.query<{ scheduled_for: Date; outcome: string; pipeline_id: string | null }>(
      'SELECT scheduled_for, outcome, pipeline_id FROM schedule_ticks WHERE schedule_id = $1 ORDER BY scheduled_for',
      [id],
    );
    const startedTicks = tickRows.filter((t) => t.outcome === 'started');
    expect(perTick.length).to.be.at.least(TICKS);
    expect(perTick.map((t) => t.runs)).to.deep.equal(perTick.map(() => 1));
    expect(startedTicks.map((t) => t.scheduled_for.getTime())).to.deep.equal(perTick.map((t) => t.scheduled_for.getTime()));
    expect(startedTicks.every((t) => t.pipeline_id !== null)).to.equal(true);
    // One tick per interval: consecutive tick times are whole seconds apart, never twice the same.
    const times = tickRows.map((t) => t.scheduled_for.getTime());
    for (let i = 1; i < times.length; i++) expect((times[i]! - times[i - 1]!) % 1000, `ticks ${times.join(', ')}`).to.equal(0);
  });
});
