// Priorities and deadlines end to end (issue 17, docs/pipeline-operations.md): an urgent
// pipeline's stage passes a backlog of normal ones on a busy worker (an order read from Postgres,
// not a timing), an aged low job is taken before a fresh high one, a priority change moves the
// waiting jobs, the access rules and the 400s, and a deadline that cancels a pipeline, also after
// its job was lost from Redis. Real HTTP, Redis, Postgres and workers.
import { expect } from 'chai';
import { Queue, Worker } from 'bullmq';
import { redisTargetOf } from '../../src/composition/redis-target.js';
import { createReconcileRepository } from '../../src/infra/db/reconcile.repository.js';
import { createAgentQueues, type AgentQueuesHandle } from '../../src/infra/queue/agent.queues.js';
import { createControlQueue, pipelineDeadlineJobId } from '../../src/infra/queue/control.queue.js';
import { createPriorityAging } from '../../src/infra/queue/priority-aging.js';
import { agentQueueName, CONTROL_QUEUE } from '../../src/infra/queue/queue-names.js';
import { createReconcileQueues } from '../../src/infra/queue/reconcile.queues.js';
import { PRIORITY_AGING_SCHEDULER_ID } from '../../src/infra/queue/reconcile.scheduler.js';
import { createRedisConnection, type RedisClient } from '../../src/infra/queue/redis-connection.js';
import { createLogger } from '../../src/infra/telemetry/logger.js';
import { createReconciler } from '../../src/services/reconciler.service.js';
import { startHarness, testPrefix, type Harness } from '../support/harness.js';
import { createTestSchema, dropSchema } from '../support/test-database.js';
import { bearer, expectError, expectValidationError, request, waitForPipeline, type Loose } from '../support/http.js';

const PIPELINES = '/api/v1/pipelines';
const TERMINAL = "('succeeded', 'failed', 'cancelled')";
const silent = createLogger({ level: 'error', service: 'test', silent: true });
const single = (name: string, ms: number, extra: Record<string, unknown> = {}) => ({
  name,
  stages: [{ key: 'only', agent: 'sleep', input: { ms } }],
  ...extra,
});

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms (last: ${JSON.stringify(value)})`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Leaves nothing unfinished in the shared schema for other suites' reconcilers to pick up. */
async function closeLeftovers(h: Harness, ids: readonly string[]): Promise<void> {
  await h.db.pool.query(`UPDATE stages SET status = 'cancelled' WHERE pipeline_id = ANY($1::uuid[]) AND status NOT IN ${TERMINAL}`, [ids]);
  await h.db.pool.query(
    `UPDATE pipelines SET status = 'cancelled', finished_at = now() WHERE id = ANY($1::uuid[]) AND status NOT IN ${TERMINAL}`,
    [ids],
  );
}

describe('priorities and deadlines (e2e)', function () {
  this.timeout(120_000);

  describe('the order under load', () => {
    const BACKLOG = 200;
    let h: Harness;
    const ids: string[] = [];
    after(async () => {
      if (!h) return;
      await closeLeftovers(h, ids);
      await h.close();
    });

    it(`an urgent pipeline's stage starts before the ${BACKLOG}-pipeline normal backlog still waiting`, async () => {
      // Arrange: one worker running one job at a time, no aging (a strict order), and a backlog of
      // normal one-stage pipelines that it is already working through.
      h = await startHarness({ workers: 0, concurrency: 1, env: { PRIORITY_AGING_MS: '0' } });
      for (let i = 0; i < BACKLOG; i += 25) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(25, BACKLOG - i) }, (_, j) => request(h.baseUrl, 'POST', PIPELINES, single(`normal-${i + j}`, 5))),
        );
        for (const res of batch) {
          expect(res.status, JSON.stringify(res.body)).to.equal(202);
          expect(res.body.priority).to.equal('normal');
          ids.push(res.body.id);
        }
      }
      await h.startWorker();
      const started = async () =>
        (
          await h.db.pool.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM stages WHERE pipeline_id = ANY($1::uuid[]) AND run_started_at IS NOT NULL',
            [ids],
          )
        ).rows[0]!.n;
      await eventually(started, (n) => n >= 5, 60_000, 'the worker working through the backlog');

      // Act: the urgent one (the admin key holds `prioritize`)
      const urgent = await request(h.baseUrl, 'POST', PIPELINES, single('urgent-hotfix', 5, { priority: 'urgent' }));
      expect(urgent.status, JSON.stringify(urgent.body)).to.equal(202);
      expect(urgent.body.priority).to.equal('urgent');
      ids.push(urgent.body.id);
      const done = await waitForPipeline(h.baseUrl, urgent.body.id, 60_000);

      // Assert, from Postgres: the normal stages not yet started when the urgent one was submitted,
      // and how many of them started before it (at most the one job the worker may have been
      // fetching between the urgent commit and its add).
      expect(done.status).to.equal('succeeded');
      const { rows } = await h.db.pool.query<{ id: string; created_at: Date; started_at: Date | null }>(
        `SELECT p.id, p.created_at, r.started_at FROM pipelines p LEFT JOIN stage_runs r ON r.pipeline_id = p.id
         WHERE p.id = ANY($1::uuid[])`,
        [ids],
      );
      const urgentRow = rows.find((r) => r.id === urgent.body.id)!;
      const waitingThen = rows.filter((r) => r.id !== urgentRow.id && (r.started_at === null || r.started_at > urgentRow.created_at));
      const passedIt = waitingThen.filter((r) => r.started_at !== null && r.started_at < urgentRow.started_at!);
      process.stdout.write(
        `      figures: ${waitingThen.length} of ${BACKLOG} normal pipelines still waiting when the urgent one arrived; ${passedIt.length} of them started before it\n`,
      );
      expect(waitingThen.length, 'a backlog was still waiting').to.be.greaterThan(BACKLOG / 2);
      expect(passedIt.length).to.be.at.most(1);
    });
  });

  describe('admission by priority (a schema of its own: the running limit counts every pipeline in it)', () => {
    let schema: string;
    let h: Harness | undefined;
    after(async () => {
      await h?.close();
      if (schema) await dropSchema(schema);
    });

    it('MAX_RUNNING_PIPELINES=1: an urgent pipeline submitted last starts at the first free slot, before every queued normal one', async () => {
      // Arrange: one slot, a normal backlog of two submitters queued behind it, no worker yet
      const created = await createTestSchema();
      schema = created.schema;
      h = await startHarness({
        workers: 0,
        env: {
          DATABASE_URL: created.url,
          MAX_RUNNING_PIPELINES: '1',
          BACKLOG_HIGH_WATER: '0',
          PRIORITY_AGING_MS: '0',
          SHUTDOWN_GRACE_MS: '200',
        },
      });
      const harness = h;
      const teamA = await harness.createKey('prio-team-a', ['submitter']);
      const teamB = await harness.createKey('prio-team-b', ['submitter']);
      const ops = await harness.createKey('prio-ops', ['submitter', 'operator']);
      const submit = async (name: string, key: string, extra: Record<string, unknown> = {}) => {
        const res = await request(harness.baseUrl, 'POST', PIPELINES, single(name, 20, extra), bearer(key));
        expect(res.status, JSON.stringify(res.body)).to.equal(202);
        return res.body as Loose;
      };
      const normal: Loose[] = [];
      for (let i = 0; i < 4; i++) normal.push(await submit(`a-${i}`, teamA.key));
      for (let i = 0; i < 2; i++) normal.push(await submit(`b-${i}`, teamB.key));
      const urgent = await submit('urgent', ops.key, { priority: 'urgent' });

      // Act
      await harness.startWorker();
      await Promise.all([...normal, urgent].map((p) => waitForPipeline(harness.baseUrl, p.id as string, 60_000)));

      // Assert, from Postgres: the first normal one held the slot; the urgent one started next.
      expect(normal.map((p) => p.status)).to.deep.equal(['running', 'queued', 'queued', 'queued', 'queued', 'queued']);
      expect(urgent.status).to.equal('queued');
      const { rows } = await harness.db.pool.query<{ id: string; status: string }>(
        'SELECT id, status FROM pipelines WHERE id = ANY($1::uuid[]) ORDER BY started_at, created_at',
        [[...normal, urgent].map((p) => p.id)],
      );
      expect(rows.every((r) => r.status === 'succeeded')).to.equal(true);
      expect(rows.map((r) => r.id)).to.deep.equal([normal[0]!.id, urgent.id, ...normal.slice(1).map((p) => p.id)]);
    });
  });

  describe('BullMQ priorities and aging (no agent workers: the test takes the jobs)', () => {
    let h: Harness;
    let connection: RedisClient;
    let prefix: string;
    before(async () => {
      h = await startHarness({ workers: 0 });
      connection = createRedisConnection(redisTargetOf(h.config), 'worker');
      prefix = testPrefix();
    });
    after(async () => {
      await h?.close();
      await connection?.quit();
    });

    it('every stage job carries its pipeline priority; an aged low job is taken before a fresh high one', async () => {
      // Arrange: a tiny aging step, one low stage job old enough to compete as urgent, then a fresh high one
      const STEP = 150;
      const queues = createAgentQueues(connection, prefix, ['noop']);
      const aging = createPriorityAging({ queues: () => queues.all(), stepMs: STEP, logger: silent });
      const retry = { attempts: 1, backoff: { type: 'fixed' as const, delayMs: 100, jitter: 0 } };
      const stage = (id: string, priority: 'low' | 'high') => ({ id, key: 'only', agent: 'noop', retry, priority });
      const low = '00000000-0000-4000-8000-000000000001';
      const high = '00000000-0000-4000-8000-000000000002';
      await queues.dispatch('00000000-0000-4000-8000-0000000000aa', [stage(low, 'low')]);
      await new Promise((r) => setTimeout(r, 3 * STEP + 50));
      await queues.dispatch('00000000-0000-4000-8000-0000000000bb', [stage(high, 'high')]);
      const queue = queues.queueFor('noop');
      expect((await queue.getJob(low))!.priority, 'a low stage job').to.equal(4);
      expect((await queue.getJob(high))!.priority, 'a high stage job').to.equal(2);
      expect(
        (await queue.getPrioritized()).map((j) => j.id),
        'before aging',
      ).to.deep.equal([high, low]);

      // Act: one aging pass, then a worker takes both
      const report = await aging.ageNow();
      const taken: string[] = [];
      const worker = new Worker(agentQueueName('noop'), async (job) => void taken.push(job.id!), { connection, prefix, concurrency: 1 });
      await eventually(
        async () => taken.length,
        (n) => n === 2,
        10_000,
        'both jobs taken',
      );
      await worker.close();

      // Assert
      expect(report.lifted).to.equal(1);
      expect(taken).to.deep.equal([low, high]);
      await queues.close();
    });

    it('through the scheduler and the control worker: a low stage job waiting in a paused queue is lifted to urgent, then runs', async () => {
      // Arrange: a 200 ms aging step, and the noop queue paused so the job waits
      const aged = await startHarness({ workers: 1, env: { PRIORITY_AGING_MS: '200' } });
      const noop = new Queue(agentQueueName('noop'), { connection: aged.connection(), prefix: aged.config.QUEUE_PREFIX });
      try {
        await noop.pause();
        const res = await request(aged.baseUrl, 'POST', PIPELINES, {
          name: 'aged-low',
          priority: 'low',
          stages: [{ key: 'only', agent: 'noop' }],
        });
        expect(res.status, JSON.stringify(res.body)).to.equal(202);
        const jobId = res.body.stages[0].id as string;
        expect((await noop.getJob(jobId))!.priority).to.equal(4);

        // Act: the scheduler's passes run on the control queue while the job waits
        const lifted = await eventually(
          async () => (await noop.getJob(jobId))!.priority,
          (p) => p === 1,
          20_000,
          'the job lifted to urgent',
        );
        await noop.resume();

        // Assert
        expect(lifted).to.equal(1);
        expect((await waitForPipeline(aged.baseUrl, res.body.id, 30_000)).status).to.equal('succeeded');
      } finally {
        await noop.resume();
        await noop.close();
        await aged.close();
      }
    });

    it('a worker process keeps the aging scheduler on the control queue (one per deployment)', async () => {
      const worker = await h.startWorker();
      const control = new Queue(CONTROL_QUEUE, { connection, prefix: h.config.QUEUE_PREFIX });
      const schedulers = await control.getJobSchedulers();
      await control.close();
      await worker.close();
      h.workers.splice(h.workers.indexOf(worker), 1);
      const aging = schedulers.find((s) => s.key === PRIORITY_AGING_SCHEDULER_ID);
      expect(aging, JSON.stringify(schedulers)).to.not.equal(undefined);
      expect(Number(aging!.every)).to.equal(h.config.PRIORITY_AGING_MS);
    });
  });

  describe('the API: validation, access, audit, a priority change', () => {
    let h: Harness;
    let submitter: { key: string; id: string };
    let operator: { key: string; id: string };
    let sleepQueue: AgentQueuesHandle;
    const ids: string[] = [];
    before(async () => {
      h = await startHarness({ workers: 0 });
      submitter = await h.createKey('prio-submitter', ['submitter']);
      operator = await h.createKey('prio-operator', ['submitter', 'operator']);
      sleepQueue = createAgentQueues(h.connection(), h.config.QUEUE_PREFIX, ['sleep']);
    });
    after(async () => {
      if (!h) return;
      await sleepQueue?.close();
      await closeLeftovers(h, ids);
      await h.close();
    });
    const submit = async (body: unknown, key: string) => request(h.baseUrl, 'POST', PIPELINES, body, bearer(key));

    it('400 naming the field: an unknown priority, a deadline in the past, too far, both forms, not a date', async () => {
      expectValidationError(await submit(single('bad', 1, { priority: 'critical' }), submitter.key), 'priority');
      expectValidationError(await submit(single('bad', 1, { deadline: '2020-01-01T00:00:00Z' }), submitter.key), 'deadline');
      expectValidationError(await submit(single('bad', 1, { deadline: 'next week' }), submitter.key), 'deadline');
      expectValidationError(await submit(single('bad', 1, { deadlineIn: '3650d' }), submitter.key), 'deadlineIn');
      expectValidationError(
        await submit(single('bad', 1, { deadline: '2099-01-01T00:00:00Z', deadlineIn: '1h' }), submitter.key),
        'deadline',
      );
      expectValidationError(await submit({ template: 'feature-delivery', input: {}, priority: 'soon' }, submitter.key), 'priority');
      const { rows } = await h.db.pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pipelines WHERE name = 'bad' AND submitter = $1",
        [submitter.id],
      );
      expect(rows[0]!.n, 'nothing recorded').to.equal(0);
    });

    it('a submitter may submit up to high; urgent is 403 PRIORITY_FORBIDDEN; an operator may', async () => {
      const high = await submit(single('prio-high', 1, { priority: 'high', deadlineIn: '1h' }), submitter.key);
      expect(high.status, JSON.stringify(high.body)).to.equal(202);
      ids.push(high.body.id);
      expect(high.body.priority).to.equal('high');
      expect(new Date(high.body.deadlineAt).getTime()).to.be.greaterThan(Date.now());
      expectError(await submit(single('prio-urgent', 1, { priority: 'urgent' }), submitter.key), 403, 'PRIORITY_FORBIDDEN');
      const urgent = await submit(single('prio-urgent', 1, { priority: 'urgent' }), operator.key);
      expect(urgent.status, JSON.stringify(urgent.body)).to.equal(202);
      ids.push(urgent.body.id);

      // The stage job carries it, the list filters by it, the audit records it.
      const job = await sleepQueue.queueFor('sleep').getJob(urgent.body.stages[0].id);
      expect(job!.priority).to.equal(1);
      const list = await request(h.baseUrl, 'GET', `${PIPELINES}?priority=urgent&submitter=${encodeURIComponent(operator.id)}`);
      expect(list.body.items.map((p: Loose) => p.id)).to.deep.equal([urgent.body.id]);
      const audit = await request(h.baseUrl, 'GET', `/api/v1/audit?action=pipeline.submitted&pipelineId=${urgent.body.id}`);
      expect(audit.status, JSON.stringify(audit.body)).to.equal(200);
      expect(audit.body.items[0].data.priority).to.equal('urgent');
    });

    it('POST /pipelines/:id/priority: operators only; moves the waiting job; audited; 409 once finished, 404, 400', async () => {
      const created = await submit(single('prio-change', 1), submitter.key);
      ids.push(created.body.id);
      const path = `${PIPELINES}/${created.body.id}/priority`;
      expectError(await request(h.baseUrl, 'POST', path, { priority: 'urgent' }, bearer(submitter.key)), 403, 'FORBIDDEN');
      expectValidationError(await request(h.baseUrl, 'POST', path, { priority: 'asap' }, bearer(operator.key)), 'priority');

      const changed = await request(h.baseUrl, 'POST', path, { priority: 'urgent' }, bearer(operator.key));
      expect(changed.status, JSON.stringify(changed.body)).to.equal(200);
      expect(changed.body.priority).to.equal('urgent');
      expect((await sleepQueue.queueFor('sleep').getJob(created.body.stages[0].id))!.priority, 'the waiting job moved').to.equal(1);
      const audit = await request(h.baseUrl, 'GET', `/api/v1/audit?action=pipeline.reprioritized&pipelineId=${created.body.id}`);
      expect(audit.body.items[0].data).to.include({ from: 'normal', to: 'urgent', waitingJobs: 1 });
      expect(audit.body.items[0].identity.id).to.equal(operator.id);

      expectError(
        await request(
          h.baseUrl,
          'POST',
          `${PIPELINES}/00000000-0000-4000-8000-000000000000/priority`,
          { priority: 'low' },
          bearer(operator.key),
        ),
        404,
        'PIPELINE_NOT_FOUND',
      );
      await request(h.baseUrl, 'POST', `${PIPELINES}/${created.body.id}/cancel`, {}, bearer(operator.key));
      await h.db.pool.query("UPDATE pipelines SET status = 'cancelled', finished_at = now() WHERE id = $1", [created.body.id]);
      expectError(await request(h.baseUrl, 'POST', path, { priority: 'low' }, bearer(operator.key)), 409, 'PIPELINE_FINISHED');
    });
  });

  describe('deadlines', () => {
    let h: Harness;
    const ids: string[] = [];
    after(async () => {
      if (!h) return;
      await closeLeftovers(h, ids);
      await h.close();
    });

    it('an unfinished pipeline is cancelled at its deadline, with reason DEADLINE_EXCEEDED', async () => {
      h = await startHarness({ workers: 1 });
      const res = await request(h.baseUrl, 'POST', PIPELINES, single('deadline', 60_000, { deadlineIn: '1s' }));
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      ids.push(res.body.id);
      const done = await waitForPipeline(h.baseUrl, res.body.id, 30_000);
      expect(done.status).to.equal('cancelled');
      expect(done.cancelReason).to.equal('DEADLINE_EXCEEDED');
      expect(done.stages[0].status).to.equal('cancelled');
      const timeline = await request(h.baseUrl, 'GET', `${PIPELINES}/${res.body.id}/timeline`);
      expect(JSON.stringify(timeline.body)).to.include('cancel requested (DEADLINE_EXCEEDED)');
    });

    it('a deadline whose job Redis lost is scheduled again by the reconciler, and still applies', async () => {
      // Arrange: a pipeline with a deadline whose job is removed (what a FLUSHALL does)
      const res = await request(h.baseUrl, 'POST', PIPELINES, single('deadline-lost', 60_000, { deadlineIn: '2s' }));
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      ids.push(res.body.id);
      const connection = createRedisConnection(redisTargetOf(h.config), 'worker');
      const control = createControlQueue(connection, h.config.QUEUE_PREFIX);
      const jobId = pipelineDeadlineJobId(res.body.id, new Date(res.body.deadlineAt));
      expect(await control.queue.getJob(jobId), 'the deadline job').to.not.equal(undefined);
      await control.queue.remove(jobId);
      expect(await control.queue.getJob(jobId)).to.equal(undefined);

      // Act: one reconciler pass
      const reconciler = createReconciler({
        repo: createReconcileRepository(h.db),
        queues: createReconcileQueues({ connection, agentQueues: [], controlQueue: control.queue }),
        agentQueues: { dispatch: async () => undefined, workersOnline: async () => 0, reprioritize: async () => 0 },
        control,
        logger: silent,
        lockDurationMs: 30_000,
        graceMs: 0,
      });
      const report = await reconciler.reconcileNow();

      // Assert: the job is back, and the pipeline is cancelled at its deadline
      expect(report.pipelineDeadlinesChecked).to.be.at.least(1);
      expect(await control.queue.getJob(jobId), 'scheduled again').to.not.equal(undefined);
      const done = await waitForPipeline(h.baseUrl, res.body.id, 30_000);
      expect(done.status).to.equal('cancelled');
      expect(done.cancelReason).to.equal('DEADLINE_EXCEEDED');
      await control.close();
      await connection.quit();
    });
  });
});
