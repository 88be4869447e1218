// Pause and resume (issue 17, acceptance 2; docs/pipeline-operations.md, "Pause and resume") on
// real Redis and Postgres: a paused pipeline starts no new stage (a running one finishes, its
// dependants wait as `paused`, nothing runs), a resume runs what was held, each stage once; stages
// queued with their jobs already in Redis end `paused`; cancel of a paused pipeline; 409 for a
// finished one; the access rules; an agent type's pause (its jobs wait in BullMQ, readiness and
// /health/detailed show it, a Redis flush and a reconcile pass keep it paused, a resume runs them);
// a resume answers the stages it queued (`resumedStages`), which `sdlc resume` prints, even when
// they finished before the answer was read.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { expect } from 'chai';
import { z } from 'zod';
import { defineAgent } from '../../src/agents/define-agent.js';
import { jsonObjectSchema } from '../../src/domain/json.js';
import { agentQueueName } from '../../src/infra/queue/queue-names.js';
import { createPipelinePauseRepository } from '../../src/infra/db/pipeline-pause.repository.js';
import { TEST_AGENTS } from '../support/agents.js';
import { deleteKeys, startHarness, type Harness } from '../support/harness.js';
import { bearer, expectError, request, waitForPipeline, waitUntil, type Loose } from '../support/http.js';

const PIPELINES = '/api/v1/pipelines';
const run = promisify(execFile);

/** Runs until the test opens its gate (by the stage input's `name`). */
const gates = new Map<string, () => void>();
const opened = new Set<string>();
const open = (name: string): void => {
  opened.add(name);
  gates.get(name)?.();
};
const gatedAgent = defineAgent({
  type: 'gated',
  version: '1.0.0',
  input: z.object({ name: z.string() }),
  output: jsonObjectSchema,
  handler: async ({ input }) => {
    if (!opened.has(input.name)) await new Promise<void>((resolve) => gates.set(input.name, resolve));
    return { name: input.name };
  },
});

const stageOf = (pipeline: Loose, key: string): Loose => pipeline.stages.find((s: Loose) => s.key === key);
const statusesOf = (pipeline: Loose): Record<string, string> => Object.fromEntries(pipeline.stages.map((s: Loose) => [s.key, s.status]));

describe('pause and resume (e2e)', () => {
  let h: Harness;
  let submitter: { key: string; id: string };
  let otherSubmitter: { key: string; id: string };
  let viewer: { key: string; id: string };
  let operator: { key: string; id: string };
  let inspectQueue: Queue;

  before(async () => {
    h = await startHarness({ agents: [...TEST_AGENTS, gatedAgent], concurrency: 4 });
    submitter = await h.createKey('pause-submitter', ['submitter']);
    otherSubmitter = await h.createKey('pause-other', ['submitter']);
    viewer = await h.createKey('pause-viewer', ['viewer']);
    operator = await h.createKey('pause-operator', ['operator']);
    inspectQueue = new Queue(agentQueueName('inspect'), { connection: h.connection(), prefix: h.config.QUEUE_PREFIX });
  });
  after(async () => {
    for (const name of gates.keys()) open(name);
    await inspectQueue?.close();
    await h?.close();
  });

  const submit = async (body: Loose, key = submitter.key): Promise<string> => {
    const res = await request(h.baseUrl, 'POST', PIPELINES, body, bearer(key));
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    return res.body.id as string;
  };
  const pause = (id: string, body?: Loose, key = submitter.key) =>
    request(h.baseUrl, 'POST', `${PIPELINES}/${id}/pause`, body, bearer(key));
  const resume = (id: string, key = submitter.key) => request(h.baseUrl, 'POST', `${PIPELINES}/${id}/resume`, undefined, bearer(key));
  const agentAction = (type: string, action: 'pause' | 'resume', body?: Loose, key = operator.key) =>
    request(h.baseUrl, 'POST', `/api/v1/agents/${type}/${action}`, body, bearer(key));
  const runsOf = async (id: string): Promise<Loose[]> => (await request(h.baseUrl, 'GET', `${PIPELINES}/${id}/runs`)).body.items;
  const eventTypes = async (id: string): Promise<string[]> => {
    const { rows } = await h.db.pool.query<{ type: string }>('SELECT type FROM pipeline_events WHERE pipeline_id = $1 ORDER BY id', [id]);
    return rows.map((r) => r.type);
  };

  it('with a running stage: it finishes and records its result, its dependants wait as paused and run nothing; resume runs each once', async () => {
    // Arrange: a running, b and c waiting on it.
    const id = await submit({
      name: 'pause-running',
      stages: [
        { key: 'a', agent: 'gated', input: { name: 'running-a' } },
        { key: 'b', agent: 'noop', dependsOn: ['a'] },
        { key: 'c', agent: 'noop', dependsOn: ['a'] },
      ],
    });
    await waitUntil(h.baseUrl, id, (p) => stageOf(p, 'a').status === 'running');

    // Act: pause (its submitter, with a reason), then let a finish.
    const paused = await pause(id, { reason: 'incident INC-42' });
    expect(paused.status, JSON.stringify(paused.body)).to.equal(202);
    expect(paused.body.status).to.equal('running');
    expect(paused.body.paused).to.include({ by: submitter.id, reason: 'incident INC-42' });
    open('running-a');
    const held = await waitUntil(h.baseUrl, id, (p) => stageOf(p, 'b').status === 'paused' && stageOf(p, 'c').status === 'paused');

    // Assert: a succeeded with its output; b and c were released and held by their claim, never run.
    expect(statusesOf(held)).to.deep.equal({ a: 'succeeded', b: 'paused', c: 'paused' });
    expect(stageOf(held, 'a').output).to.deep.equal({ name: 'running-a' });
    expect(held.status).to.equal('running');
    expect([stageOf(held, 'b').attempts, stageOf(held, 'c').attempts]).to.deep.equal([0, 0]);
    expect((await runsOf(id)).map((r) => [r.stageKey, r.status])).to.deep.equal([['a', 'succeeded']]);
    // Each held by its claim, with its event (the live views refresh on it).
    const { rows: heldEvents } = await h.db.pool.query<{ stage_key: string; actor: string }>(
      `SELECT stage_key, actor FROM pipeline_events WHERE pipeline_id = $1 AND type = 'stage.paused' ORDER BY stage_key`,
      [id],
    );
    expect(heldEvents).to.deep.equal([
      { stage_key: 'b', actor: 'system' },
      { stage_key: 'c', actor: 'system' },
    ]);

    // Act: resume.
    const resumed = await resume(id);
    expect(resumed.status, JSON.stringify(resumed.body)).to.equal(202);
    expect(resumed.body.paused).to.equal(null);
    expect(resumed.body.resumedStages).to.deep.equal(['b', 'c']);
    const done = await waitForPipeline(h.baseUrl, id);

    // Assert: the pipeline succeeded, every stage ran exactly once, b and c under jobs of their own.
    expect(done.status).to.equal('succeeded');
    const runs = await runsOf(id);
    expect(runs.map((r) => r.stageKey).sort()).to.deep.equal(['a', 'b', 'c']);
    expect(runs.every((r) => r.status === 'succeeded' && r.attempt === 1)).to.equal(true);
    for (const key of ['b', 'c']) expect(stageOf(done, key).jobId).to.match(new RegExp(`^${stageOf(done, key).id}-resume-[0-9a-f]{8}$`));
    const types = await eventTypes(id);
    expect(types.filter((t) => t === 'pipeline.paused' || t === 'pipeline.resumed')).to.deep.equal(['pipeline.paused', 'pipeline.resumed']);
    const timeline = (await request(h.baseUrl, 'GET', `${PIPELINES}/${id}/timeline`)).body;
    const summaries = timeline.items.filter((i: Loose) => i.type.startsWith('pipeline.p') || i.type === 'pipeline.resumed');
    expect(summaries.map((i: Loose) => i.summary)).to.deep.equal([
      `pipeline paused by ${submitter.id} (incident INC-42)`,
      `pipeline resumed by ${submitter.id}`,
    ]);
    const audit = (await request(h.baseUrl, 'GET', `/api/v1/audit?pipelineId=${id}`)).body.items as Loose[];
    expect(audit.map((a) => a.action).filter((a) => a !== 'pipeline.submitted')).to.have.members(['pipeline.paused', 'pipeline.resumed']);
  });

  it('queued stages whose jobs are already in Redis (a paused agent queue): they end paused, their delivered jobs run nothing', async () => {
    // Arrange: the inspect queue paused, so the root's job waits in Redis.
    expect((await agentAction('inspect', 'pause', { reason: 'maintenance' })).status).to.equal(200);
    const id = await submit({ name: 'pause-queued', stages: [{ key: 'x', agent: 'inspect' }] });
    const queued = await waitUntil(h.baseUrl, id, (p) => stageOf(p, 'x').status === 'queued');
    const stageId = stageOf(queued, 'x').id as string;
    expect(await (await inspectQueue.getJob(stageId))?.getState()).to.equal('prioritized');

    // Act: pause the pipeline, then let the agent queue hand the old job out.
    const paused = await pause(id);
    expect(paused.body.paused).to.include({ by: submitter.id, reason: null });
    expect(statusesOf(paused.body)).to.deep.equal({ x: 'paused' });
    expect((await agentAction('inspect', 'resume')).status).to.equal(200);
    for (;;) {
      const state = await (await inspectQueue.getJob(stageId))?.getState();
      if (state === 'completed' || state === undefined) break;
      await new Promise((r) => setTimeout(r, 50));
    }

    // Assert: delivered and ended, but the stage is still paused and nothing ran.
    const after = (await request(h.baseUrl, 'GET', `${PIPELINES}/${id}`)).body;
    expect(statusesOf(after)).to.deep.equal({ x: 'paused' });
    expect(stageOf(after, 'x').attempts).to.equal(0);
    expect(await runsOf(id)).to.deep.equal([]);

    // Resume: it runs once, under a job of its own.
    expect((await resume(id)).status).to.equal(202);
    const done = await waitForPipeline(h.baseUrl, id);
    expect(done.status).to.equal('succeeded');
    expect((await runsOf(id)).map((r) => [r.stageKey, r.attempt])).to.deep.equal([['x', 1]]);
  });

  it('cancel of a paused pipeline cancels its paused stages; pausing or resuming a finished pipeline is 409 PIPELINE_FINISHED', async () => {
    expect((await agentAction('inspect', 'pause')).status).to.equal(200);
    try {
      const id = await submit({
        name: 'pause-cancel',
        stages: [
          { key: 'x', agent: 'inspect' },
          { key: 'y', agent: 'noop', dependsOn: ['x'] },
        ],
      });
      await waitUntil(h.baseUrl, id, (p) => stageOf(p, 'x').status === 'queued');
      expect(statusesOf((await pause(id)).body)).to.deep.equal({ x: 'paused', y: 'pending' });

      const cancelled = await request(h.baseUrl, 'POST', `${PIPELINES}/${id}/cancel`, undefined, bearer(submitter.key));
      expect(cancelled.status).to.equal(202);
      const done = await waitForPipeline(h.baseUrl, id);
      expect(done.status).to.equal('cancelled');
      expect(statusesOf(done)).to.deep.equal({ x: 'cancelled', y: 'cancelled' });

      expectError(await pause(id), 409, 'PIPELINE_FINISHED');
      expectError(await resume(id), 409, 'PIPELINE_FINISHED');
    } finally {
      await agentAction('inspect', 'resume');
    }
    const succeeded = await submit({ name: 'pause-finished', stages: [{ key: 'n', agent: 'noop' }] });
    expect((await waitForPipeline(h.baseUrl, succeeded)).status).to.equal('succeeded');
    expectError(await pause(succeeded), 409, 'PIPELINE_FINISHED');
  });

  it("resuming a finished pipeline an operator paused is 409 PIPELINE_FINISHED for its submitter too, not 403 'paused by'", async () => {
    // Arrange: an operator's hold, then the submitter's cancel ends the pipeline with the hold on it.
    const id = await submit({ name: 'pause-op-finished', stages: [{ key: 'g', agent: 'gated', input: { name: 'op-finished-g' } }] });
    await waitUntil(h.baseUrl, id, (p) => stageOf(p, 'g').status === 'running');
    expect((await pause(id, undefined, operator.key)).status).to.equal(202);
    expect((await request(h.baseUrl, 'POST', `${PIPELINES}/${id}/cancel`, undefined, bearer(submitter.key))).status).to.equal(202);
    open('op-finished-g');
    const done = await waitForPipeline(h.baseUrl, id);
    expect(done.status).to.equal('cancelled');
    expect(done.paused.by).to.equal(operator.id);

    // Act
    const bySubmitter = await resume(id);
    const byOperator = await resume(id, operator.key);

    // Assert
    expectError(bySubmitter, 409, 'PIPELINE_FINISHED');
    expectError(byOperator, 409, 'PIPELINE_FINISHED');
  });

  it('idempotent: a second pause keeps the first one (one event), a resume of a pipeline not paused changes nothing', async () => {
    const id = await submit({ name: 'pause-twice', stages: [{ key: 'g', agent: 'gated', input: { name: 'twice-g' } }] });
    await waitUntil(h.baseUrl, id, (p) => stageOf(p, 'g').status === 'running');
    const first = await pause(id, { reason: 'first' });
    const second = await pause(id, { reason: 'second' }, operator.key);
    expect(second.status).to.equal(202);
    expect(second.body.paused).to.deep.equal(first.body.paused);
    expect((await resume(id)).body.paused).to.equal(null);
    const again = await resume(id);
    expect(again.status).to.equal(202);
    expect(again.body.paused).to.equal(null);
    open('twice-g');
    expect((await waitForPipeline(h.baseUrl, id)).status).to.equal('succeeded');
    const types = await eventTypes(id);
    expect(types.filter((t) => t.startsWith('pipeline.paused') || t === 'pipeline.resumed')).to.deep.equal([
      'pipeline.paused',
      'pipeline.resumed',
    ]);
  });

  it("access: viewer 403, another submitter 403, its submitter and an operator 202; an operator's pause only an operator lifts; agent types: operators only; bad input 400 naming the field", async () => {
    const id = await submit({ name: 'pause-access', stages: [{ key: 'g', agent: 'gated', input: { name: 'access-g' } }] });
    try {
      expectError(await pause(id, undefined, viewer.key), 403, 'FORBIDDEN');
      expectError(await pause(id, undefined, otherSubmitter.key), 403, 'FORBIDDEN');
      expectError(await resume(id, otherSubmitter.key), 403, 'FORBIDDEN');
      expect((await pause(id, undefined, operator.key)).body.paused).to.include({ by: operator.id });
      // An operator's hold is not the submitter's to lift: 403 naming who paused it, still paused.
      const lift = await resume(id, submitter.key);
      expectError(lift, 403, 'FORBIDDEN');
      expect(lift.body.error.details).to.deep.equal([{ field: 'paused.by', message: `paused by ${operator.id}` }]);
      expect((await request(h.baseUrl, 'GET', `${PIPELINES}/${id}`)).body.paused).to.include({ by: operator.id });
      expect((await resume(id, operator.key)).status).to.equal(202);
      // Its own pause, the submitter lifts.
      expect((await pause(id)).body.paused).to.include({ by: submitter.id });
      expect((await resume(id, submitter.key)).body.paused).to.equal(null);

      expectError(await agentAction('noop', 'pause', undefined, submitter.key), 403, 'FORBIDDEN');
      expectError(await agentAction('noop', 'resume', undefined, viewer.key), 403, 'FORBIDDEN');
      expectError(await agentAction('no-such-agent', 'pause'), 404, 'AGENT_NOT_FOUND');

      const badReason = await pause(id, { reason: 42 });
      expectError(badReason, 400, 'VALIDATION_FAILED');
      expect(badReason.body.error.details.map((d: Loose) => d.field)).to.deep.equal(['reason']);
      const extra = await pause(id, { reason: 'x', by: 'someone' });
      expectError(extra, 400, 'VALIDATION_FAILED');
      expectError(await pause('not-a-uuid'), 400, 'VALIDATION_FAILED');
      expectError(await pause('00000000-0000-4000-8000-000000000000', undefined, operator.key), 404, 'PIPELINE_NOT_FOUND');
    } finally {
      open('access-g');
    }
    expect((await waitForPipeline(h.baseUrl, id)).status).to.equal('succeeded');
  });

  it('the reconciler leaves paused stages alone, and re-adds the jobs of a resume that crashed between its commit and its adds', async () => {
    const id = await submit({
      name: 'pause-reconcile',
      stages: [
        { key: 'g', agent: 'gated', input: { name: 'reconcile-g' } },
        { key: 'h', agent: 'noop', dependsOn: ['g'] },
      ],
    });
    await waitUntil(h.baseUrl, id, (p) => stageOf(p, 'g').status === 'running');
    expect((await pause(id)).status).to.equal(202);
    open('reconcile-g');
    await waitUntil(h.baseUrl, id, (p) => stageOf(p, 'h').status === 'paused');
    // As if long past the reconciler's grace period.
    const age = () => h.db.pool.query(`UPDATE stages SET queued_at = now() - interval '1 hour' WHERE pipeline_id = $1`, [id]);
    await age();

    // A pass while paused: nothing is re-added, nothing runs.
    await h.workers[0]!.reconciler!.reconcileNow();
    const still = (await request(h.baseUrl, 'GET', `${PIPELINES}/${id}`)).body;
    expect(statusesOf(still)).to.deep.equal({ g: 'succeeded', h: 'paused' });
    expect((await runsOf(id)).map((r) => r.stageKey)).to.deep.equal(['g']);

    // A resume committed in Postgres whose process died before it added the jobs.
    const committed = await createPipelinePauseRepository(h.db).resume({ pipelineId: id, by: 'test', jobSuffix: 'resume-crash' });
    expect(committed!.queued.map((s) => s.key)).to.deep.equal(['h']);
    await age();
    await h.workers[0]!.reconciler!.reconcileNow();
    const done = await waitForPipeline(h.baseUrl, id);
    expect(done.status).to.equal('succeeded');
    expect(stageOf(done, 'h').jobId).to.equal(`${stageOf(done, 'h').id}-resume-crash`);
    expect((await runsOf(id)).map((r) => r.stageKey).sort()).to.deep.equal(['g', 'h']);
  });

  it('agent type: its jobs wait in BullMQ, GET /agents, readiness and /health/detailed show it; a Redis flush and a reconcile pass keep it paused; resume runs them', async () => {
    // Act: pause it.
    const paused = await agentAction('inspect', 'pause', { reason: 'upgrade' });
    expect(paused.body).to.deep.include({ type: 'inspect', paused: true });
    expect(paused.body.pause).to.include({ by: operator.id, reason: 'upgrade' });

    // Visible: the agent list, readiness (still ready), the detailed health.
    const agents = (await request(h.baseUrl, 'GET', '/api/v1/agents')).body.items as Loose[];
    expect(agents.find((a) => a.type === 'inspect')).to.deep.include({ paused: true });
    expect(agents.find((a) => a.type === 'noop')).to.deep.include({ paused: false, pause: null });
    const ready = await request(h.baseUrl, 'GET', '/health/ready');
    expect(ready.status).to.equal(200);
    expect(ready.body).to.deep.include({ status: 'ready', pausedAgents: ['inspect'] });
    const detailed = (await request(h.baseUrl, 'GET', '/health/detailed', undefined, bearer(operator.key))).body;
    expect(detailed.status).to.equal('ok');
    expect(detailed.pausedAgents).to.deep.equal([{ agent: 'inspect', since: paused.body.pause.at, by: operator.id, reason: 'upgrade' }]);
    const audit = (await request(h.baseUrl, 'GET', '/api/v1/audit?action=agent.paused')).body.items as Loose[];
    expect(audit.map((a) => [a.targetType, a.targetId, a.identity.id])).to.deep.include(['agent', 'inspect', operator.id]);

    // A Redis flush of this deployment's keys loses the flag; a reconcile pass sets it again from Postgres.
    await deleteKeys(h.config.REDIS_URL, h.config.QUEUE_PREFIX, h.config.REDIS_CLUSTER_NODES);
    expect(await inspectQueue.isPaused()).to.equal(false);
    const report = await h.workers[0]!.reconciler!.reconcileNow();
    expect(report.agentPausesReapplied).to.equal(1);
    expect(await inspectQueue.isPaused()).to.equal(true);

    // Its jobs wait in BullMQ, their stages queued.
    const id = await submit({ name: 'agent-paused', stages: [{ key: 'x', agent: 'inspect' }] });
    const queued = await waitUntil(h.baseUrl, id, (p) => stageOf(p, 'x').status === 'queued');
    expect(await (await inspectQueue.getJob(stageOf(queued, 'x').id))?.getState()).to.equal('prioritized');

    // Resume: the job runs, and the pause is gone everywhere.
    const resumed = await agentAction('inspect', 'resume');
    expect(resumed.body).to.deep.equal({ type: 'inspect', paused: false, pause: null });
    expect((await waitForPipeline(h.baseUrl, id)).status).to.equal('succeeded');
    expect((await request(h.baseUrl, 'GET', '/health/ready')).body.pausedAgents).to.deep.equal([]);
    expect((await h.workers[0]!.reconciler!.reconcileNow()).agentPausesReapplied).to.equal(0);
    expect(await inspectQueue.isPaused()).to.equal(false);
  });

  it('CLI: sdlc pause --reason, status, resume; sdlc agents pause|resume and the PAUSED column; --json', async () => {
    const cli = async (key: string, ...args: string[]) =>
      (
        await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
          env: { ...process.env, API_URL: h.baseUrl, DEV_ADMIN_KEY_FILE: '/nonexistent/agentic-sdlc/admin-key', SDLC_API_KEY: key },
        })
      ).stdout;
    const id = await submit({
      name: 'pause-cli',
      stages: [
        { key: 'a', agent: 'gated', input: { name: 'cli-a' } },
        { key: 'b', agent: 'noop', dependsOn: ['a'] },
      ],
    });
    await waitUntil(h.baseUrl, id, (p) => stageOf(p, 'a').status === 'running');

    const paused = await cli(submitter.key, 'pause', id, '--reason', 'release freeze');
    expect(paused).to.match(new RegExp(`^paused: ${id}  pause-cli  since \\S+ \\S+ by ${submitter.id}: release freeze$`, 'm'));
    expect(paused).to.match(/^still running \(they finish\): a$/m);
    expect(paused).to.contain(`resume with: sdlc resume ${id}`);
    open('cli-a');
    await waitUntil(h.baseUrl, id, (p) => stageOf(p, 'b').status === 'paused');
    const status = await cli(submitter.key, 'status', id);
    expect(status).to.match(/^b +noop +paused +0 .*held: the pipeline is paused$/m);
    expect(status).to.match(new RegExp(`^paused since \\S+ \\S+ by ${submitter.id}: release freeze  \\(sdlc resume ${id}\\)$`, 'm'));

    const resumed = JSON.parse(await cli(submitter.key, 'resume', id, '--json')) as Loose;
    expect(resumed).to.deep.include({ id, paused: null, resumedStages: ['b'] });
    expect((await waitForPipeline(h.baseUrl, id)).status).to.equal('succeeded');

    expect(await cli(operator.key, 'agents', 'pause', 'noop', '--reason', 'upgrade')).to.match(
      new RegExp(`^paused: agent noop  since \\S+ \\S+ by ${operator.id}: upgrade$`, 'm'),
    );
    expect(await cli(operator.key, 'agents')).to.match(new RegExp(`^noop +\\S+ +\\d+ +since \\S+ \\S+ by ${operator.id} +`, 'm'));
    expect((await cli(operator.key, 'agents', 'resume', 'noop')).trim()).to.equal('resumed: agent noop');
    expect(await inspectQueue.isPaused()).to.equal(false);
  });
});

describe('pause and resume: what a resume queued (e2e)', () => {
  let h: Harness;

  before(async () => {
    h = await startHarness({ agents: [...TEST_AGENTS, gatedAgent], concurrency: 4 });
  });
  after(async () => {
    for (const name of gates.keys()) open(name);
    await h?.close();
  });

  const cli = async (...args: string[]) =>
    (
      await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
        env: { ...process.env, API_URL: h.baseUrl, DEV_ADMIN_KEY_FILE: '/nonexistent/agentic-sdlc/admin-key', SDLC_API_KEY: h.adminKey },
      })
    ).stdout;

  it('the resumed stage finishes at once and releases its dependant: the answer, its event, its audit record and sdlc resume all name the stage the resume queued', async () => {
    // Arrange: `after` (noop, done in milliseconds) held by the pause; `after2` waits on it.
    const submitted = await request(h.baseUrl, 'POST', PIPELINES, {
      name: 'resume-fast',
      stages: [
        { key: 'first', agent: 'gated', input: { name: 'fast-first' } },
        { key: 'after', agent: 'noop', dependsOn: ['first'] },
        { key: 'after2', agent: 'gated', dependsOn: ['after'], input: { name: 'fast-after2' } },
      ],
    });
    expect(submitted.status, JSON.stringify(submitted.body)).to.equal(202);
    const id = submitted.body.id as string;
    await waitUntil(h.baseUrl, id, (p) => stageOf(p, 'first').status === 'running');
    expect((await request(h.baseUrl, 'POST', `${PIPELINES}/${id}/pause`, { reason: 'fast' })).status).to.equal(202);
    open('fast-first');
    await waitUntil(h.baseUrl, id, (p) => stageOf(p, 'after').status === 'paused');

    // Act: resume with the CLI, then wait until `after` has run and released `after2`.
    const printed = await cli('resume', id);
    const moved = await waitUntil(
      h.baseUrl,
      id,
      (p) => stageOf(p, 'after').status === 'succeeded' && stageOf(p, 'after2').status === 'running',
    );

    // Assert: the CLI names `after` (what the resume queued), never `after2` (queued by after's finish).
    expect(printed.trim()).to.equal(`resumed: ${id}  resume-fast  running  queued: after`);
    expect(statusesOf(moved)).to.deep.equal({ first: 'succeeded', after: 'succeeded', after2: 'running' });
    // The same list as the pipeline.resumed event and the audit record of that resume.
    const { rows: events } = await h.db.pool.query<{ data: Loose }>(
      `SELECT data FROM pipeline_events WHERE pipeline_id = $1 AND type = 'pipeline.resumed'`,
      [id],
    );
    expect(events.map((e) => e.data.resumed)).to.deep.equal([['after']]);
    const audit = (await request(h.baseUrl, 'GET', `/api/v1/audit?pipelineId=${id}`)).body.items as Loose[];
    expect(audit.filter((a) => a.action === 'pipeline.resumed').map((a) => a.data.resumed)).to.deep.equal([['after']]);

    // A second resume (not paused) queued nothing: `resumedStages` is [] whatever the stages read.
    const again = await request(h.baseUrl, 'POST', `${PIPELINES}/${id}/resume`);
    expect(again.status, JSON.stringify(again.body)).to.equal(202);
    expect(again.body).to.deep.include({ paused: null, resumedStages: [] });
    expect((await cli('resume', id)).trim()).to.equal(`resumed: ${id}  resume-fast  running`);

    open('fast-after2');
    expect((await waitForPipeline(h.baseUrl, id)).status).to.equal('succeeded');
  });
});

describe('pause and resume under admission control (e2e)', () => {
  let h: Harness;
  before(async function () {
    this.timeout(120_000);
    // A schema of its own: the running limit counts every pipeline in the schema.
    h = await startHarness({ agents: [...TEST_AGENTS, gatedAgent], ownSchema: true, env: { MAX_RUNNING_PIPELINES: '1' } });
  });
  after(async () => {
    open('admission-a');
    await h?.close();
  });

  it('a pipeline paused while queued for admission starts when a slot frees, its roots held as paused; resume runs them', async () => {
    const submit = async (body: Loose): Promise<string> => (await request(h.baseUrl, 'POST', PIPELINES, body)).body.id as string;
    const first = await submit({ name: 'admission-first', stages: [{ key: 'a', agent: 'gated', input: { name: 'admission-a' } }] });
    await waitUntil(h.baseUrl, first, (p) => stageOf(p, 'a').status === 'running');
    const second = await submit({ name: 'admission-second', stages: [{ key: 'r', agent: 'noop' }] });
    expect((await request(h.baseUrl, 'GET', `${PIPELINES}/${second}`)).body.status).to.equal('queued');

    const paused = await request(h.baseUrl, 'POST', `${PIPELINES}/${second}/pause`, { reason: 'not yet' });
    expect(paused.status).to.equal(202);
    expect(paused.body).to.deep.include({ status: 'queued' });
    expect(paused.body.paused).to.include({ reason: 'not yet' });

    // The slot frees: admission starts it, and its root is held instead of run.
    open('admission-a');
    expect((await waitForPipeline(h.baseUrl, first)).status).to.equal('succeeded');
    const held = await waitUntil(h.baseUrl, second, (p) => p.status === 'running' && stageOf(p, 'r').status === 'paused');
    expect(stageOf(held, 'r').attempts).to.equal(0);

    expect((await request(h.baseUrl, 'POST', `${PIPELINES}/${second}/resume`)).status).to.equal(202);
    const done = await waitForPipeline(h.baseUrl, second);
    expect(done.status).to.equal('succeeded');
    expect(stageOf(done, 'r').attempts).to.equal(1);
  });
});
