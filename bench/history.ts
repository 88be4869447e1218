// Finished history in the bench's fresh schema before the hand-rolled and platform phases.
//
// Postgres caches a generic plan for each named statement after its fifth run on a connection,
// costed against the tables as they are then. In a fresh schema that is during the warm-up, with a
// few hundred rows, where a sequential scan and a hash join are the cheapest plan for the hot
// path's lookups; the plan then stays while the table grows by tens of thousands of rows, until
// an analyse of the table invalidates it (autovacuum's, a minute or more later). A deployment that
// has run for a while has history in its tables, and its plans are made against it. `--history`
// gives both queues the same number of finished rows; `--history 0` measures the empty schema.
import type pg from 'pg';

export interface HistorySize {
  /** Finished stages in all (pipelines of `stagesPer`); the hand-rolled table gets as many rows. */
  stages: number;
  stagesPer: number;
}

/** Finished pipelines with their stages and one run per stage, then VACUUM ANALYZE, as autovacuum leaves them. */
export async function seedPlatformHistory(pool: pg.Pool, { stages, stagesPer }: HistorySize): Promise<void> {
  if (stages <= 0) return;
  const pipelines = Math.ceil(stages / stagesPer);
  await pool.query(
    `WITH p AS (
       INSERT INTO pipelines (id, name, status, definition, started_at, finished_at, updated_at)
       SELECT gen_random_uuid(), 'bench-history-' || i, 'succeeded', '{}'::jsonb, now(), now(), now()
       FROM generate_series(1, $1::int) AS i
       RETURNING id
     ), s AS (
       INSERT INTO stages (id, pipeline_id, key, position, agent, input, retry_attempts, retry_backoff, status, attempts,
                           output, progress, queued_at, started_at, finished_at, current_run_id)
       SELECT gen_random_uuid(), p.id, 's' || g, g, 'noop', '{}'::jsonb, 0, '{"type":"fixed","delay":0}'::jsonb, 'succeeded', 1,
              '{}'::jsonb, 100, now(), now(), now(), gen_random_uuid()
       FROM p CROSS JOIN generate_series(0, $2::int - 1) AS g
       RETURNING id, pipeline_id, current_run_id
     )
     INSERT INTO stage_runs (id, stage_id, pipeline_id, attempt, status, input, output, worker_id, job_id, started_at, finished_at)
     SELECT current_run_id, id, pipeline_id, 1, 'succeeded', '{}'::jsonb, '{}'::jsonb, 'bench-history', id::text, now(), now() FROM s`,
    [pipelines, stagesPer],
  );
  await pool.query('VACUUM ANALYZE pipelines, stages, stage_runs');
}

/**
 * As many finished rows in the hand-rolled queue's table, once: a table kept from an earlier round
 * (`--only handrolled --rounds N`, where no platform phase drops it) already has them.
 */
export async function seedHandRolledHistory(pool: pg.Pool, rows: number): Promise<void> {
  if (rows <= 0) return;
  const { rowCount } = await pool.query(
    `INSERT INTO handrolled_jobs (id, job_id, status, output, started_at, finished_at)
     SELECT gen_random_uuid(), 'history-' || i, 'succeeded', '{}'::jsonb, now(), now() FROM generate_series(1, $1::int) AS i
     WHERE NOT EXISTS (SELECT 1 FROM handrolled_jobs WHERE job_id = 'history-1')`,
    [rows],
  );
  if (rowCount) await pool.query('VACUUM ANALYZE handrolled_jobs');
}
