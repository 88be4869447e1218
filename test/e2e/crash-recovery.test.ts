// SIGKILL of a real worker process in the middle of a stage: another worker process runs the
// stage again and the stage's effect is recorded once (one abandoned run, one succeeded run).
// First through BullMQ's stalled-job check (the job is still in Redis), then with the job gone
// too (the deployment's keys deleted after the kill), through the reconciler.
import { expect } from 'chai';
import { Queue } from 'bullmq';
import { CONTROL_QUEUE } from '../../src/infra/queue/queue-names.js';
import { PRIORITY_AGING_SCHEDULER_ID, RECONCILER_SCHEDULER_ID } from '../../src/infra/queue/reconcile.scheduler.js';
import { deleteKeys, startHarness, type Harness } from '../support/harness.js';
import { request, waitForPipeline, waitUntil, type Loose } from '../support/http.js';
import { spawnWorker, type WorkerProcess } from '../support/processes.js';
import { pollUntil } from '../support/chaos/free-port.js';

// Small lock and stall settings, so a lost worker's job is taken over in seconds.
const WORKER_ENV = { LOCK_DURATION_MS: '2000', STALLED_INTERVAL_MS: '1000', RECONCILE_EVERY_MS: '1000' };

interface RunRow {
  key: string;
  status: string;
  attempt: number;
  worker_id: string;
  error: { code?: string } | null;
  started_at: Date;
}

describe('crash recovery (e2e, SIGKILL of a real worker process)', function () {
  this.timeout(180_000);
  let h: Harness;
  let controlQueue: Queue;
  // The control queue's schedulers but the priority aging's (issue 17), which every worker also upserts.
  const reconcilerSchedulers = async () => (await controlQueue.getJobSchedulers()).filter((s) => s.key !== PRIORITY_AGING_SCHEDULER_ID);
  const workers: WorkerProcess[] = [];

  const spawn = () => {
    const worker = spawnWorker(h.config, ['--concurrency', '2'], WORKER_ENV);
    workers.push(worker);
    return worker;
  };
  const alive = () => workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
  const pidOf = (workerId: string) => Number(workerId.split(':')[1]);

  async function waitForWorkersOnline(count: number): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      // A busy machine can answer other than 200 here (a 429 of the address limit): asked again, shown at the deadline.
      const { status, body } = await request(h.baseUrl, 'GET', '/api/v1/agents');
      const sleep = status === 200 ? (body.items as Loose[]).find((a) => a.type === 'sleep') : undefined;
      if (sleep && sleep.workersOnline >= count) return;
      if (Date.now() > deadline)
        throw new Error(
          `workers did not come online (last answer ${status} ${JSON.stringify(body)}):\n${workers.map((w) => w.output()).join('\n')}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * The workers' output once it holds `line`. The reconciler logs its findings at the end of its
   * pass, after it asked for the advance that may already have finished the pipeline in another
   * process, so the line can trail the status the test waited for.
   */
  async function logsWith(line: string): Promise<string> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const logs = workers.map((w) => w.output()).join('\n');
      if (logs.includes(line) || Date.now() > deadline) return logs;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Submits a → b → c with b long; returns once b's handler is running (progress reported), with the process running it. */
  async function submitAndCatchMidStage(name: string): Promise<{ id: string; victim: WorkerProcess }> {
    const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
      name,
      stages: [
        { key: 'a', agent: 'sleep', input: { ms: 100 } },
        // One attempt: a worker lost is not a failed attempt, so the takeover must not need a retry.
        { key: 'b', agent: 'sleep', input: { ms: 3000 }, dependsOn: ['a'], retry: { attempts: 1 } },
        { key: 'c', agent: 'sleep', input: { ms: 100 }, dependsOn: ['b'] },
      ],
    });
    expect(created.status).to.equal(202);
    const running = await waitUntil(
      h.baseUrl,
      created.body.id,
      (p) => p.stages[1].status === 'running' && p.stages[1].progress > 0,
      60_000,
    );
    const { rows } = await h.db.pool.query<{ run_worker_id: string }>('SELECT run_worker_id FROM stages WHERE id = $1', [
      running.stages[1].id,
    ]);
    const victim = alive().find((w) => w.child.pid === pidOf(rows[0]!.run_worker_id));
    expect(victim, `the process running b (${rows[0]!.run_worker_id})`).to.not.equal(undefined);
    return { id: created.body.id, victim: victim! };
  }

  async function runsOf(pipelineId: string): Promise<RunRow[]> {
    const { rows } = await h.db.pool.query<RunRow>(
      `SELECT s.key, r.status, r.attempt, r.worker_id, r.error, r.started_at FROM stage_runs r JOIN stages s ON s.id = r.stage_id
       WHERE r.pipeline_id = $1 ORDER BY s.position, r.attempt`,
      [pipelineId],
    );
    return rows;
  }

  /** The stage's effect is its succeeded run and its `stage.finished` event: each exactly once per stage. */
  async function expectEffectsOnce(pipelineId: string): Promise<void> {
    const runs = await runsOf(pipelineId);
    for (const key of ['a', 'b', 'c'])
      expect(
        runs.filter((r) => r.key === key && r.status === 'succeeded'),
        key,
      ).to.have.length(1);
    const { rows } = await h.db.pool.query<{ stage_key: string; n: number }>(
      "SELECT stage_key, count(*)::int AS n FROM pipeline_events WHERE pipeline_id = $1 AND type = 'stage.finished' GROUP BY stage_key ORDER BY stage_key",
      [pipelineId],
    );
    expect(rows).to.deep.equal([
      { stage_key: 'a', n: 1 },
      { stage_key: 'b', n: 1 },
      { stage_key: 'c', n: 1 },
    ]);
  }

  before(async () => {
    h = await startHarness({ workers: 0 });
    controlQueue = new Queue(CONTROL_QUEUE, { connection: h.connection(), prefix: h.config.QUEUE_PREFIX });
    spawn();
    spawn();
    await waitForWorkersOnline(2);
  });
  after(async () => {
    const codes = await Promise.all(alive().map((w) => w.stop('SIGTERM')));
    await controlQueue.close();
    await h.close();
    expect(
      codes.every((c) => c === 0),
      `exit codes ${JSON.stringify(codes)}`,
    ).to.equal(true);
  });

  it('two replicas booted: one reconciler scheduler', async () => {
    // A worker registers with its queues before it upserts the scheduler: wait for the upsert.
    await pollUntil('a reconciler scheduler', async () => (await reconcilerSchedulers()).length > 0, 60_000);
    expect((await reconcilerSchedulers()).map((s) => [s.key, s.every])).to.deep.equal([[RECONCILER_SCHEDULER_ID, 1000]]);
  });

  it('SIGKILL mid-stage: the other process takes the stage over after the lock lapses; one abandoned and one succeeded run', async () => {
    const { id, victim } = await submitAndCatchMidStage('crash-stalled');
    const killedAt = new Date();
    await victim.stop('SIGKILL');
    const survivor = alive()[0]!;

    const done = await waitForPipeline(h.baseUrl, id, 60_000);
    expect(done.status).to.equal('succeeded');
    const b = (await runsOf(id)).filter((r) => r.key === 'b');
    expect(b.map((r) => r.status)).to.deep.equal(['abandoned', 'succeeded']);
    expect(b[0]!.error?.code).to.equal('WORKER_LOST');
    expect(pidOf(b[0]!.worker_id)).to.equal(victim.child.pid);
    expect(pidOf(b[1]!.worker_id)).to.equal(survivor.child.pid);
    await expectEffectsOnce(id);
    process.stdout.write(`      figures: b started again ${b[1]!.started_at.getTime() - killedAt.getTime()} ms after the SIGKILL\n`);
  });

  it('SIGKILL mid-stage and the job deleted from Redis too: the reconciler re-adds it, and the stage still runs to one success', async () => {
    spawn();
    await waitForWorkersOnline(2);
    const { id, victim } = await submitAndCatchMidStage('crash-flushed');
    const killedAt = new Date();
    await victim.stop('SIGKILL');
    // Nothing of the job is left for BullMQ's stalled check: only Postgres knows b is running.
    await deleteKeys(h.config.REDIS_URL, h.config.QUEUE_PREFIX);

    const done = await waitForPipeline(h.baseUrl, id, 60_000);
    expect(done.status).to.equal('succeeded');
    const b = (await runsOf(id)).filter((r) => r.key === 'b');
    expect(b.map((r) => r.status)).to.deep.equal(['abandoned', 'succeeded']);
    expect(b[0]!.error?.code).to.equal('WORKER_LOST');
    await expectEffectsOnce(id);
    expect((await reconcilerSchedulers()).map((s) => s.key)).to.deep.equal([RECONCILER_SCHEDULER_ID]);
    // The repair is logged at warn, with the stage it found.
    const logs = await logsWith(`running stage ${done.stages[1].id}: job ${done.stages[1].id} missing`);
    expect(logs).to.include('reconciler found jobs that Postgres needs and Redis lacks');
    expect(logs).to.include(`running stage ${done.stages[1].id}: job ${done.stages[1].id} missing`);
    process.stdout.write(
      `      figures: b started again ${b[1]!.started_at.getTime() - killedAt.getTime()} ms after the SIGKILL and the deletion\n`,
    );
  });

  it('a crash loop (b kills its worker twice): BullMQ dead-letters the job, the reconciler records b failed and the pipeline fails; a DLQ replay runs it to success', async () => {
    spawn();
    await waitForWorkersOnline(2);
    const { id, victim } = await submitAndCatchMidStage('crash-loop');
    await victim.stop('SIGKILL');
    spawn();
    // The second delivery of the same job (MAX_STALLED_COUNT 1: one stall is forgiven), on another process.
    const again = await waitUntil(
      h.baseUrl,
      id,
      (p) => p.stages[1].status === 'running' && p.stages[1].attempts === 2 && p.stages[1].progress > 0,
      60_000,
    );
    const { rows } = await h.db.pool.query<{ run_worker_id: string }>('SELECT run_worker_id FROM stages WHERE id = $1', [
      again.stages[1].id,
    ]);
    const second = alive().find((w) => w.child.pid === pidOf(rows[0]!.run_worker_id))!;
    expect(second, 'the process running b the second time').to.not.equal(undefined);
    await second.stop('SIGKILL');
    const secondKillAt = Date.now();
    spawn();

    const failed = await waitForPipeline(h.baseUrl, id, 60_000);
    expect(failed.status).to.equal('failed');
    expect(failed.stages.map((s: Loose) => [s.key, s.status])).to.deep.equal([
      ['a', 'succeeded'],
      ['b', 'failed'],
      ['c', 'skipped'],
    ]);
    expect(failed.stages[1].error).to.include({ code: 'STALLED_TOO_OFTEN', retryable: false, category: 'agent' });
    const b = (await runsOf(id)).filter((r) => r.key === 'b');
    expect(b.map((r) => [r.status, r.error?.code])).to.deep.equal([
      ['abandoned', 'WORKER_LOST'],
      ['abandoned', 'STALLED_TOO_OFTEN'],
    ]);
    const deadLettered = `running stage ${failed.stages[1].id}: job ${failed.stages[1].id} dead-lettered by BullMQ; stage recorded failed`;
    expect(await logsWith(deadLettered)).to.include(deadLettered);
    process.stdout.write(
      `      figures: b recorded failed ${new Date(failed.stages[1].finishedAt).getTime() - secondKillAt} ms after the second SIGKILL\n`,
    );

    // The job waits in the DLQ; replayed (the cause gone: no more kills), b and c run once each.
    const dlq = await request(h.baseUrl, 'GET', `/api/v1/dlq?pipelineId=${id}`);
    expect(dlq.body.items.map((i: Loose) => [i.stageKey, i.replayable])).to.deep.equal([['b', true]]);
    const replay = await request(h.baseUrl, 'POST', `/api/v1/dlq/${dlq.body.items[0].jobId}/retry`, {});
    expect(replay.status, JSON.stringify(replay.body)).to.equal(202);
    expect(replay.body).to.include({ mode: 'reopened' });
    const done = await waitForPipeline(h.baseUrl, id, 60_000);
    expect(done.status).to.equal('succeeded');
    const runs = await runsOf(id);
    for (const key of ['a', 'b', 'c'])
      expect(
        runs.filter((r) => r.key === key && r.status === 'succeeded'),
        key,
      ).to.have.length(1);
  });
});
