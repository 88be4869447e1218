// What every chaos case ends with: each submitted pipeline reached a terminal state, and each
// stage's effect was recorded exactly once (one `succeeded` stage_runs row per succeeded
// stage, none for any other stage). Reads the private database directly.
import type pg from 'pg';

const TERMINAL_PIPELINE = ['succeeded', 'failed', 'cancelled'];
const TERMINAL_STAGE = new Set(['succeeded', 'failed', 'skipped', 'cancelled']);

export interface RunRow {
  status: string;
  attempt: number;
  workerId: string;
  errorCode: string | null;
  startedAt: Date;
}

export interface StageOutcome {
  pipelineId: string;
  pipelineStatus: string;
  stageId: string;
  key: string;
  status: string;
  attempts: number;
  runs: RunRow[];
}

export interface Outcome {
  pipelines: Map<string, string>;
  stages: StageOutcome[];
  /** Pipelines per status, e.g. { succeeded: 100 }. */
  statusCounts: Record<string, number>;
  /** stage_runs rows per status over all stages, e.g. { succeeded: 300, abandoned: 4 }. */
  runCounts: Record<string, number>;
}

/** Reads the pipelines, their stages and every run row. */
export async function readOutcome(db: pg.Pool, pipelineIds: readonly string[]): Promise<Outcome> {
  const pipelines = await db.query<{ id: string; status: string }>('SELECT id, status FROM pipelines WHERE id = ANY($1::uuid[])', [
    pipelineIds,
  ]);
  const stages = await db.query<{ id: string; pipeline_id: string; key: string; status: string; attempts: number }>(
    'SELECT id, pipeline_id, key, status, attempts FROM stages WHERE pipeline_id = ANY($1::uuid[]) ORDER BY pipeline_id, key',
    [pipelineIds],
  );
  const runs = await db.query<{
    stage_id: string;
    status: string;
    attempt: number;
    worker_id: string;
    error: { code?: string } | null;
    started_at: Date;
  }>(
    'SELECT stage_id, status, attempt, worker_id, error, started_at FROM stage_runs WHERE pipeline_id = ANY($1::uuid[]) ORDER BY stage_id, attempt',
    [pipelineIds],
  );
  const byStage = new Map<string, RunRow[]>();
  const runCounts: Record<string, number> = {};
  for (const r of runs.rows) {
    const list = byStage.get(r.stage_id) ?? [];
    list.push({ status: r.status, attempt: r.attempt, workerId: r.worker_id, errorCode: r.error?.code ?? null, startedAt: r.started_at });
    byStage.set(r.stage_id, list);
    runCounts[r.status] = (runCounts[r.status] ?? 0) + 1;
  }
  const status = new Map(pipelines.rows.map((p) => [p.id, p.status]));
  const statusCounts: Record<string, number> = {};
  for (const s of status.values()) statusCounts[s] = (statusCounts[s] ?? 0) + 1;
  return {
    pipelines: status,
    statusCounts,
    runCounts,
    stages: stages.rows.map((s) => ({
      pipelineId: s.pipeline_id,
      pipelineStatus: status.get(s.pipeline_id) ?? 'missing',
      stageId: s.id,
      key: s.key,
      status: s.status,
      attempts: s.attempts,
      runs: byStage.get(s.id) ?? [],
    })),
  };
}

/**
 * Throws, listing every breach, unless each pipeline is terminal, each of its stages is
 * terminal, and each stage has one `succeeded` run if it succeeded and none otherwise.
 */
export async function assertEveryEffectOnce(db: pg.Pool, pipelineIds: readonly string[]): Promise<Outcome> {
  const outcome = await readOutcome(db, pipelineIds);
  const problems: string[] = [];
  for (const id of pipelineIds) {
    const status = outcome.pipelines.get(id);
    if (!status) problems.push(`pipeline ${id} is not recorded`);
    else if (!TERMINAL_PIPELINE.includes(status)) problems.push(`pipeline ${id} is ${status}`);
  }
  for (const stage of outcome.stages) {
    const succeeded = stage.runs.filter((r) => r.status === 'succeeded').length;
    const expected = stage.status === 'succeeded' ? 1 : 0;
    if (!TERMINAL_STAGE.has(stage.status)) problems.push(`stage ${stage.key} of ${stage.pipelineId} is ${stage.status}`);
    if (succeeded !== expected) {
      problems.push(
        `stage ${stage.key} of ${stage.pipelineId} (${stage.status}) has ${succeeded} succeeded run(s): ${JSON.stringify(stage.runs.map((r) => r.status))}`,
      );
    }
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 20).join('\n  ');
    throw new Error(`${problems.length} exactly-once breach(es):\n  ${shown}${problems.length > 20 ? '\n  …' : ''}`);
  }
  return outcome;
}

/** Polls the database until every pipeline is terminal; throws with their statuses after `timeoutMs`. */
export async function waitForTerminal(db: pg.Pool, pipelineIds: readonly string[], timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const { rows } = await db
      .query<{ n: string }>('SELECT count(*) AS n FROM pipelines WHERE id = ANY($1::uuid[]) AND status = ANY($2::"PipelineStatus"[])', [
        pipelineIds,
        TERMINAL_PIPELINE,
      ])
      .catch(() => ({ rows: [{ n: '-1' }] }));
    if (Number(rows[0].n) === pipelineIds.length) return Date.now() - started;
    if (Date.now() - started > timeoutMs) {
      const outcome = await readOutcome(db, pipelineIds);
      const stuck = outcome.stages.filter((s) => !TERMINAL_STAGE.has(s.status)).slice(0, 10);
      throw new Error(
        `${pipelineIds.length - Number(rows[0].n)} of ${pipelineIds.length} pipeline(s) not terminal after ${timeoutMs} ms ` +
          `(${JSON.stringify(outcome.statusCounts)}); stuck stages: ${JSON.stringify(stuck.map((s) => [s.pipelineId.slice(0, 8), s.key, s.status]))}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Stages by status across the pipelines (for "wait until some are running"). */
export async function stageStatusCounts(db: pg.Pool, pipelineIds: readonly string[]): Promise<Record<string, number>> {
  const { rows } = await db.query<{ status: string; n: string }>(
    'SELECT status, count(*) AS n FROM stages WHERE pipeline_id = ANY($1::uuid[]) GROUP BY status',
    [pipelineIds],
  );
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}
