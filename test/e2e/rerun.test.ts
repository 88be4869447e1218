// Re-run from a stage (POST /api/v1/pipelines/:id/rerun) over HTTP, against real Redis, Postgres
// and workers: which stages are reused (created succeeded, no run, the old output, reused_from)
// and which run, the lineage both ways, the reused outputs reaching their dependants, the refusals
// (400 naming from[i], 404, 409 while running), the access rules and the audit row.
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { expect } from 'chai';
import { defineAgent } from '../../src/agents/define-agent.js';
import { jsonObjectSchema } from '../../src/domain/json.js';
import { parseEventRow, type StoredEventRow } from '../../src/domain/event-payloads.js';
import { TEST_AGENTS } from '../support/agents.js';
import { startHarness, type Harness } from '../support/harness.js';
import { bearer, expectError, expectValidationError, request, waitForPipeline, waitUntil, type Loose } from '../support/http.js';

/** Fails while `flaky.failing` is set (every attempt), then succeeds: a fault fixed between a run and its re-run. */
const flaky = { failing: true };
const flakyAgent = defineAgent({
  type: 'flaky',
  version: '1.0.0',
  input: jsonObjectSchema,
  output: jsonObjectSchema,
  handler: async ({ input }) => {
    if (flaky.failing) throw new Error('flaky: failing on purpose');
    return { validated: true, input };
  },
});

/** Asks "Which region?" unless its input holds the answer; then returns it. */
const askRegionAgent = defineAgent({
  type: 'ask_region',
  version: '1.0.0',
  input: jsonObjectSchema,
  output: jsonObjectSchema,
  handler: async ({ input, attempt, requestClarification }) => {
    const rounds = (input.clarifications ?? []) as Array<{ answers: Array<{ answer: string }> }>;
    if (rounds.length === 0) requestClarification(['Which region?']);
    return { region: rounds[0]!.answers[0]!.answer, attempt };
  },
});

/** Workspace agents: `ws_write` writes marker.txt in the pipeline's workspace, `ws_check` needs it (and fails while `flaky.failing`). */
const wsWriteAgent = defineAgent({
  type: 'ws_write',
  version: '1.0.0',
  workspace: true,
  input: jsonObjectSchema,
  output: jsonObjectSchema,
  handler: async ({ workspace }) => {
    await writeFile(await workspace!.resolve('marker.txt'), 'written');
    return { wrote: 'marker.txt' };
  },
});
const wsCheckAgent = defineAgent({
  type: 'ws_check',
  version: '1.0.0',
  workspace: true,
  input: jsonObjectSchema,
  output: jsonObjectSchema,
  handler: async ({ workspace }) => {
    const marker = await readFile(await workspace!.resolve('marker.txt'), 'utf8');
    if (flaky.failing) throw new Error('ws_check: failing on purpose');
    return { marker };
  },
});

const once = { attempts: 1, backoff: { type: 'fixed', delayMs: 10, jitter: 0 } };
const byKey = (p: Loose): Record<string, Loose> => Object.fromEntries(p.stages.map((s: Loose) => [s.key, s]));

/** scaffold → validation ∥ e2e → integration; integration returns what its claim gave it. */
const diamond = {
  name: 'rerun-diamond',
  input: { repo: 'checkout' },
  labels: { team: 'payments' },
  stages: [
    { key: 'scaffold', agent: 'noop', input: { files: ['a.ts', 'b.ts'] } },
    { key: 'validation', agent: 'flaky', dependsOn: ['scaffold'], retry: once },
    { key: 'e2e', agent: 'noop', dependsOn: ['scaffold'], input: { suite: 'smoke', passed: 12 } },
    { key: 'integration', agent: 'inspect', dependsOn: ['validation', 'e2e'] },
  ],
};

describe('re-run from a stage (e2e)', () => {
  let h: Harness;
  const submit = async (definition: unknown, headers: Record<string, string> = {}) => {
    const res = await request(h.baseUrl, 'POST', '/api/v1/pipelines', definition, headers);
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    return res.body;
  };
  const rerun = (id: string, body?: unknown, headers: Record<string, string> = {}) =>
    request(h.baseUrl, 'POST', `/api/v1/pipelines/${id}/rerun`, body, headers);
  const runs = async (id: string): Promise<Loose[]> => (await request(h.baseUrl, 'GET', `/api/v1/pipelines/${id}/runs`)).body.items;

  before(async () => {
    h = await startHarness({ agents: [...TEST_AGENTS, flakyAgent, wsWriteAgent, wsCheckAgent, askRegionAgent], concurrency: 10 });
  });
  after(async () => {
    await h.close();
  });

  it('failed diamond, default from: scaffold and e2e reused, validation and integration run, the re-run succeeds, linked both ways', async () => {
    // Arrange: the first run fails at validation; integration is skipped.
    flaky.failing = true;
    const first = await waitForPipeline(h.baseUrl, (await submit(diamond)).id);
    expect(first.status).to.equal('failed');
    const old = byKey(first);
    expect(old.validation!.status).to.equal('failed');
    expect(old.integration!.status).to.equal('skipped');
    flaky.failing = false;

    // Act
    const res = await rerun(first.id);

    // Assert: the answer
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    expect(res.headers.get('location')).to.equal(`/api/v1/pipelines/${res.body.id}`);
    expect(res.body.id).to.not.equal(first.id);
    expect(res.body.rerunOf).to.equal(first.id);
    expect(res.body.rerunFrom).to.deep.equal(['validation']);
    expect(res.body.input).to.deep.equal(diamond.input);
    expect(res.body.labels).to.deep.equal(diamond.labels);
    const created = byKey(res.body);
    expect(created.scaffold!.status).to.equal('succeeded');
    expect(created.scaffold!.reused).to.deep.equal({ fromPipeline: first.id, fromStage: old.scaffold!.id });
    expect(created.e2e!.reused).to.deep.equal({ fromPipeline: first.id, fromStage: old.e2e!.id });
    expect(created.validation!.reused).to.equal(null);
    expect(created.validation!.status).to.equal('queued');
    expect(created.integration!.status).to.equal('pending');

    // Assert: the run
    const done = await waitForPipeline(h.baseUrl, res.body.id);
    expect(done.status, JSON.stringify(done.stages)).to.equal('succeeded');
    const s = byKey(done);
    expect(s.scaffold!.output).to.deep.equal(old.scaffold!.output);
    expect(s.e2e!.output).to.deep.equal(old.e2e!.output);
    expect(s.scaffold!.attempts).to.equal(0);
    // The reused outputs reached integration's claim (its upstream map), beside validation's new one.
    expect(s.integration!.output.dependencies.e2e).to.deep.equal(old.e2e!.output);
    expect(s.integration!.output.dependencies.validation).to.deep.equal({ validated: true, input: {} });
    const ran = (await runs(done.id)).map((r) => r.stageKey).sort();
    expect(ran).to.deep.equal(['integration', 'validation']);

    // The record: reused_from and the events.
    const { rows } = await h.db.pool.query<{ key: string; reused_from: string | null; reused_from_pipeline: string | null }>(
      'SELECT key, reused_from, reused_from_pipeline FROM stages WHERE pipeline_id = $1 ORDER BY position',
      [done.id],
    );
    expect(rows.map((r) => [r.key, r.reused_from, r.reused_from_pipeline])).to.deep.equal([
      ['scaffold', old.scaffold!.id, first.id],
      ['validation', null, null],
      ['e2e', old.e2e!.id, first.id],
      ['integration', null, null],
    ]);
    const events = await h.db.pool.query<StoredEventRow>(
      "SELECT id::text, pipeline_id, type, stage_key, actor, data, created_at FROM pipeline_events WHERE pipeline_id = $1 AND type = 'stage.reused' ORDER BY pipeline_events.id",
      [done.id],
    );
    const parsed = events.rows.map(parseEventRow);
    expect(parsed.map((e) => [e.type, e.stageKey, e.data])).to.deep.equal([
      ['stage.reused', 'scaffold', { fromPipeline: first.id, fromStage: old.scaffold!.id }],
      ['stage.reused', 'e2e', { fromPipeline: first.id, fromStage: old.e2e!.id }],
    ]);
    const timeline = (await request(h.baseUrl, 'GET', `/api/v1/pipelines/${done.id}/timeline`)).body;
    expect(timeline.items.filter((i: Loose) => i.type === 'stage.reused').map((i: Loose) => i.stageKey)).to.deep.equal(['scaffold', 'e2e']);

    // Lineage both ways.
    const oldNow = (await request(h.baseUrl, 'GET', `/api/v1/pipelines/${first.id}`)).body;
    expect(oldNow.rerunOf).to.equal(null);
    expect(oldNow.reruns.map((r: Loose) => [r.id, r.status])).to.deep.equal([[done.id, 'succeeded']]);
  });

  it('succeeded chain from a middle stage: the upstream reused, the stage and its downstream run again', async () => {
    const first = await waitForPipeline(
      h.baseUrl,
      (
        await submit({
          name: 'rerun-chain',
          priority: 'low',
          stages: [
            { key: 'a', agent: 'noop', input: { n: 1 } },
            { key: 'b', agent: 'noop', dependsOn: ['a'], input: { n: 2 } },
            { key: 'c', agent: 'inspect', dependsOn: ['b'] },
          ],
        })
      ).id,
    );
    expect(first.status).to.equal('succeeded');

    const res = await rerun(first.id, { from: ['b'] });

    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    expect(res.body.rerunFrom).to.deep.equal(['b']);
    expect(res.body.priority, 'a re-run keeps the priority').to.equal('low');
    const done = await waitForPipeline(h.baseUrl, res.body.id);
    expect(done.status).to.equal('succeeded');
    const s = byKey(done);
    expect(s.a!.reused.fromStage).to.equal(byKey(first).a!.id);
    expect(s.b!.reused).to.equal(null);
    expect(s.c!.reused).to.equal(null);
    expect((await runs(done.id)).map((r) => r.stageKey).sort()).to.deep.equal(['b', 'c']);
    // A re-run of a re-run: its own lineage.
    const again = await rerun(done.id, { from: ['c'] });
    expect(again.status, JSON.stringify(again.body)).to.equal(202);
    expect(again.body.rerunOf).to.equal(done.id);
    expect(byKey(again.body).b!.reused).to.deep.equal({ fromPipeline: done.id, fromStage: s.b!.id });
    await waitForPipeline(h.baseUrl, again.body.id);
  });

  it('workspace stages: re-running a workspace stage runs the workspace stage upstream of it again (a new, empty workspace)', async () => {
    flaky.failing = true;
    const first = await waitForPipeline(
      h.baseUrl,
      (
        await submit({
          name: 'rerun-workspace',
          stages: [
            { key: 'notes', agent: 'noop', input: { n: 1 } },
            { key: 'files', agent: 'ws_write', dependsOn: ['notes'] },
            { key: 'lint', agent: 'ws_check', dependsOn: ['files'], retry: once },
          ],
        })
      ).id,
    );
    expect(first.status).to.equal('failed');
    flaky.failing = false;

    const res = await rerun(first.id);

    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    expect(res.body.rerunFrom).to.deep.equal(['lint']);
    const created = byKey(res.body);
    expect(created.notes!.reused).to.not.equal(null);
    expect(created.files!.reused).to.equal(null);
    const done = await waitForPipeline(h.baseUrl, res.body.id);
    // lint found the file files wrote in the new workspace.
    expect(done.status, JSON.stringify(done.stages)).to.equal('succeeded');
    expect(byKey(done).lint!.output).to.deep.equal({ marker: 'written' });
    expect((await runs(done.id)).map((r) => r.stageKey).sort()).to.deep.equal(['files', 'lint']);
  });

  it('decisions: a re-run stage the policy holds opens its own decision; the reused upstream is not asked again', async () => {
    // The first run is cancelled while deploy waits for its decision.
    const submitted = await submit({
      name: 'rerun-decision',
      stages: [
        { key: 'build', agent: 'noop', input: { artefact: 'v1' } },
        { key: 'deploy', agent: 'sim_deployment', dependsOn: ['build'] },
      ],
    });
    const held = await waitUntil(h.baseUrl, submitted.id, (p) => (p.decisions as Loose[]).some((d) => d.status === 'pending'));
    expect((held.decisions as Loose[]).map((d) => d.stageKey)).to.deep.equal(['deploy']);
    expect((await request(h.baseUrl, 'POST', `/api/v1/pipelines/${submitted.id}/cancel`)).status).to.equal(202);
    const first = await waitForPipeline(h.baseUrl, submitted.id);
    expect(first.status).to.equal('cancelled');

    const res = await rerun(first.id);

    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    expect(res.body.rerunFrom).to.deep.equal(['deploy']);
    expect(byKey(res.body).build!.reused).to.not.equal(null);
    // Ready at once (its one dependency is reused), and held for a person as in any pipeline.
    const waiting = await waitUntil(h.baseUrl, res.body.id, (p) => (p.decisions as Loose[]).some((d) => d.status === 'pending'));
    expect((waiting.decisions as Loose[]).map((d) => [d.stageKey, d.status])).to.deep.equal([['deploy', 'pending']]);
    expect(byKey(waiting).deploy!.status).to.equal('waiting');
    expect(byKey(waiting).build!.status).to.equal('succeeded');
    expect((await request(h.baseUrl, 'POST', `/api/v1/pipelines/${res.body.id}/cancel`)).status).to.equal(202);
    await waitForPipeline(h.baseUrl, res.body.id);
  });

  it("clarifications: the submission's questions, answered in the old pipeline, are not asked again by the re-run", async () => {
    const pm = await h.createKey('rerun-pm', ['approver']);
    flaky.failing = true;
    const submitted = await submit({
      name: 'rerun-clarified',
      input: { requirements: 'Make it maybe faster for some users' },
      stages: [
        { key: 'a', agent: 'noop' },
        { key: 'b', agent: 'flaky', dependsOn: ['a'], retry: once },
      ],
    });
    const asked = (submitted.clarifications as Loose[])[0]!;
    expect(asked.status).to.equal('open');
    const answers = Object.fromEntries((asked.questions as Loose[]).map((q) => [q.id as string, 'every user, required']));
    const answered = await request(h.baseUrl, 'POST', `/api/v1/clarifications/${asked.id}/answer`, { answers }, bearer(pm.key));
    expect(answered.status, JSON.stringify(answered.body)).to.equal(200);
    const first = await waitForPipeline(h.baseUrl, submitted.id);
    expect(first.status).to.equal('failed');
    flaky.failing = false;

    const res = await rerun(first.id);

    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    // The answers come along in the input, as the old pipeline's stages had them.
    expect(res.body.input).to.deep.equal(first.input);
    expect(res.body.input.clarifications).to.have.length(1);
    expect(res.body.clarifications).to.deep.equal([]);
    expect(byKey(res.body).b!.status).to.equal('queued');
    const done = await waitForPipeline(h.baseUrl, res.body.id);
    expect(done.status).to.equal('succeeded');
    expect(done.clarifications).to.deep.equal([]);
  });

  it('clarifications: a stage that asked and was answered runs again with its answers, and asks nothing', async () => {
    const pm = await h.createKey('rerun-pm2', ['approver']);
    const submitted = await submit({ name: 'rerun-asked', stages: [{ key: 'ask', agent: 'ask_region' }] });
    const open = await waitUntil(h.baseUrl, submitted.id, (p) => (p.clarifications as Loose[]).some((c) => c.status === 'open'));
    const question = (open.clarifications as Loose[])[0]!;
    const answers = Object.fromEntries((question.questions as Loose[]).map((q) => [q.id as string, 'eu-west-1']));
    const answered = await request(h.baseUrl, 'POST', `/api/v1/clarifications/${question.id}/answer`, { answers }, bearer(pm.key));
    expect(answered.status, JSON.stringify(answered.body)).to.equal(200);
    const first = await waitForPipeline(h.baseUrl, submitted.id);
    expect(first.status).to.equal('succeeded');

    const res = await rerun(first.id, { from: ['ask'] });

    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    const done = await waitForPipeline(h.baseUrl, res.body.id);
    expect(done.status).to.equal('succeeded');
    expect(done.clarifications).to.deep.equal([]);
    expect(byKey(done).ask!.output).to.deep.include({ region: 'eu-west-1', attempt: 1 });
  });

  it('refuses an unknown stage key (400 naming from[i]), an unknown pipeline (404), a bad body (400), a running pipeline (409)', async () => {
    const first = await waitForPipeline(h.baseUrl, (await submit({ name: 'rerun-refusals', stages: [{ key: 'a', agent: 'noop' }] })).id);
    expectValidationError(await rerun(first.id, { from: ['a', 'nope'] }), 'from[1]');
    expectValidationError(await rerun(first.id, { from: [] }), 'from');
    expectValidationError(await rerun(first.id, { form: ['a'] }), 'form');
    expectError(await rerun('00000000-0000-4000-8000-000000000000'), 404, 'PIPELINE_NOT_FOUND');
    expectValidationError(await rerun('not-a-uuid'), 'id');

    const running = await submit({ name: 'rerun-running', stages: [{ key: 'nap', agent: 'sleep', input: { ms: 60_000 } }] });
    const refused = await rerun(running.id);
    expectError(refused, 409, 'PIPELINE_NOT_FINISHED');
    expect(refused.body.error.message).to.match(/running|queued/);
    expect((await request(h.baseUrl, 'POST', `/api/v1/pipelines/${running.id}/cancel`)).status).to.equal(202);
    const cancelled = await waitForPipeline(h.baseUrl, running.id);
    expect(cancelled.status).to.equal('cancelled');
    // Once cancelled, it may be re-run (from the cancelled stage).
    const later = await rerun(running.id, { from: ['nap'] });
    expect(later.status, JSON.stringify(later.body)).to.equal(202);
    expect((await request(h.baseUrl, 'POST', `/api/v1/pipelines/${later.body.id}/cancel`)).status).to.equal(202);
  });

  it('access: a viewer and another submitter get 403, the submitter and an operator re-run; each re-run is audited', async () => {
    const owner = await h.createKey('rerun-owner', ['submitter']);
    const other = await h.createKey('rerun-other', ['submitter']);
    const viewer = await h.createKey('rerun-viewer', ['viewer']);
    const operator = await h.createKey('rerun-operator', ['operator']);
    const first = await waitForPipeline(
      h.baseUrl,
      (await submit({ name: 'rerun-access', stages: [{ key: 'a', agent: 'noop' }] }, bearer(owner.key))).id,
    );

    expectError(await rerun(first.id, undefined, bearer(viewer.key)), 403, 'FORBIDDEN');
    expectError(await rerun(first.id, undefined, bearer(other.key)), 403, 'FORBIDDEN');
    const own = await rerun(first.id, undefined, bearer(owner.key));
    expect(own.status, JSON.stringify(own.body)).to.equal(202);
    expect(own.body.submitter).to.equal(owner.id);
    const byOperator = await rerun(first.id, { from: ['a'] }, bearer(operator.key));
    expect(byOperator.status, JSON.stringify(byOperator.body)).to.equal(202);
    expect(byOperator.body.submitter).to.equal(operator.id);

    const audit = (await request(h.baseUrl, 'GET', '/api/v1/audit?action=pipeline.rerun&limit=100')).body.items as Loose[];
    const rows = audit.filter((a) => a.targetId === first.id);
    expect(rows.map((a) => [a.identity.id, a.pipelineId]).sort()).to.deep.equal(
      [
        [owner.id, own.body.id],
        [operator.id, byOperator.body.id],
      ].sort(),
    );
    const row = rows.find((a) => a.identity.id === operator.id)!;
    expect(row.data).to.include({ rerunOf: first.id, pipelineId: byOperator.body.id });
    expect(row.data.from).to.deep.equal(['a']);
    await waitForPipeline(h.baseUrl, own.body.id);
    await waitForPipeline(h.baseUrl, byOperator.body.id);
  });

  it('categories: an override is kept for a re-runner with override_category, dropped (the implied category, its decision) for one without', async () => {
    // An operator who submits declares its deployment stage technical_refactor: it auto-approves.
    const ops = await h.createKey('rerun-cat', ['submitter', 'operator']);
    const definition = {
      name: 'rerun-category',
      stages: [
        { key: 'build', agent: 'noop' },
        { key: 'd', agent: 'sim_deployment', dependsOn: ['build'], category: 'technical_refactor' },
      ],
    };
    const first = await waitForPipeline(h.baseUrl, (await submit(definition, bearer(ops.key))).id);
    expect(first.status).to.equal('succeeded');

    const kept = await rerun(first.id, { from: ['d'] }, bearer(ops.key));
    expect(kept.status, JSON.stringify(kept.body)).to.equal(202);
    expect((kept.body.stages as Loose[]).find((x) => x.key === 'd')!.category).to.equal('technical_refactor');
    expect((await waitForPipeline(h.baseUrl, kept.body.id)).status).to.equal('succeeded');

    // The same identity, its key now a submitter's only: its re-run is not refused, but meets the implied rule.
    expect((await request(h.baseUrl, 'POST', `/api/v1/keys/${ops.recordId}/revoke`)).status).to.equal(200);
    const demoted = await h.createKey(ops.name, ['submitter'], { exactName: true });
    const dropped = await rerun(first.id, { from: ['d'] }, bearer(demoted.key));
    expect(dropped.status, JSON.stringify(dropped.body)).to.equal(202);
    expect(dropped.body.submitter).to.equal(ops.id);
    expect((dropped.body.stages as Loose[]).find((x) => x.key === 'd')!.category).to.equal('cost_impacting');
    const waiting = await waitUntil(h.baseUrl, dropped.body.id, (p) => (p.decisions as Loose[]).some((d) => d.status === 'pending'));
    expect((waiting.decisions as Loose[]).map((d) => [d.stageKey, d.category])).to.deep.equal([['d', 'cost_impacting']]);
    await request(h.baseUrl, 'POST', `/api/v1/pipelines/${dropped.body.id}/cancel`);
  });

  it('an Idempotency-Key repeat answers the first re-run; the same key with another from is refused', async () => {
    const first = await waitForPipeline(
      h.baseUrl,
      (
        await submit({
          name: 'rerun-idempotent',
          stages: [
            { key: 'a', agent: 'noop' },
            { key: 'b', agent: 'noop', dependsOn: ['a'] },
          ],
        })
      ).id,
    );
    const key = { 'idempotency-key': `rerun-${first.id}` };
    const a = await rerun(first.id, { from: ['b'] }, key);
    const b = await rerun(first.id, { from: ['b'] }, key);
    expect(a.status, JSON.stringify(a.body)).to.equal(202);
    expect(b.status).to.equal(202);
    expect(b.body.id).to.equal(a.body.id);
    expect(b.headers.get('idempotent-replayed')).to.equal('true');
    expectError(await rerun(first.id, { from: ['a'] }, key), 409, 'IDEMPOTENCY_KEY_REUSED');
    const { rows } = await h.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pipelines WHERE rerun_of = $1', [first.id]);
    expect(rows[0]!.n).to.equal(1);
    await waitForPipeline(h.baseUrl, a.body.id);
  });

  it('CLI: sdlc rerun <id> --from b --wait exits 0 with the new pipeline; the table names reused and run stages; --help documents it', async () => {
    const sdlc = (args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> => {
      const env: NodeJS.ProcessEnv = { ...process.env, SDLC_API_URL: h.baseUrl, SDLC_API_KEY: h.adminKey, SDLC_POLL_MS: '100' };
      delete env.API_URL;
      delete env.PORT;
      const child = spawn(process.execPath, ['bin/sdlc.js', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
    };
    const first = await waitForPipeline(
      h.baseUrl,
      (
        await submit({
          name: 'rerun-cli',
          stages: [
            { key: 'a', agent: 'noop' },
            { key: 'b', agent: 'noop', dependsOn: ['a'] },
          ],
        })
      ).id,
    );

    const table = await sdlc(['rerun', first.id, '--from', 'b', '--wait']);
    const asJson = await sdlc(['rerun', first.id, '--from', 'b', '--json']);
    const help = await sdlc(['rerun', '--help']);
    const refused = await sdlc(['rerun', first.id, '--from', 'nope']);

    expect(table.code, table.stderr).to.equal(0);
    expect(table.stdout).to.match(new RegExp(`^re-run of ${first.id} from b: `, 'm'));
    expect(table.stdout).to.match(/^a +reused +succeeded +[0-9a-f-]{36}$/m);
    expect(table.stdout).to.match(/^b +runs +/m);
    expect(asJson.code, asJson.stderr).to.equal(0);
    const body = JSON.parse(asJson.stdout) as Loose;
    expect(body.rerunOf).to.equal(first.id);
    expect(body.rerunFrom).to.deep.equal(['b']);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.include('--from <key>');
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.include('from[0]');
    await waitForPipeline(h.baseUrl, body.id as string);
  });

  describe('under running limits (MAX_RUNNING_PIPELINES=1)', () => {
    let limited: Harness;
    before(async function () {
      this.timeout(120_000);
      // A schema of its own: the running limit counts every pipeline in the schema.
      limited = await startHarness({
        agents: [...TEST_AGENTS, flakyAgent],
        ownSchema: true,
        env: { MAX_RUNNING_PIPELINES: '1' },
      });
    });
    after(async () => {
      await limited.close();
    });

    it('a re-run waits queued behind a running pipeline like a submission, then starts from its reused stages and succeeds', async () => {
      const post = (path: string, body?: unknown) => request(limited.baseUrl, 'POST', path, body);
      flaky.failing = true;
      const created = await post('/api/v1/pipelines', {
        name: 'rerun-admission',
        stages: [
          { key: 'a', agent: 'noop', input: { n: 1 } },
          { key: 'b', agent: 'flaky', dependsOn: ['a'], retry: once },
        ],
      });
      expect(created.status, JSON.stringify(created.body)).to.equal(202);
      const first = await waitForPipeline(limited.baseUrl, created.body.id as string);
      expect(first.status).to.equal('failed');
      flaky.failing = false;
      const blocker = await post('/api/v1/pipelines', { name: 'blocker', stages: [{ key: 'nap', agent: 'sleep', input: { ms: 60_000 } }] });
      expect(blocker.body.status).to.equal('running');

      const res = await post(`/api/v1/pipelines/${first.id}/rerun`);

      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      expect(res.body.status).to.equal('queued');
      expect(byKey(res.body).a!.status).to.equal('succeeded');
      expect(byKey(res.body).b!.status).to.equal('pending');
      expect((await post(`/api/v1/pipelines/${blocker.body.id}/cancel`)).status).to.equal(202);
      const done = await waitForPipeline(limited.baseUrl, res.body.id as string);
      expect(done.status, JSON.stringify(done.stages)).to.equal('succeeded');
      expect(byKey(done).a!.reused.fromStage).to.equal(byKey(first).a!.id);
      const ran = (await request(limited.baseUrl, 'GET', `/api/v1/pipelines/${done.id}/runs`)).body.items as Loose[];
      expect(ran.map((r) => r.stageKey)).to.deep.equal(['b']);
    });
  });
});
