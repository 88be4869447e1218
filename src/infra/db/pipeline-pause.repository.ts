// Pausing and resuming a pipeline in Postgres, one guarded statement each (docs/pipeline-operations.md,
// "Pause and resume"). The pause marks the pipeline (paused_at, by, reason) and moves its queued
// stages to `paused` (the `pause` row of domain/stage-lifecycle.ts); stages released later are held
// by the claim (sql/claim-stages.sql). The resume locks the pipeline row, then clears the mark and
// queues the paused stages again (the `resume` row), each under a job id of its own: the job that
// delivered it before may still exist as completed, and adding an existing id is a no-op.
import type { PipelinePauseRepository, PauseOutcome, ResumeOutcome } from '../../services/pipeline-pause.ports.js';
import type { PipelineStatus } from '../../domain/status.js';
import { audited } from './audit.repository.js';
import { inTransaction, retryOnDeadlock, type Database } from './database.js';
import { expandLifecycle } from './lifecycle-sql.js';
import { toDispatched } from './mappers.js';

// $1 pipeline id, $2 who (identity id), $3 reason (null: none).
// Result: one row when the pipeline exists: its status, cancel_requested, paused_now (this
// statement paused it), was_paused (it was paused already), held (the keys moved to paused, each
// with its stage.paused event beside the pipeline.paused one).
// A terminal pipeline, one with a cancel request, or one already paused changes nothing.
// The stages and the pipeline row are locked by the updates (retried on a deadlock with the
// conductor's apply, which locks them too); a claim racing the pause either locked the stage
// first (it runs: it started before the pause) or finds it paused.
const PAUSE_SQL = expandLifecycle(
  `WITH p AS (
     SELECT id, status, paused_at, cancel_requested_at FROM pipelines WHERE id = $1
   ), open AS (
     SELECT id FROM p WHERE paused_at IS NULL AND cancel_requested_at IS NULL AND NOT @terminalPipeline(status)
   ), held AS (
     UPDATE stages s SET status = @to(pause)
     FROM open WHERE s.pipeline_id = open.id AND @from(s.status; pause)
     RETURNING s.key
   ), held_events AS (
     INSERT INTO pipeline_events (pipeline_id, type, stage_key, actor, data) SELECT $1, 'stage.paused', key, $2, '{}'::jsonb FROM held
   ), moved AS (
     UPDATE pipelines SET paused_at = now(), paused_by = $2, pause_reason = $3, updated_at = now()
     WHERE id IN (SELECT id FROM open) AND paused_at IS NULL AND cancel_requested_at IS NULL AND NOT @terminalPipeline(status)
     RETURNING id
   ), event AS (
     INSERT INTO pipeline_events (pipeline_id, type, actor, data)
     SELECT id, 'pipeline.paused', $2,
            jsonb_build_object('reason', $3::text, 'paused', (SELECT COALESCE(jsonb_agg(key ORDER BY key), '[]'::jsonb) FROM held),
                               'before', '{"paused":false}'::jsonb, 'after', '{"paused":true}'::jsonb)
     FROM moved
   )
   SELECT p.status::text AS status, p.cancel_requested_at IS NOT NULL AS cancel_requested,
          EXISTS (SELECT 1 FROM moved) AS paused_now, p.paused_at IS NOT NULL AS was_paused,
          (SELECT COALESCE(array_agg(key ORDER BY key), '{}') FROM held) AS held
   FROM p`,
  'pipeline-pause',
);

// $1 pipeline id, $2 who, $3 the job id suffix of this resume (each stage's job: <stage id>-<suffix>).
// Result: one row per stage queued again (id, key, agent, retry_attempts, retry_backoff, job_id,
// contract_version; null when none), each with the pipeline's status, resumed_now (this statement
// resumed it) and resumed_keys (the keys queued again, as the pipeline.resumed event lists them:
// both are read from the `resumed` update). A pipeline not paused changes nothing; a terminal one
// is never resumed.
const RESUME_SQL = expandLifecycle(
  `WITH p AS (
     SELECT id, status, paused_at FROM pipelines WHERE id = $1
   ), open AS (
     SELECT id FROM p WHERE paused_at IS NOT NULL AND NOT @terminalPipeline(status)
   ), moved AS (
     UPDATE pipelines SET paused_at = NULL, paused_by = NULL, pause_reason = NULL, updated_at = now()
     WHERE id IN (SELECT id FROM open) AND paused_at IS NOT NULL AND NOT @terminalPipeline(status)
     RETURNING id
   ), resumed AS (
     UPDATE stages s SET status = @to(resume), queued_at = now(), job_id = s.id::text || '-' || $3
     FROM open WHERE s.pipeline_id = open.id AND @from(s.status; resume)
     RETURNING s.id, s.key, s.agent, s.retry_attempts, s.retry_backoff, s.job_id, s.contract_version,
               (SELECT pp.priority::text FROM pipelines pp WHERE pp.id = s.pipeline_id) AS priority
   ), event AS (
     INSERT INTO pipeline_events (pipeline_id, type, actor, data)
     SELECT id, 'pipeline.resumed', $2,
            jsonb_build_object('resumed', (SELECT COALESCE(jsonb_agg(key ORDER BY key), '[]'::jsonb) FROM resumed),
                               'before', '{"paused":true}'::jsonb, 'after', '{"paused":false}'::jsonb)
     FROM moved
   )
   SELECT p.status::text AS status, EXISTS (SELECT 1 FROM moved) AS resumed_now,
          (SELECT COALESCE(array_agg(key ORDER BY key), '{}') FROM resumed) AS resumed_keys, r.*
   FROM p LEFT JOIN resumed r ON true`,
  'pipeline-resume',
);

// $1 pipeline id. Locks the pipeline row for the resume (see resume() below). Result: one row
// when the pipeline exists: status, paused_by (null when not paused, or paused before who paused
// was recorded).
const RESUME_LOCK_SQL = `SELECT status::text AS status, CASE WHEN paused_at IS NOT NULL THEN paused_by END AS paused_by
                         FROM pipelines WHERE id = $1 FOR UPDATE`;

interface PauseRow {
  status: PipelineStatus;
  cancel_requested: boolean;
  paused_now: boolean;
  was_paused: boolean;
  held: string[];
}

interface ResumeRow {
  status: PipelineStatus;
  resumed_now: boolean;
  resumed_keys: string[];
  id: string | null;
  key: string | null;
  agent: string | null;
  retry_attempts: number | null;
  retry_backoff: unknown;
  job_id: string | null;
  contract_version: number | null;
  /** The pipeline's priority, which the resumed stages' jobs carry. */
  priority: string | null;
}

export function createPipelinePauseRepository({ pool }: Database): PipelinePauseRepository {
  return {
    pause({ pipelineId, by, reason }, audit): Promise<PauseOutcome | null> {
      return retryOnDeadlock(() =>
        inTransaction(pool, async (client) => {
          const { rows } = await client.query<PauseRow>({ name: 'pipeline_pause', text: PAUSE_SQL, values: [pipelineId, by, reason] });
          const row = rows[0];
          if (!row) return null;
          return audited<PauseOutcome>(client, audit, {
            status: row.status,
            cancelRequested: row.cancel_requested,
            changed: row.paused_now,
            alreadyPaused: row.was_paused,
            held: row.held,
          });
        }),
      );
    },

    resume({ pipelineId, by, jobSuffix, mayLift = () => true }, audit): Promise<ResumeOutcome | null> {
      return retryOnDeadlock(() =>
        inTransaction(pool, async (client) => {
          // The pipeline row first, in a statement of its own: a claim that found the pipeline
          // paused holds its row FOR KEY SHARE (sql/claim-stages.sql) until it commits the stage
          // `paused`, so RESUME_SQL's snapshot, taken after this lock, sees that stage and queues
          // it again; a claim coming later waits for this commit and finds the pipeline resumed.
          const locked = await client.query<{ status: PipelineStatus; paused_by: string | null }>({
            name: 'pipeline_resume_lock',
            text: RESUME_LOCK_SQL,
            values: [pipelineId],
          });
          const row = locked.rows[0];
          if (!row) return null;
          // Who paused it is read under the lock: a pause made since the caller's access check
          // (an operator's hold) is judged too.
          if (row.paused_by !== null && !mayLift({ status: row.status, pausedBy: row.paused_by })) {
            return { status: row.status, changed: false, resumed: [], queued: [], refused: { pausedBy: row.paused_by } };
          }
          const { rows } = await client.query<ResumeRow>({
            name: 'pipeline_resume',
            text: RESUME_SQL,
            values: [pipelineId, by, jobSuffix],
          });
          const first = rows[0];
          if (!first) return null;
          return audited<ResumeOutcome>(client, audit, {
            status: first.status,
            changed: first.resumed_now,
            resumed: first.resumed_keys,
            queued: rows.filter((r) => r.id !== null).map(toDispatched),
          });
        }),
      );
    },
  };
}
