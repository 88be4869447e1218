// The reconciler re-adds the jobs Postgres says must exist and Redis lacks: case by case against
// the real Redis and Postgres, then 100 running pipelines whose Redis keys are all deleted
// mid-run (what a FLUSHALL does to this deployment) and that all still finish, each stage once.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { RedisClient } from '../../src/infra/queue/redis-connection.js';
import { redisTargetOf } from '../../src/composition/redis-target.js';
import { createAttemptHeartbeatRepository } from '../../src/infra/db/attempt-heartbeat.repository.js';
import { createReconcileRepository } from '../../src/infra/db/reconcile.repository.js';
import { createAgentQueues, type AgentQueuesHandle } from '../../src/infra/queue/agent.queues.js';
import { createControlQueue, type ControlQueueHandle } from '../../src/infra/queue/control.queue.js';
import { ADVANCE_JOB, agentQueueName, CONTROL_QUEUE, RECONCILE_JOB } from '../../src/infra/queue/queue-names.js';
import { createReconcileQueues, deadlineJobId } from '../../src/infra/queue/reconcile.queues.js';
import { PRIORITY_AGING_SCHEDULER_ID, RECONCILER_SCHEDULER_ID } from '../../src/infra/queue/reconcile.scheduler.js';
import { createRedisConnection } from '../../src/infra/queue/redis-connection.js';
import { createLogger } from '../../src/infra/telemetry/logger.js';
import { createAttemptHeartbeat } from '../../src/services/attempt-heartbeat.js';
import { createReconciler, type Reconciler, type ReconcileReport } from '../../src/services/reconciler.service.js';
import { deleteKeys, startHarness, type Harness } from '../support/harness.js';
import { request } from '../support/http.js';

const LOCK_MS = 2000;
const TERMINAL = "('succeeded', 'failed', 'cancelled')";

async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
  what: string,
  describe?: () => Promise<string>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) {
      const detail = describe ? ` ${await describe()}` : '';
      throw new Error(`${what}: not reached within ${timeoutMs} ms (last: ${JSON.stringify(value)})${detail}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('reconciler (e2e)', function () {
  this.timeout(120_000);

  describe('one pass, case by case (no workers: only the reconciler touches Redis)', () => {
    let h: Harness;
    let connection: RedisClient;
    let agentQueues: AgentQueuesHandle;
    let control: ControlQueueHandle;
    let reconciler: Reconciler;
    const pipelineIds: string[] = [];

    const submit = async (stages: unknown[]) => {
      const res = await request(h.baseUrl, 'POST', '/api/v1/pipelines', { name: 'reconcile-case', stages });
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      pipelineIds.push(res.body.id);
      return res.body as { id: string; stages: { id: string; key: string }[] };
    };
    const noop = () => agentQueues.queueFor('noop');

    before(async () => {
      h = await startHarness({ workers: 0 });
      connection = createRedisConnection(redisTargetOf(h.config), 'worker');
      agentQueues = createAgentQueues(connection, h.config.QUEUE_PREFIX, [...h.catalog.keys()]);
      control = createControlQueue(connection, h.config.QUEUE_PREFIX);
      reconciler = createReconciler({
        repo: createReconcileRepository(h.db),
        queues: createReconcileQueues({ connection, agentQueues: agentQueues.all(), controlQueue: control.queue }),
        agentQueues,
        control,
        logger: createLogger({ level: 'error', service: 'test', silent: true }),
        lockDurationMs: LOCK_MS,
        graceMs: 0,
      });
    });
    after(async () => {
      // Leave nothing open in the shared schema for other suites' reconcilers to pick up.
      await h.db.pool.query(
        `UPDATE decisions SET status = 'cancelled' WHERE pipeline_id = ANY($1::uuid[]) AND status IN ('pending', 'escalated')`,
        [pipelineIds],
      );
      await h.db.pool.query(`UPDATE stages SET status = 'cancelled' WHERE pipeline_id = ANY($1::uuid[]) AND status NOT IN ${TERMINAL}`, [
        pipelineIds,
      ]);
      await h.db.pool.query(
        `UPDATE pipelines SET status = 'cancelled', finished_at = now() WHERE id = ANY($1::uuid[]) AND status NOT IN ${TERMINAL}`,
        [pipelineIds],
      );
      await control.close();
      await agentQueues.close();
      connection.disconnect();
      await h.close();
    });

    it('a queued stage whose job is missing gets it back under its job id, and a second pass adds nothing', async () => {
      const created = await submit([{ key: 'only', agent: 'noop' }]);
      const stageId = created.stages[0]!.id;
      expect(await noop().getJobState(stageId)).to.equal('prioritized');
      await noop().remove(stageId);
      expect(await noop().getJobState(stageId)).to.equal('unknown');

      const first = await reconciler.reconcileNow();
      expect(await noop().getJobState(stageId)).to.equal('prioritized');
      expect(first.queuedReadded).to.be.at.least(1);
      const job = await noop().getJob(stageId);
      expect(job!.data).to.include({ pipelineId: created.id, stageId, stageKey: 'only' });

      const second = await reconciler.reconcileNow();
      expect(second.queuedReadded + second.queuedReplaced + second.queuedRetried).to.equal(0);
      expect((await noop().getJob(stageId))!.timestamp, 'the same job, not a new one').to.equal(job!.timestamp);
    });

    it('a queued stage whose job completed is removed and added again; one whose job failed is retried with fresh attempts', async () => {
      const created = await submit([
        { key: 'done', agent: 'noop' },
        { key: 'broken', agent: 'noop' },
      ]);
      const [done, broken] = created.stages.map((s) => s.id) as [string, string];
      // A stray consumer that finishes both jobs in Redis and records nothing in Postgres: the
      // stages stay queued (a lost race, or a re-queue by a DLQ replay).
      const stray = new Worker(
        agentQueueName('noop'),
        async (job: Job<{ stageId: string }>) => {
          if (job.data.stageId === broken) throw new UnrecoverableError('stray failure');
          return 'stray';
        },
        { connection: h.connection(), prefix: h.config.QUEUE_PREFIX, autorun: false },
      );
      void stray.run();
      await eventually(
        async () => [await noop().getJobState(done), await noop().getJobState(broken)],
        (s) => s[0] === 'completed' && s[1] === 'failed',
        10_000,
        'stray worker',
      );
      await stray.close();

      const report = await reconciler.reconcileNow();
      expect(report.queuedReplaced).to.be.at.least(1);
      expect(report.queuedRetried).to.be.at.least(1);
      expect(await noop().getJobState(done)).to.equal('prioritized');
      expect(await noop().getJobState(broken)).to.equal('prioritized');
      expect((await noop().getJob(broken))!.attemptsMade).to.equal(0);
    });

    it('a queued stage whose job hash was deleted while its id stayed queued, then failed as empty, gets its job back with its payload', async () => {
      const created = await submit([{ key: 'hollow', agent: 'noop' }]);
      const stageId = created.stages[0]!.id;
      // A partial deletion of the keys (a FLUSHALL racing the workers, a SCAN + DEL): the hash
      // goes, the id stays in the prioritized set. BullMQ's moveToActive does not check that the
      // hash exists: it writes processedOn into a new one and hands out a job with no data,
      // which the agent worker fails as malformed.
      await connection.del(noop().toKey(stageId));
      const consumer = new Worker(
        agentQueueName('noop'),
        async (job: Job<{ stageId?: string }>) => {
          if (!job.data.stageId) throw new UnrecoverableError('malformed stage job');
        },
        { connection: h.connection(), prefix: h.config.QUEUE_PREFIX, autorun: false },
      );
      void consumer.run();
      await eventually(
        () => noop().getJobState(stageId),
        (s) => s === 'failed',
        10_000,
        'the empty job failed',
      );
      await consumer.close();
      expect((await noop().getJob(stageId))!.data, 'a hash without its data').to.deep.equal({});

      const report = await reconciler.reconcileNow();
      expect(report.queuedReplaced).to.be.at.least(1);
      expect(await noop().getJobState(stageId)).to.equal('prioritized');
      const job = await noop().getJob(stageId);
      expect(job!.data, 'added again from Postgres, not retried empty').to.include({ pipelineId: created.id, stageId, stageKey: 'hollow' });
      expect(job!.attemptsMade).to.equal(0);
    });

    it('a running stage whose job vanished is left to its worker while the worker stamps the attempt, and re-added once the stamps stop, even with that worker still connected', async () => {
      const created = await submit([{ key: 'orphan', agent: 'noop' }]);
      const stageId = created.stages[0]!.id;
      await noop().remove(stageId);
      const runAs = (workerId: string, startedAgoMs: number) =>
        h.db.pool.query(
          `UPDATE stages SET status = 'running', attempts = 1, job_id = id::text, current_run_id = $2, run_worker_id = $3,
                  run_started_at = now() - $4 * interval '1 millisecond', run_heartbeat_at = NULL, started_at = now() WHERE id = $1`,
          [stageId, randomUUID(), workerId, startedAgoMs],
        );

      await runAs('gone-worker', LOCK_MS / 4);
      await reconciler.reconcileNow();
      expect(await noop().getJobState(stageId), 'attempt younger than the lock').to.equal('unknown');

      // The worker still runs it (a FLUSHALL took its job, not its process) and stamps it: it will
      // record the attempt itself. Stamped by the service the worker runtime runs.
      const heartbeat = createAttemptHeartbeat({
        repo: createAttemptHeartbeatRepository(h.db),
        workerId: 'live-worker',
        everyMs: LOCK_MS / 3,
        logger: createLogger({ level: 'error', service: 'test', silent: true }),
      });
      const live = new Worker(agentQueueName('noop'), async () => undefined, {
        connection: h.connection(),
        prefix: h.config.QUEUE_PREFIX,
        name: 'live-worker',
        autorun: false,
      });
      await live.waitUntilReady();
      try {
        await runAs('live-worker', LOCK_MS * 5);
        const untrack = heartbeat.track(stageId);
        await heartbeat.beatNow();
        const left = await reconciler.reconcileNow();
        expect(await noop().getJobState(stageId), 'stamped within the lock duration').to.equal('unknown');
        expect(left.runningReadded).to.equal(0);

        // Its attempt ended without a recorded finish (the statement failed, and the retry went
        // with the keys): no more stamps. Still connected to Redis, but holding nothing.
        untrack();
        await heartbeat.beatNow();
        await h.db.pool.query(`UPDATE stages SET run_heartbeat_at = now() - $2 * interval '1 millisecond' WHERE id = $1`, [
          stageId,
          LOCK_MS * 2,
        ]);
        const report = await reconciler.reconcileNow();
        expect(report.runningReadded).to.be.at.least(1);
        expect(await noop().getJobState(stageId)).to.equal('prioritized');
      } finally {
        await heartbeat.close();
        await live.close();
      }
    });

    it('an open decision whose deadline job is missing gets it, due at its deadline', async () => {
      const created = await submit([{ key: 'held', agent: 'noop' }]);
      const stage = created.stages[0]!;
      await noop().remove(stage.id);
      await h.db.pool.query("UPDATE stages SET status = 'waiting' WHERE id = $1", [stage.id]);
      const decisionId = `DEC-2099-${String(Math.floor(Math.random() * 1e9)).padStart(9, '0')}`;
      const { rows } = await h.db.pool.query<{ deadline_at: Date }>(
        `INSERT INTO decisions (id, pipeline_id, stage_id, stage_key, category, confidence, threshold, policy_version, approvers,
                                evidence, on_deadline, deadline_at)
         VALUES ($1, $2, $3, $4, 'technical_refactor', 50, 80, 'test', ARRAY['tech_lead'], '{}'::jsonb, 'reject',
                 now() + interval '1 hour')
         RETURNING deadline_at`,
        [decisionId, created.id, stage.id, stage.key],
      );
      const jobId = deadlineJobId(decisionId, rows[0]!.deadline_at);
      expect(await control.queue.getJobState(jobId)).to.equal('unknown');

      const report = await reconciler.reconcileNow();
      expect(report.deadlinesReadded).to.be.at.least(1);
      expect(await control.queue.getJobState(jobId)).to.equal('delayed');
      // The id the conductor would use: its add is now a no-op.
      await control.scheduleDeadline(decisionId, rows[0]!.deadline_at);
      expect((await control.queue.getJobs(['delayed'])).filter((j) => j.id?.startsWith(`deadline-${decisionId}-`))).to.have.length(1);
    });

    it('running pipelines the conductor could move (settled, or a pending stage ready) get a redispatch advance; others do not', async () => {
      const settled = await submit([{ key: 'a', agent: 'noop' }]);
      const ready = await submit([
        { key: 'a', agent: 'noop' },
        { key: 'b', agent: 'noop', dependsOn: ['a'] },
      ]);
      const busy = await submit([
        { key: 'a', agent: 'noop' },
        { key: 'b', agent: 'noop', dependsOn: ['a'] },
      ]);
      // The first stage's result is recorded, and the control message or released job is lost.
      for (const p of [settled, ready]) {
        await noop().remove(p.stages[0]!.id);
        await h.db.pool.query("UPDATE stages SET status = 'succeeded', finished_at = now() WHERE id = $1", [p.stages[0]!.id]);
      }

      await reconciler.reconcileNow();
      const advances = (await control.queue.getJobs(['waiting'])).filter((j) => j.name === ADVANCE_JOB);
      const advanced = advances.map((j) => j.data as { pipelineId: string; redispatch?: boolean });
      expect(advanced.filter((d) => d.pipelineId === settled.id && d.redispatch)).to.have.length(1);
      expect(advanced.filter((d) => d.pipelineId === ready.id && d.redispatch)).to.have.length(1);
      expect(advanced.filter((d) => d.pipelineId === busy.id)).to.have.length(0);
    });
  });

  describe('100 running pipelines, every key of the deployment deleted mid-run', () => {
    const PIPELINES = 100;
    let h: Harness;
    let controlQueue: Queue;
    const reports: ReconcileReport[] = [];

    before(async () => {
      // Two worker runtimes, 10 slots each: 20 stages at a time.
      h = await startHarness({ workers: 2, concurrency: 10, env: { RECONCILE_EVERY_MS: '1000', PRIORITY_AGING_MS: '1000' } });
      controlQueue = new Queue(CONTROL_QUEUE, { connection: h.connection(), prefix: h.config.QUEUE_PREFIX });
      for (const runtime of h.workers) {
        const worker = runtime.workers.find((w) => w.name === CONTROL_QUEUE)!;
        worker.on('completed', (job, result) => {
          if (job.name === RECONCILE_JOB) reports.push(result as ReconcileReport);
        });
      }
    });
    after(async () => {
      await controlQueue.close();
      await h.close();
    });

    it('both runtimes upsert one scheduler; after the deletion it is back, all 100 pipelines succeed and every stage has exactly one run', async () => {
      const schedulers = await controlQueue.getJobSchedulers();
      // One reconciler scheduler (and the priority aging's, issue 17), whatever the runtimes.
      expect(schedulers.map((s) => [s.key, s.every]).sort()).to.deep.equal([
        [PRIORITY_AGING_SCHEDULER_ID, h.config.PRIORITY_AGING_MS],
        [RECONCILER_SCHEDULER_ID, 1000],
      ]);

      // 3 stages a → b → c per pipeline, each sleeping 50–300 ms (a fixed pseudo-random draw).
      let seed = 7;
      const ms = () => 50 + ((seed = (seed * 48271) % 2147483647) % 251);
      const started = Date.now();
      const ids: string[] = [];
      for (let p = 0; p < PIPELINES; p++) {
        const res = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
          name: `flush-${p}`,
          stages: [
            { key: 'a', agent: 'sleep', input: { ms: ms() } },
            { key: 'b', agent: 'sleep', input: { ms: ms() }, dependsOn: ['a'] },
            { key: 'c', agent: 'sleep', input: { ms: ms() }, dependsOn: ['b'] },
          ],
        });
        expect(res.status).to.equal(202);
        ids.push(res.body.id);
      }
      const countByStatus = async () => {
        const { rows } = await h.db.pool.query<{ status: string; n: number }>(
          'SELECT status, count(*)::int AS n FROM stages WHERE pipeline_id = ANY($1::uuid[]) GROUP BY status',
          [ids],
        );
        return Object.fromEntries(rows.map((r) => [r.status, r.n])) as Record<string, number>;
      };
      // Mid-run: about a third of the stages done, others running, queued and pending.
      const before = await eventually(countByStatus, (c) => (c.succeeded ?? 0) >= PIPELINES, 60_000, 'a third of the stages done');
      const flushedAt = Date.now();
      await deleteKeys(h.config.REDIS_URL, h.config.QUEUE_PREFIX);

      const finishedCount = async () => {
        const { rows } = await h.db.pool.query<{ status: string; n: number }>(
          'SELECT status, count(*)::int AS n FROM pipelines WHERE id = ANY($1::uuid[]) GROUP BY status',
          [ids],
        );
        return Object.fromEntries(rows.map((r) => [r.status, r.n])) as Record<string, number>;
      };
      // On a timeout: each unfinished pipeline's stages as Postgres and BullMQ have them, and the
      // control queue's jobs for it, so that a pipeline left behind can be told apart.
      const unfinished = async (): Promise<string> => {
        const { rows } = await h.db.pool.query<{
          pipeline_id: string;
          key: string;
          status: string;
          attempts: number;
          job_id: string;
        }>(
          // A stage's job id is its own id unless a claim or a replay recorded another.
          `SELECT s.pipeline_id, s.key, s.status, s.attempts, COALESCE(s.job_id, s.id::text) AS job_id FROM stages s JOIN pipelines p ON p.id = s.pipeline_id
           WHERE p.id = ANY($1::uuid[]) AND p.status NOT IN ${TERMINAL} ORDER BY s.pipeline_id, s.position`,
          [ids],
        );
        const sleepQueue = new Queue(agentQueueName('sleep'), { connection: h.connection(), prefix: h.config.QUEUE_PREFIX });
        try {
          const stages = await Promise.all(
            rows.map(async (r) => {
              const job = r.job_id ? await sleepQueue.getJob(r.job_id) : undefined;
              return `${r.pipeline_id.slice(0, 8)}/${r.key}: ${r.status} (attempts ${r.attempts}, job ${job ? await job.getState() : 'none'})`;
            }),
          );
          const pipelineIds = new Set(rows.map((r) => r.pipeline_id));
          const control = (await controlQueue.getJobs(['waiting', 'delayed', 'active', 'failed', 'prioritized']))
            .filter((j) => pipelineIds.has((j.data as { pipelineId?: string }).pipelineId ?? ''))
            .map((j) => `${j.name}:${j.id}`);
          return `Unfinished: ${stages.join('; ')}. Control jobs for them: ${control.join(', ') || 'none'}.`;
        } finally {
          await sleepQueue.close();
        }
      };
      const after = await eventually(finishedCount, (c) => (c.running ?? 0) === 0, 90_000, 'every pipeline finished', unfinished);
      const recoveredAt = Date.now();
      expect(after).to.deep.equal({ succeeded: PIPELINES });

      // Exactly one run per stage, and it succeeded: no effect recorded twice.
      const { rows: runs } = await h.db.pool.query<{ stage_id: string; status: string }>(
        'SELECT stage_id, status FROM stage_runs WHERE pipeline_id = ANY($1::uuid[])',
        [ids],
      );
      expect(runs).to.have.length(PIPELINES * 3);
      expect(new Set(runs.map((r) => r.stage_id)).size).to.equal(PIPELINES * 3);
      expect(runs.every((r) => r.status === 'succeeded')).to.equal(true);
      const { rows: events } = await h.db.pool.query<{ type: string; n: number }>(
        "SELECT type, count(*)::int AS n FROM pipeline_events WHERE pipeline_id = ANY($1::uuid[]) AND type IN ('stage.finished', 'pipeline.finished') GROUP BY type ORDER BY type",
        [ids],
      );
      expect(events).to.deep.equal([
        { type: 'pipeline.finished', n: PIPELINES },
        { type: 'stage.finished', n: PIPELINES * 3 },
      ]);

      // The reconciler did it, and its scheduler came back.
      const total = (field: keyof ReconcileReport) => reports.reduce((sum, r) => sum + r[field], 0);
      expect(total('queuedReadded') + total('pipelinesAdvanced')).to.be.greaterThan(0);
      expect((await controlQueue.getJobSchedulers()).map((s) => s.key).sort()).to.deep.equal([
        PRIORITY_AGING_SCHEDULER_ID,
        RECONCILER_SCHEDULER_ID,
      ]);

      process.stdout.write(
        `      figures: keys deleted ${flushedAt - started} ms after the first submission ` +
          `(stages then: ${JSON.stringify(before)}); all ${PIPELINES} succeeded ${recoveredAt - flushedAt} ms after the deletion; ` +
          `${reports.length} reconciler passes re-added ${total('queuedReadded')} queued and ${total('runningReadded')} running jobs, ` +
          `${total('pipelinesAdvanced')} advances, ${total('deadlinesReadded')} deadlines\n`,
      );
    });

    it('a job handed out with no data (its hash deleted, its id still queued) is failed by the agent worker and replaced by the reconciler: the pipeline succeeds, one run', async () => {
      const sleepQueue = new Queue(agentQueueName('sleep'), { connection: h.connection(), prefix: h.config.QUEUE_PREFIX });
      const failures: string[] = [];
      let stageId = '';
      for (const runtime of h.workers) {
        runtime.workers
          .find((w) => w.name === agentQueueName('sleep'))!
          .on('failed', (job, error) => {
            if (job?.id === stageId) failures.push(error.message);
          });
      }
      try {
        // Paused, so that the job waits while its hash is deleted; resumed at once after.
        expect((await request(h.baseUrl, 'POST', '/api/v1/agents/sleep/pause', {})).status).to.equal(200);
        const res = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
          name: 'hollow-job',
          stages: [{ key: 'only', agent: 'sleep', input: { ms: 10 } }],
        });
        expect(res.status).to.equal(202);
        stageId = res.body.stages[0].id;
        expect(await sleepQueue.getJobState(stageId)).to.be.oneOf(['prioritized', 'waiting']);
        await h.connection().del(sleepQueue.toKey(stageId));
        expect((await request(h.baseUrl, 'POST', '/api/v1/agents/sleep/resume', {})).status).to.equal(200);

        const status = async () =>
          (await h.db.pool.query<{ status: string }>('SELECT status FROM pipelines WHERE id = $1', [res.body.id])).rows[0]!.status;
        expect(await eventually(status, (s) => s !== 'running', 30_000, 'the pipeline finished')).to.equal('succeeded');
        expect(failures).to.deep.equal([
          'malformed stage job: it has no data (its Redis hash was deleted); the reconciler adds it again from Postgres',
        ]);
        const { rows: runs } = await h.db.pool.query<{ status: string }>('SELECT status FROM stage_runs WHERE stage_id = $1', [stageId]);
        expect(runs.map((r) => r.status)).to.deep.equal(['succeeded']);
      } finally {
        await request(h.baseUrl, 'POST', '/api/v1/agents/sleep/resume', {});
        await sleepQueue.close();
      }
    });
  });
});
