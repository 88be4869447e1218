// Finished jobs leave Redis as the Retention variables say, on the real Redis: with counts 0 the
// queues hold no job hash of a finished pipeline (stage, retry, DLQ and conductor jobs alike), and
// with an age the jobs stay until a later job of their queue finishes past it. Counts and states
// only: the one wait on the clock is for the age to pass, and nothing is timed.
import { expect } from 'chai';
import type { RedisClient } from '../../src/infra/queue/redis-connection.js';
import { startHarness, type Harness } from '../support/harness.js';
import { request, waitForPipeline } from '../support/http.js';
import { openTestRedis } from '../support/test-redis.js';
import { finishedSetSizes, jobHashesUnder, keysUnder, liveJobs } from '../support/redis-keys.js';
import { ADVANCE_JOB, CONTROL_QUEUE, STAGE_JOB, agentQueueName } from '../../src/infra/queue/queue-names.js';

const QUEUES = [CONTROL_QUEUE, agentQueueName('noop'), agentQueueName('fail')];
const JOB_NAMES = [STAGE_JOB, ADVANCE_JOB];

/** Three shapes: a chain that succeeds, a stage that succeeds on its retry, a poison stage (DLQ) whose dependant is skipped. */
const SHAPES = {
  ok: (n: string) => ({
    name: `retention-ok-${n}`,
    stages: [
      { key: 'a', agent: 'noop' },
      { key: 'b', agent: 'noop', dependsOn: ['a'] },
      { key: 'c', agent: 'noop', dependsOn: ['b'] },
    ],
  }),
  flaky: (n: string) => ({
    name: `retention-flaky-${n}`,
    stages: [
      {
        key: 'flaky',
        agent: 'fail',
        input: { failAttempts: 1 },
        retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 0, jitter: 0 } },
      },
      { key: 'after', agent: 'noop', dependsOn: ['flaky'] },
    ],
  }),
  broken: (n: string) => ({
    name: `retention-broken-${n}`,
    stages: [
      { key: 'poison', agent: 'fail', input: { unrecoverable: true } },
      { key: 'never', agent: 'noop', dependsOn: ['poison'] },
    ],
  }),
};
type Shape = keyof typeof SHAPES;

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Ran {
  pipelineIds: string[];
  /** Each stage that got a job: its queue's job hash key. */
  jobKeys: string[];
  stageIds: string[];
}

/** Submits the pipelines, waits until each has finished and no job of theirs is left to run. */
async function runPipelines(h: Harness, redis: RedisClient, shapes: readonly Shape[], expected: Record<Shape, string>): Promise<Ran> {
  const ids: string[] = [];
  for (const [i, shape] of shapes.entries()) {
    const res = await request(h.baseUrl, 'POST', '/api/v1/pipelines', SHAPES[shape](String(i)));
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    ids.push(res.body.id as string);
  }
  for (const [i, id] of ids.entries()) expect((await waitForPipeline(h.baseUrl, id)).status).to.equal(expected[shapes[i]!]);
  // A finish may still ask the conductor after the pipeline is recorded: wait for every queue to idle.
  const prefix = h.config.QUEUE_PREFIX;
  await until('the queues to idle', async () => (await Promise.all(QUEUES.map((q) => liveJobs(redis, prefix, q)))).every((n) => n === 0));
  const { rows } = await h.db.pool.query<{ id: string; agent: string; job_id: string | null }>(
    'SELECT id, agent, job_id FROM stages WHERE pipeline_id = ANY($1::uuid[])',
    [ids],
  );
  return {
    pipelineIds: ids,
    stageIds: rows.map((r) => r.id),
    jobKeys: rows.filter((r) => r.job_id !== null).map((r) => `${prefix}:${agentQueueName(r.agent)}:${r.job_id}`),
  };
}

const EXPECTED: Record<Shape, string> = { ok: 'succeeded', flaky: 'succeeded', broken: 'failed' };

describe('queue retention on Redis (integration)', function () {
  this.timeout(120_000);
  let redis: RedisClient;

  before(() => {
    redis = openTestRedis();
  });
  after(() => redis.disconnect());

  describe('COMPLETED_JOBS_KEEP=0, FAILED_JOBS_KEEP=0', () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ env: { COMPLETED_JOBS_KEEP: '0', FAILED_JOBS_KEEP: '0', QUEUE_EVENTS_MAX_LEN: '0' } });
    });
    after(() => h.close());

    it('12 finished pipelines (succeeded, retried, dead-lettered) leave no job hash, no finished set, no key naming them', async () => {
      const shapes: Shape[] = ['ok', 'flaky', 'broken', 'ok', 'flaky', 'broken', 'ok', 'flaky', 'broken', 'ok', 'flaky', 'broken'];
      const ran = await runPipelines(h, redis, shapes, EXPECTED);
      // 4 × (3 + 2 + 1) stages got a job (the skipped ones never did).
      expect(ran.jobKeys).to.have.length(24);
      const prefix = h.config.QUEUE_PREFIX;

      expect(await jobHashesUnder(redis, prefix, JOB_NAMES), 'stage and advance job hashes').to.deep.equal([]);
      for (const queue of QUEUES) expect(await finishedSetSizes(redis, prefix, queue), queue).to.deep.equal({ completed: 0, failed: 0 });
      const keys = await keysUnder(redis, prefix);
      const named = keys.filter((key) => [...ran.pipelineIds, ...ran.stageIds].some((id) => key.includes(id)));
      expect(named, 'keys naming a pipeline or stage (job hashes, logs, deduplication keys)').to.deep.equal([]);
      // Postgres has the record: every attempt of every stage.
      const runs = await h.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM stage_runs WHERE pipeline_id = ANY($1::uuid[])', [
        ran.pipelineIds,
      ]);
      expect(Number(runs.rows[0]!.n)).to.equal(28); // 24 jobs, the 4 flaky stages ran twice
      // …and the DLQ is empty: nothing was kept to replay.
      const dlq = await request(h.baseUrl, 'GET', '/api/v1/dlq');
      expect(dlq.body.total).to.equal(0);
    });
  });

  describe('COMPLETED_JOBS_MAX_AGE=1s, FAILED_JOBS_MAX_AGE=1s (counts high)', () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({
        env: { COMPLETED_JOBS_KEEP: '1000', FAILED_JOBS_KEEP: '1000', COMPLETED_JOBS_MAX_AGE: '1s', FAILED_JOBS_MAX_AGE: '1s' },
      });
    });
    after(() => h.close());

    it('jobs stay within the age, and go when a later job of their queue finishes past it; Postgres keeps every stage', async () => {
      const prefix = h.config.QUEUE_PREFIX;
      const first = await runPipelines(h, redis, ['ok', 'flaky', 'broken'], EXPECTED);
      expect(first.jobKeys).to.have.length(6);
      const kept = await jobHashesUnder(redis, prefix, [STAGE_JOB]);
      expect([...kept].sort(), 'the first pipelines’ stage jobs, kept').to.deep.equal([...first.jobKeys].sort());
      expect(await finishedSetSizes(redis, prefix, agentQueueName('fail'))).to.deep.equal({ completed: 1, failed: 1 });
      const advances = await jobHashesUnder(redis, prefix, [ADVANCE_JOB]);
      expect(advances.length, 'the conductor’s completed advances, kept').to.be.above(0);

      // Past the age of every one of them (BullMQ compares finishedOn with the finishing job's clock, this process's).
      const finishedOn = await Promise.all([...kept, ...advances].map((key) => redis.hget(key, 'finishedOn')));
      const newest = Math.max(...finishedOn.map(Number));
      await until('the kept jobs to pass the 1 s age', async () => Date.now() > newest + 1100);

      const second = await runPipelines(h, redis, ['ok', 'flaky', 'broken'], EXPECTED);
      const left = await jobHashesUnder(redis, prefix, JOB_NAMES);
      expect(
        left.filter((key) => first.jobKeys.includes(key) || advances.includes(key)),
        'the first pipelines’ jobs',
      ).to.deep.equal([]);
      // The second batch's jobs are within the age: they stay, each queue's sets hold only them.
      expect(left.filter((key) => second.jobKeys.includes(key)).sort()).to.deep.equal([...second.jobKeys].sort());
      expect(await finishedSetSizes(redis, prefix, agentQueueName('fail'))).to.deep.equal({ completed: 1, failed: 1 });
      expect((await finishedSetSizes(redis, prefix, agentQueueName('noop'))).completed).to.equal(4);

      const stages = await h.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM stages WHERE pipeline_id = ANY($1::uuid[])', [
        [...first.pipelineIds, ...second.pipelineIds],
      ]);
      expect(Number(stages.rows[0]!.n)).to.equal(14);
    });
  });
});
