// Pause and resume racing other writers of the same pipeline or schedule, against real Postgres
// and Redis: each interleaving is chosen, not raced, by holding one side (a row lock taken by the
// test, or a service call held before its write) while the other runs. Whatever the order, a
// resumed pipeline leaves no stage `paused`, and an operator's hold is lifted only by an operator.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type pg from 'pg';
import { createStageRunRepository } from '../../src/infra/db/stage-run.repository.js';
import { createPipelinePauseRepository } from '../../src/infra/db/pipeline-pause.repository.js';
import { createAgentQueues } from '../../src/infra/queue/agent.queues.js';
import { createControlQueue } from '../../src/infra/queue/control.queue.js';
import { createPipelinePauseService } from '../../src/services/pipeline-pause.service.js';
import { createScheduleRepository } from '../../src/infra/db/schedule.repository.js';
import { createApiKeyRepository } from '../../src/infra/db/api-key.repository.js';
import { createScheduleTimers } from '../../src/infra/queue/schedule.timers.js';
import { createLogger } from '../../src/infra/telemetry/logger.js';
import { currentIdentities } from '../../src/services/api-key.service.js';
import { createScheduleService } from '../../src/services/schedule.service.js';
import type { ScheduleRepository } from '../../src/services/schedule.ports.js';
import type { Actor } from '../../src/domain/identity.js';
import { AppError } from '../../src/domain/errors.js';
import { startHarness, type Harness } from '../support/harness.js';
import { bearer, request, type Loose } from '../support/http.js';

describe('pause and resume racing other writers (integration)', () => {
  let h: Harness;

  before(async () => {
    // A schema of its own: a schedule left in the shared one would tick in other files' queues.
    h = await startHarness({ workers: 0, ownSchema: true });
  });
  after(async () => {
    await h.close();
  });

  /** Resolves once some other backend waits for a lock `holder` (a backend pid) holds. */
  const blockedBy = async (holder: number) => {
    for (;;) {
      const { rows } = await h.db.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid))',
        [holder],
      );
      if (rows[0]!.n > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  it('a resume that commits while a claim of a stage released during the pause waits: the claim runs the stage, none is left paused', async () => {
    const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
      name: 'claim-races-resume',
      stages: [{ key: 'only', agent: 'noop' }],
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(202);
    const pipelineId = created.body.id as string;
    const stageId = (created.body.stages as Loose[])[0]!.id as string;
    // As a stage released after its pipeline was paused is: queued, its job on its way, the
    // pipeline paused (no worker runs here, so the job waits for the claim below).
    await h.db.pool.query("UPDATE pipelines SET paused_at = now(), paused_by = 'ops' WHERE id = $1", [pipelineId]);

    // The claim's statement starts, then waits for the stage row the test holds.
    const holder: pg.PoolClient = await h.db.pool.connect();
    let claim: Promise<{ claimed: boolean }> | undefined;
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM stages WHERE id = $1 FOR UPDATE', [stageId]);
      const { rows } = await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      claim = createStageRunRepository(h.db).claim({ stageId, jobId: stageId, runId: randomUUID(), workerId: 'test-worker' });
      await blockedBy(rows[0]!.pid);

      // Meanwhile the pipeline is resumed: nothing of it is paused yet, so the resume queues nothing.
      const resumed = await request(h.baseUrl, 'POST', `/api/v1/pipelines/${pipelineId}/resume`);
      expect(resumed.status, JSON.stringify(resumed.body)).to.equal(202);
      expect(resumed.body.resumedStages).to.deep.equal([]);
    } finally {
      await holder.query('COMMIT');
      holder.release();
    }
    const claimed = await claim!;

    const { rows } = await h.db.pool.query<{ status: string; paused_at: Date | null }>(
      'SELECT s.status, p.paused_at FROM stages s JOIN pipelines p ON p.id = s.pipeline_id WHERE s.id = $1',
      [stageId],
    );
    expect(rows[0]!.paused_at).to.equal(null);
    // The pipeline was no longer paused when the claim went on: it runs the stage.
    expect({ claimed: claimed.claimed, status: rows[0]!.status }).to.deep.equal({ claimed: true, status: 'running' });
  });

  it("a submitter's resume that read the pipeline unpaused, then an operator's pause: the operator's hold stays, the resume gets 403", async () => {
    const submitter = await h.createKey('races-submitter', ['submitter']);
    const created = await request(
      h.baseUrl,
      'POST',
      '/api/v1/pipelines',
      { name: 'resume-races-hold', stages: [{ key: 'only', agent: 'noop' }] },
      bearer(submitter.key),
    );
    expect(created.status, JSON.stringify(created.body)).to.equal(202);
    const pipelineId = created.body.id as string;

    // The submitter's resume, held after it read the pipeline (not paused: nothing to refuse).
    let readDone: () => void = () => undefined;
    const read = new Promise<void>((resolve) => (readDone = resolve));
    let goOn: () => void = () => undefined;
    const go = new Promise<void>((resolve) => (goOn = resolve));
    const connection = h.connection();
    const agentQueues = createAgentQueues(connection, h.config.QUEUE_PREFIX, [...h.catalog.keys()]);
    const control = createControlQueue(connection, h.config.QUEUE_PREFIX);
    const service = createPipelinePauseService({
      repo: createPipelinePauseRepository(h.db),
      pipelines: {
        get: async (id) => {
          const pipeline = await h.api.pipelines.get(id);
          readDone();
          await go;
          return pipeline;
        },
      },
      agentQueues,
      control,
    });
    const actor: Actor = {
      identity: { id: submitter.id, name: submitter.name, kind: 'user', via: 'api_key', roles: ['submitter'] },
    };
    try {
      const resume = service.resume(pipelineId, actor);
      await read;
      // Meanwhile an operator holds the pipeline during an incident.
      const operator = await h.createKey('races-operator', ['operator']);
      const paused = await request(h.baseUrl, 'POST', `/api/v1/pipelines/${pipelineId}/pause`, { reason: 'INC-42' }, bearer(operator.key));
      expect(paused.status, JSON.stringify(paused.body)).to.equal(202);
      goOn();
      const [outcome] = await Promise.allSettled([resume]);

      const after = await request(h.baseUrl, 'GET', `/api/v1/pipelines/${pipelineId}`);
      const events = await h.db.pool.query<{ type: string }>(
        "SELECT type FROM pipeline_events WHERE pipeline_id = $1 AND type IN ('pipeline.paused', 'pipeline.resumed') ORDER BY id",
        [pipelineId],
      );
      expect({
        resume: outcome!.status === 'rejected' && outcome!.reason instanceof AppError ? outcome!.reason.code : outcome!.status,
        pausedBy: (after.body.paused as Loose | null)?.by ?? null,
        events: events.rows.map((r) => r.type),
      }).to.deep.equal({ resume: 'FORBIDDEN', pausedBy: operator.id, events: ['pipeline.paused'] });
    } finally {
      await agentQueues.close();
      await control.close();
    }
  });

  it("a schedule owner's resume that read the schedule active, then an operator's pause: the operator's hold stays, the resume gets 403", async () => {
    const owner = await h.createKey('races-schedule-owner', ['submitter']);
    const created = await request(
      h.baseUrl,
      'POST',
      '/api/v1/schedules',
      { definition: { name: 'nightly', stages: [{ key: 'only', agent: 'noop' }] }, cron: '0 3 * * *' },
      bearer(owner.key),
    );
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const scheduleId = created.body.id as string;

    // The owner's resume, held before its write (it read the schedule active: nothing to refuse).
    let readDone: () => void = () => undefined;
    const read = new Promise<void>((resolve) => (readDone = resolve));
    let goOn: () => void = () => undefined;
    const go = new Promise<void>((resolve) => (goOn = resolve));
    const real = createScheduleRepository(h.db);
    const repo: ScheduleRepository = {
      ...real,
      setState: async (...args) => {
        readDone();
        await go;
        return real.setState(...args);
      },
    };
    const control = createControlQueue(h.connection(), h.config.QUEUE_PREFIX);
    const service = createScheduleService({
      repo,
      timers: createScheduleTimers(control.queue),
      runs: h.api.pipelines,
      owners: currentIdentities(createApiKeyRepository(h.db)),
      logger: createLogger({ level: 'error', service: 'test', silent: true }),
    });
    const actor: Actor = { identity: { id: owner.id, name: owner.name, kind: 'user', via: 'api_key', roles: ['submitter'] } };
    try {
      const resume = service.resume(scheduleId, actor);
      await read;
      const operator = await h.createKey('races-schedule-operator', ['operator']);
      const paused = await request(h.baseUrl, 'POST', `/api/v1/schedules/${scheduleId}/pause`, undefined, bearer(operator.key));
      expect(paused.status, JSON.stringify(paused.body)).to.equal(200);
      goOn();
      const [outcome] = await Promise.allSettled([resume]);

      const after = await request(h.baseUrl, 'GET', `/api/v1/schedules/${scheduleId}`);
      const audits = await h.db.pool.query<{ action: string }>(
        "SELECT action FROM audit_events WHERE target_id = $1 AND action IN ('schedule.paused', 'schedule.resumed') ORDER BY id",
        [scheduleId],
      );
      expect({
        resume: outcome!.status === 'rejected' && outcome!.reason instanceof AppError ? outcome!.reason.code : outcome!.status,
        status: after.body.status,
        pausedBy: after.body.pausedBy,
        audits: audits.rows.map((r) => r.action),
      }).to.deep.equal({ resume: 'FORBIDDEN', status: 'paused', pausedBy: operator.id, audits: ['schedule.paused'] });
    } finally {
      await control.close();
      await request(h.baseUrl, 'DELETE', `/api/v1/schedules/${scheduleId}`);
    }
  });
});
