// What Postgres says must exist in Redis, read in bounded pages (oldest first, keyset cursors)
// for the reconciler. The reconciler repairs Redis; the one record it writes is a running stage
// whose job BullMQ dead-lettered (stalled too often), which no worker will ever finish.
import type { ReconcileCursor, ReconcileRepository, StageToReconcile } from '../../services/reconcile.ports.js';
import type { Database } from './database.js';
import { toDispatched } from './mappers.js';
import { statusGuard, targetStatus, terminalPipelineGuard, unfinishedStageGuard } from './lifecycle-sql.js';

/** Before every real row: where a pass starts. */
const START: readonly [string, string] = ['-infinity', '00000000-0000-0000-0000-000000000000'];
const after = (cursor: ReconcileCursor | null): readonly [string, string] => (cursor ? [cursor.at, cursor.id] : START);
/** pg returns -infinity as a number, not a Date. */
const cursorAt = (at: Date | number): string => (at instanceof Date ? at.toISOString() : '-infinity');

// Stages of running pipelines that need a job: queued ones (past the grace period, so a
// producer between its commit and its add is left alone) and running ones whose attempt began,
// and was last stamped by its worker's heartbeat (services/attempt-heartbeat.ts), more than a lock
// duration ago: a worker still running the attempt stamps it every third of that, whether or not
// Redis still holds its job (BullMQ itself recovers a stalled job that still exists). Ordered by
// when the stage was queued. Found through the pipelines' status index, then each pipeline's stages.
// $1/$2 cursor (queued_at, id), $3 grace ms, $4 lock duration ms, $5 page size.
const STAGES_SQL = `
  SELECT s.id, s.pipeline_id, s.key, s.agent, s.status, s.retry_attempts, s.retry_backoff, s.job_id, s.contract_version,
         s.current_run_id, COALESCE(s.queued_at, '-infinity') AS at, p.priority::text AS priority
  FROM pipelines p JOIN stages s ON s.pipeline_id = p.id
  WHERE p.status = 'running'
    AND ((s.status = 'queued' AND COALESCE(s.queued_at, '-infinity') < now() - $3 * interval '1 millisecond')
         OR (s.status = 'running' AND GREATEST(s.run_started_at, s.run_heartbeat_at) < now() - $4 * interval '1 millisecond'))
    AND (COALESCE(s.queued_at, '-infinity'), s.id) > ($1::timestamptz, $2::uuid)
  ORDER BY COALESCE(s.queued_at, '-infinity'), s.id
  LIMIT $5`;

// The stages still in the state they were read in: same status, job and attempt.
const UNCHANGED_SQL = `
  SELECT s.id FROM stages s
  JOIN jsonb_to_recordset($1::jsonb) AS r(id uuid, status text, job_id text, run_id uuid) ON s.id = r.id
  WHERE s.status::text = r.status AND COALESCE(s.job_id, s.id::text) = r.job_id
    AND s.current_run_id IS NOT DISTINCT FROM r.run_id`;

// A running stage whose job BullMQ moved to the failed set on its own (stalled more than
// maxStalledCount times): no worker will finish it, so it is recorded failed here, with its
// attempt as an abandoned run and a stage.finished event, as the finish statement would. Guarded
// by the job and the attempt read, so a stage a replay already took over is left alone.
// $1 stage, $2 job id, $3 attempt's run id, $4 error record.
const FAIL_DEAD_LETTERED_SQL = `
  WITH s AS (
    UPDATE stages SET status = ${targetStatus('deadLetter')}, error = $4::jsonb, finished_at = now()
    WHERE id = $1 AND ${statusGuard('status', 'deadLetter')} AND COALESCE(job_id, id::text) = $2 AND current_run_id IS NOT DISTINCT FROM $3::uuid
    RETURNING id, pipeline_id, key, attempts, input, current_run_id, run_worker_id, job_id, run_started_at, run_agent_version, run_variant
  ), run AS (
    INSERT INTO stage_runs (id, stage_id, pipeline_id, attempt, status, input, error, worker_id, job_id, started_at, finished_at,
                            agent_version, variant)
    SELECT current_run_id, id, pipeline_id, attempts, 'abandoned', input, $4::jsonb, run_worker_id, job_id, run_started_at, now(),
           run_agent_version, run_variant
    FROM s WHERE current_run_id IS NOT NULL
    ON CONFLICT DO NOTHING
  ), finished AS (
    INSERT INTO pipeline_events (pipeline_id, type, stage_key, actor, data)
    SELECT pipeline_id, 'stage.finished', key, 'system', jsonb_build_object('status', 'failed', 'error', $4::jsonb, 'attempt', attempts)
    FROM s
  )
  SELECT id FROM s`;

// Running pipelines that nothing has touched for $3 ms and that the conductor could move: every
// stage is done (none is left unfinished: a waiting or paused one is a person's to move) but the
// pipeline is not finished, or a pending stage has all its dependencies done (to queue, hold or
// skip). A lost control message or a lost released job leaves exactly these behind.
// $1/$2 cursor (created_at, id), $3 idle ms, $4 page size.
const PIPELINES_SQL = `
  SELECT p.id, p.created_at AS at FROM pipelines p
  WHERE p.status = 'running'
    AND (p.created_at, p.id) > ($1::timestamptz, $2::uuid)
    AND p.updated_at < now() - $3 * interval '1 millisecond'
    AND NOT EXISTS (SELECT 1 FROM stages s WHERE s.pipeline_id = p.id
                    AND GREATEST(s.queued_at, s.run_started_at, s.finished_at) > now() - $3 * interval '1 millisecond')
    AND (NOT EXISTS (SELECT 1 FROM stages s WHERE s.pipeline_id = p.id AND ${unfinishedStageGuard('s.status')})
         OR EXISTS (SELECT 1 FROM stages s WHERE s.pipeline_id = p.id AND s.status = 'pending'
                    AND NOT EXISTS (SELECT 1 FROM stages d WHERE d.pipeline_id = p.id AND d.key = ANY (s.depends_on)
                                    AND ${unfinishedStageGuard('d.status')})))
  ORDER BY p.created_at, p.id
  LIMIT $4`;

// $1/$2 cursor (created_at, id), $3 page size. Served by decisions (status, created_at).
const DECISIONS_SQL = `
  SELECT id, deadline_at, created_at AS at FROM decisions
  WHERE status IN ('pending', 'escalated') AND (created_at, id) > ($1::timestamptz, $2)
  ORDER BY created_at, id
  LIMIT $3`;

// $1/$2 cursor (deadline_at, id), $3 grace ms, $4 page size. Unfinished pipelines with a deadline
// and no cancel request, by deadline (the pipelines_deadline_at_idx index).
const PIPELINE_DEADLINES_SQL = `
  SELECT id, deadline_at, deadline_at < now() - $3 * interval '1 millisecond' AS overdue FROM pipelines
  WHERE deadline_at IS NOT NULL AND NOT ${terminalPipelineGuard('status')} AND cancel_requested_at IS NULL
    AND (deadline_at, id) > ($1::timestamptz, $2::uuid)
  ORDER BY deadline_at, id
  LIMIT $4`;

interface StageRow {
  id: string;
  pipeline_id: string;
  key: string;
  agent: string;
  status: 'queued' | 'running';
  retry_attempts: number;
  retry_backoff: unknown;
  job_id: string | null;
  contract_version: number;
  priority: string;
  current_run_id: string | null;
  at: Date | number;
}

/** Creates the reconciler's read model over the shared pool. */
export function createReconcileRepository({ pool }: Database): ReconcileRepository {
  return {
    async stagesToCheck({ after: cursor, limit, graceMs, lockDurationMs }) {
      const { rows } = await pool.query<StageRow>(STAGES_SQL, [...after(cursor), graceMs, lockDurationMs, limit]);
      return rows.map((r) => ({
        ...toDispatched(r),
        jobId: r.job_id ?? r.id,
        pipelineId: r.pipeline_id,
        status: r.status,
        currentRunId: r.current_run_id,
        cursor: { at: cursorAt(r.at), id: r.id },
      }));
    },

    async unchanged(stages: readonly StageToReconcile[]) {
      if (stages.length === 0) return new Set<string>();
      const records = stages.map((s) => ({ id: s.id, status: s.status, job_id: s.jobId, run_id: s.currentRunId }));
      const { rows } = await pool.query<{ id: string }>(UNCHANGED_SQL, [JSON.stringify(records)]);
      return new Set(rows.map((r) => r.id));
    },

    async failDeadLettered(stage, error) {
      const { rowCount } = await pool.query(FAIL_DEAD_LETTERED_SQL, [stage.id, stage.jobId, stage.currentRunId, JSON.stringify(error)]);
      return rowCount === 1;
    },

    async pipelinesToAdvance({ after: cursor, limit, idleMs }) {
      const { rows } = await pool.query<{ id: string; at: Date }>(PIPELINES_SQL, [...after(cursor), idleMs, limit]);
      return rows.map((r) => ({ id: r.id, cursor: { at: cursorAt(r.at), id: r.id } }));
    },

    async pipelineDeadlines({ after: cursor, limit, graceMs }) {
      const { rows } = await pool.query<{ id: string; deadline_at: Date; overdue: boolean }>(PIPELINE_DEADLINES_SQL, [
        ...after(cursor),
        graceMs,
        limit,
      ]);
      return rows.map((r) => ({
        id: r.id,
        deadlineAt: r.deadline_at,
        overdue: r.overdue,
        cursor: { at: cursorAt(r.deadline_at), id: r.id },
      }));
    },

    async openDecisions({ after: cursor, limit }) {
      // Decision ids are text, not uuids: the start cursor's id sorts before any of them.
      const [at, id] = cursor ? after(cursor) : [START[0], ''];
      const { rows } = await pool.query<{ id: string; deadline_at: Date; at: Date }>(DECISIONS_SQL, [at, id, limit]);
      return rows.map((r) => ({ id: r.id, deadlineAt: r.deadline_at, cursor: { at: cursorAt(r.at), id: r.id } }));
    },
  };
}
