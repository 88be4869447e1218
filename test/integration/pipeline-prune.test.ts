// `pipelines prune` on a real Postgres (a schema of its own, so every row counted is this file's)
// with real pipelines run by the platform, plus rows of the tables a noop pipeline leaves empty
// (gate results, shadow runs, logs, a decision and its vote, a clarification): what a dry run
// counts, what --status and --archive do, that an archived line reads back into the same rows,
// batches, what is never touched (running, recent, audit events), the recheck under lock, the
// DLQ afterwards, and the command as a process (exit codes).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { runPruneCommand, type PruneCliOptions } from '../../src/composition/prune-cli.js';
import { DURATION_UNITS_MS } from '../../src/domain/duration.js';
import { PRUNABLE_STATUSES } from '../../src/domain/pipeline-prune.js';
import { createPipelinePruneRepository } from '../../src/infra/db/pipeline-prune.repository.js';
import { terminalActor } from '../../src/services/api-key.service.js';
import { PRUNED_TABLES } from '../../src/services/pipeline-prune.ports.js';
import { startHarness, type Harness } from '../support/harness.js';
import { expectError, request, waitForPipeline, waitUntil, type Loose } from '../support/http.js';
import { createTestSchema, dropSchema } from '../support/test-database.js';

const run = promisify(execFile);
const DAYS_90 = 90 * DURATION_UNITS_MS.d;
type Name = 'succeeded' | 'failed' | 'cancelled' | 'running' | 'recent';

/** Parent tables first, as the rows of an archived line go back in. */
const REIMPORT_ORDER = [
  'pipelines',
  'stages',
  'stage_runs',
  'gate_results',
  'shadow_runs',
  'stage_logs',
  'decisions',
  'decision_votes',
  'clarifications',
  'pipeline_events',
] as const;

describe('pipelines prune (integration, Postgres)', function () {
  this.timeout(180_000);
  let schema: string;
  let url: string;
  let h: Harness;
  let dir: string;
  const ids = {} as Record<Name, string>;
  const output: string[] = [];
  const io = { out: (text: string) => void output.push(text), err: () => undefined };

  /** Runs the command in-process against this file's schema and answers its --json report. */
  async function prune(options: Omit<PruneCliOptions, 'json'>, batchSize?: number): Promise<Loose> {
    output.length = 0;
    await runPruneCommand({ ...options, json: true }, 'tester', io, { databaseUrl: url, batchSize });
    return JSON.parse(output.join('\n')) as Loose;
  }

  async function rowsOf(pipelineIds: string[]): Promise<Record<string, number>> {
    const counts = await createPipelinePruneRepository(h.db).countRows(pipelineIds);
    return { ...counts };
  }

  async function submit(definition: Loose): Promise<string> {
    const res = await request(h.baseUrl, 'POST', '/api/v1/pipelines', definition);
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    return res.body.id as string;
  }

  before(async () => {
    ({ schema, url } = await createTestSchema());
    dir = await mkdtemp(join(tmpdir(), 'prune-'));
    h = await startHarness({ env: { DATABASE_URL: url } });
    ids.succeeded = await submit({
      name: 'old-success',
      stages: [
        { key: 'a', agent: 'noop' },
        { key: 'b', agent: 'noop', dependsOn: ['a'] },
      ],
    });
    ids.failed = await submit({
      name: 'old-failure',
      stages: [
        { key: 'poison', agent: 'fail', input: { unrecoverable: true } },
        { key: 'never', agent: 'noop', dependsOn: ['poison'] },
      ],
    });
    ids.cancelled = await submit({ name: 'old-cancel', stages: [{ key: 'nap', agent: 'sleep', input: { ms: 60_000 } }] });
    ids.running = await submit({ name: 'old-running', stages: [{ key: 'nap', agent: 'sleep', input: { ms: 60_000 } }] });
    ids.recent = await submit({ name: 'recent-success', stages: [{ key: 'a', agent: 'noop' }] });
    for (const name of ['succeeded', 'failed', 'recent'] as const)
      expect((await waitForPipeline(h.baseUrl, ids[name])).status).to.equal(name === 'recent' ? 'succeeded' : name);
    await waitUntil(h.baseUrl, ids.cancelled, (p) => p.stages?.[0]?.status === 'running');
    await waitUntil(h.baseUrl, ids.running, (p) => p.stages?.[0]?.status === 'running');
    expect((await request(h.baseUrl, 'POST', `/api/v1/pipelines/${ids.cancelled}/cancel`)).status).to.equal(202);
    expect((await waitForPipeline(h.baseUrl, ids.cancelled)).status).to.equal('cancelled');

    // 100 days ago, all but the recent one (the running one has no finish to move).
    const old = [ids.succeeded, ids.failed, ids.cancelled, ids.running];
    await h.db.pool.query(
      `UPDATE pipelines SET created_at = created_at - interval '100 days', finished_at = finished_at - interval '100 days' WHERE id = ANY($1::uuid[])`,
      [old],
    );
    // Rows a noop pipeline does not leave, on the successful one.
    const { rows } = await h.db.pool.query<{ stage_id: string; key: string; run_id: string }>(
      `SELECT s.id AS stage_id, s.key, r.id AS run_id FROM stages s JOIN stage_runs r ON r.stage_id = s.id WHERE s.pipeline_id = $1 AND s.key = 'a'`,
      [ids.succeeded],
    );
    const { stage_id: stageId, key, run_id: runId } = rows[0]!;
    const p = ids.succeeded;
    await h.db.pool.query(
      `INSERT INTO gate_results (run_id, stage_id, pipeline_id, attempt, metric, operator, threshold, severity, value, verdict, reason)
       VALUES ($1, $2, $3, 1, 'coverage', '>=', '80', 'blocking', '91', 'pass', 'coverage 91 >= 80')`,
      [runId, stageId, p],
    );
    await h.db.pool.query(
      `INSERT INTO shadow_runs (id, run_id, stage_id, pipeline_id, stage_key, agent_type, incumbent_version, candidate_version,
                                incumbent_status, candidate_status, agreed, outputs_equal, started_at, finished_at)
       VALUES (gen_random_uuid(), $1, $2, $3, $4, 'noop', '1.0.0', '1.1.0', 'succeeded', 'succeeded', true, true, now(), now())`,
      [runId, stageId, p, key],
    );
    await h.db.pool.query(
      `INSERT INTO stage_logs (stage_id, run_id, attempt, seq, bytes, text) VALUES ($1, $2, 1, 0, 12, 'line "one"' || chr(10)), ($1, $2, 1, 1, 9, 'line two' || chr(10))`,
      [stageId, runId],
    );
    await h.db.pool.query(
      `INSERT INTO decisions (id, pipeline_id, stage_id, stage_key, category, status, confidence, threshold, policy_version, approvers, evidence, on_deadline, deadline_at)
       VALUES ('DEC-2026-90001', $1, $2, $3, 'cost_impacting', 'approved', 70, 90, 'v1', '{engineering_manager}', '{"reason":"test"}', 'reject', now())`,
      [p, stageId, key],
    );
    await h.db.pool.query(`INSERT INTO decision_votes (decision_id, actor, verdict) VALUES ('DEC-2026-90001', 'alice', 'approve')`);
    await h.db.pool.query(
      `INSERT INTO clarifications (id, pipeline_id, status, questions, answers, asked_by) VALUES (gen_random_uuid(), $1, 'answered', '[{"id":"q1","question":"which?"}]', '{"q1":"this"}', 'system')`,
      [p],
    );
  });

  after(async () => {
    if (ids.running) {
      await request(h.baseUrl, 'POST', `/api/v1/pipelines/${ids.running}/cancel`);
      await waitForPipeline(h.baseUrl, ids.running);
    }
    await h?.close();
    if (schema) await dropSchema(schema);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a dry run counts the old finished pipelines and the rows they hold, and changes nothing', async () => {
    const old = [ids.succeeded, ids.failed, ids.cancelled];
    const before = await rowsOf(old);

    const report = await prune({ olderThan: DAYS_90, dryRun: true });

    expect(report).to.include({
      dryRun: true,
      pipelines: 3,
      skipped: 0,
      archived: 0,
      olderThan: '90d',
      actor: 'cli:tester',
      archive: null,
    });
    expect(report.byStatus).to.deep.equal({ succeeded: 1, failed: 1, cancelled: 1 });
    expect(report.statuses).to.deep.equal([...PRUNABLE_STATUSES]);
    expect(report.rows).to.deep.equal(before);
    // Every table holds rows of them (the test covers each deletion).
    for (const table of PRUNED_TABLES) expect(before[table], table).to.be.above(0);
    expect(before).to.include({
      pipelines: 3,
      stages: 5,
      gate_results: 1,
      shadow_runs: 1,
      stage_logs: 2,
      decisions: 1,
      decision_votes: 1,
      clarifications: 1,
    });
    expect(await rowsOf(old)).to.deep.equal(before);
  });

  it('--status failed --archive prunes only the failed one, archived first, audited as cli:<user>; its DLQ job then says STAGE_MISSING', async () => {
    const file = join(dir, 'failed.jsonl');
    const held = await rowsOf([ids.failed]);
    const [job] = (await request(h.baseUrl, 'GET', `/api/v1/dlq?pipelineId=${ids.failed}`)).body.items as Loose[];
    expect(job, 'the failed stage’s job in the DLQ').to.include({ replayable: true });

    const report = await prune({ olderThan: DAYS_90, status: ['failed'], archive: file });

    expect(report).to.include({ dryRun: false, pipelines: 1, skipped: 0, archived: 1 });
    expect(report.byStatus).to.deep.equal({ failed: 1 });
    expect(report.rows).to.deep.equal(held);
    expect(report.archive).to.deep.equal({ file, lines: 1 });
    expect(await rowsOf([ids.failed])).to.deep.equal(Object.fromEntries(PRUNED_TABLES.map((t) => [t, 0])));
    expect((await rowsOf([ids.succeeded, ids.cancelled])).pipelines).to.equal(2);

    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    expect(lines).to.have.length(1);
    const doc = JSON.parse(lines[0]!) as Loose;
    expect(doc).to.include({ format: 'agentic-sdlc/pipeline-archive', version: 1, pipelineId: ids.failed });
    expect(doc.tables.pipelines[0]).to.include({ id: ids.failed, status: 'failed', name: 'old-failure' });
    expect((doc.tables.stages as Loose[]).map((s) => [s.key, s.status])).to.deep.equal([
      ['poison', 'failed'],
      ['never', 'skipped'],
    ]);
    expect(doc.tables.stage_runs).to.have.length(held.stage_runs!);
    expect(doc.tables.pipeline_events).to.have.length(held.pipeline_events!);

    const audit = (await request(h.baseUrl, 'GET', `/api/v1/audit?action=pipeline.pruned&pipelineId=${ids.failed}`)).body.items as Loose[];
    expect(audit).to.have.length(1);
    expect(audit[0]!.identity).to.include({ id: 'cli:tester', via: 'cli' });
    expect(audit[0]!.data).to.include({ status: 'failed', name: 'old-failure', olderThan: '90d', archive: file, via: 'cli' });
    // The submission's own audit event stays.
    expect((await request(h.baseUrl, 'GET', `/api/v1/audit?action=pipeline.submitted&pipelineId=${ids.failed}`)).body.items).to.have.length(
      1,
    );

    expect((await request(h.baseUrl, 'GET', `/api/v1/pipelines/${ids.failed}`)).status).to.equal(404);
    const [after] = (await request(h.baseUrl, 'GET', `/api/v1/dlq?pipelineId=${ids.failed}`)).body.items as Loose[];
    expect(after).to.include({ jobId: job!.jobId, replayable: false, replayBlockedBy: 'STAGE_MISSING' });
    expectError(await request(h.baseUrl, 'POST', `/api/v1/dlq/${job!.jobId}/retry`), 409, 'STAGE_MISSING');
  });

  it('an archived line reads back into the same rows (archived again, it is the same document)', async () => {
    const first = JSON.parse((await readFile(join(dir, 'failed.jsonl'), 'utf8')).trimEnd()) as Loose;
    for (const table of REIMPORT_ORDER) {
      await h.db.pool.query(`INSERT INTO ${table} SELECT * FROM json_populate_recordset(NULL::${table}, $1::json)`, [
        JSON.stringify(first.tables[table]),
      ]);
    }
    const again = join(dir, 'again.jsonl');
    const report = await prune({ olderThan: DAYS_90, status: ['failed'], archive: again });
    expect(report).to.include({ pipelines: 1, archived: 1 });
    const second = JSON.parse((await readFile(again, 'utf8')).trimEnd()) as Loose;
    expect(second.tables).to.deep.equal(first.tables);
  });

  it('prunes the rest in batches of one; the running and the recent pipelines and the audit trail stay', async () => {
    const keep = [ids.running, ids.recent];
    const kept = await rowsOf(keep);
    const submittedEvents = await h.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_events WHERE action = 'pipeline.submitted'`,
    );

    const report = await prune({ olderThan: DAYS_90 }, 1);

    expect(report).to.include({ pipelines: 2, batches: 2, skipped: 0, archive: null });
    expect(report.byStatus).to.deep.equal({ succeeded: 1, failed: 0, cancelled: 1 });
    expect(await rowsOf([ids.succeeded, ids.cancelled])).to.deep.equal(Object.fromEntries(PRUNED_TABLES.map((t) => [t, 0])));
    expect(await rowsOf(keep)).to.deep.equal(kept);
    const pruned = await h.db.pool.query<{ target_id: string }>(
      `SELECT target_id FROM audit_events WHERE action = 'pipeline.pruned' ORDER BY id`,
    );
    // The failed one twice (pruned, read back, pruned again), then these two.
    expect(pruned.rows.map((r) => r.target_id)).to.deep.equal([ids.failed, ids.failed, ids.succeeded, ids.cancelled]);
    expect(
      (await h.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'pipeline.submitted'`)).rows[0]!.n,
    ).to.equal(submittedEvents.rows[0]!.n);
    // Nothing old and finished is left: a second run finds nothing.
    expect(await prune({ olderThan: DAYS_90 })).to.include({ pipelines: 0, batches: 0 });
  });

  it('a candidate that changed before its batch locked it (reopened, or a stage back in the queue) is left alone', async () => {
    const repo = createPipelinePruneRepository(h.db);
    const selection = { cutoff: new Date(Date.now() + 1000), statuses: [...PRUNABLE_STATUSES] };
    const candidates = await repo.candidates(selection, undefined, 10);
    expect(candidates.map((c) => c.id)).to.deep.equal([ids.recent]);
    // A replay reopens it between the page and the batch.
    await h.db.pool.query(`UPDATE pipelines SET status = 'running' WHERE id = $1`, [ids.recent]);
    const batch = await repo.deleteBatch([ids.recent], { selection, actor: terminalActor('tester'), auditData: {} });
    expect(batch.deleted).to.deep.equal([]);
    expect(batch.rows.pipelines).to.equal(0);
    // Finished again, but a stage queued: not a candidate at all.
    await h.db.pool.query(`UPDATE pipelines SET status = 'succeeded' WHERE id = $1`, [ids.recent]);
    await h.db.pool.query(`UPDATE stages SET status = 'queued' WHERE pipeline_id = $1`, [ids.recent]);
    expect(await repo.candidates(selection, undefined, 10)).to.deep.equal([]);
    await h.db.pool.query(`UPDATE stages SET status = 'succeeded' WHERE pipeline_id = $1`, [ids.recent]);
    expect((await rowsOf([ids.recent])).pipelines).to.equal(1);
  });

  it('an archive that cannot be written stops its batch before anything is deleted or audited', async () => {
    const repo = createPipelinePruneRepository(h.db);
    const selection = { cutoff: new Date(Date.now() + 1000), statuses: [...PRUNABLE_STATUSES] };
    const before = await rowsOf([ids.recent]);
    let handed = 0;

    const attempt = repo.deleteBatch([ids.recent], {
      selection,
      actor: terminalActor('tester'),
      auditData: {},
      archive: async (documents) => {
        handed = documents.length;
        throw new Error('ENOSPC: no space left on device');
      },
    });

    await attempt.then(
      () => expect.fail('the batch should have failed with its archive'),
      (error: Error) => expect(error.message).to.include('ENOSPC'),
    );
    expect(handed).to.equal(1);
    expect(await rowsOf([ids.recent])).to.deep.equal(before);
    const audited = await h.db.pool.query(`SELECT 1 FROM audit_events WHERE action = 'pipeline.pruned' AND target_id = $1`, [ids.recent]);
    expect(audited.rowCount).to.equal(0);
  });

  it('as a process: --dry-run --json on DATABASE_URL exits 0; a bad --older-than or --status exits 2 naming the option', async () => {
    const env = { ...process.env, DATABASE_URL: url };
    const cli = (...args: string[]) =>
      run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'pipelines', 'prune', ...args], { env }).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      );

    const dry = await cli('--older-than', '1d', '--dry-run', '--json');
    expect(dry.code, dry.stderr).to.equal(0);
    expect(JSON.parse(dry.stdout)).to.include({ dryRun: true, pipelines: 0, olderThan: '1d' });

    const minutes = await cli('--older-than', '3m');
    expect(minutes.code).to.equal(2);
    expect(minutes.stderr).to.include('--older-than').and.include('at least 1d');
    const running = await cli('--older-than', '90d', '--status', 'succeeded,running');
    expect(running.code).to.equal(2);
    expect(running.stderr).to.include('--status').and.include('"running"');
    expect((await rowsOf([ids.running, ids.recent])).pipelines).to.equal(2);
  });
});
