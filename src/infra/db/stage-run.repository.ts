// Stage attempts in Postgres: the agent worker's hot path, one statement per step on the
// shared pool. Every write is conditional on the run still owning the stage, so a duplicate
// delivery records nothing.
import type { JsonObject, JsonValue } from '../../domain/json.js';
import type { StageStatus } from '../../domain/planner.js';
import type { StageErrorRecord, StageRunRepository } from '../../services/ports.js';
import type { Database } from './database.js';

interface ClaimRow {
  pipeline_id: string;
  key: string;
  agent: string;
  attempts: number;
  input: JsonObject;
  timeout_ms: number | null;
  pipeline_input: JsonObject | null;
  dependencies: Record<string, JsonValue> | null;
}

const json = (value: unknown): string => JSON.stringify(value ?? null);

// Claims a queued stage, or re-claims one this same job was running when its worker died
// (BullMQ re-delivers a stalled job under the same id); the orphaned run is marked abandoned.
const CLAIM_SQL = `
  WITH prev AS (
    SELECT id, current_run_id FROM stages
    WHERE id = $1 AND (status = 'queued' OR (status = 'running' AND job_id = $2))
    FOR UPDATE
  ), claimed AS (
    UPDATE stages s SET status = 'running', attempts = s.attempts + 1, job_id = $2,
           current_run_id = $3, started_at = COALESCE(s.started_at, now()), progress = 0
    FROM prev WHERE s.id = prev.id
    RETURNING s.id, s.pipeline_id, s.key, s.agent, s.attempts, s.input, s.timeout_ms, s.depends_on
  ), abandoned AS (
    UPDATE stage_runs SET status = 'abandoned', finished_at = now(),
           error = '{"code":"WORKER_LOST","message":"the worker running this attempt stopped","retryable":true}'::jsonb
    WHERE id = (SELECT current_run_id FROM prev) AND status = 'running'
  ), run AS (
    INSERT INTO stage_runs (id, stage_id, pipeline_id, attempt, status, input, worker_id, job_id, started_at)
    SELECT $3, id, pipeline_id, attempts, 'running', input, $4, $2, now() FROM claimed
  )
  SELECT c.pipeline_id, c.key, c.agent, c.attempts, c.input, c.timeout_ms, p.input AS pipeline_input,
         (SELECT jsonb_object_agg(d.key, d.output) FROM stages d
           WHERE d.pipeline_id = c.pipeline_id AND d.key = ANY(c.depends_on)) AS dependencies
  FROM claimed c JOIN pipelines p ON p.id = c.pipeline_id`;

// $1 stage, $2 run, $3 run status, $4 stage status, $5 output, $6 metrics, $7 error, $8 final.
const FINISH_SQL = `
  WITH run AS (
    UPDATE stage_runs SET status = $3::"RunStatus", output = $5::jsonb, metrics = $6::jsonb, error = $7::jsonb,
           finished_at = now()
    WHERE id = $2 AND status = 'running'
    RETURNING id
  )
  UPDATE stages SET status = $4::"StageStatus",
         output = CASE WHEN $4 = 'succeeded' THEN $5::jsonb ELSE output END,
         error = $7::jsonb,
         progress = CASE WHEN $4 = 'succeeded' THEN 100 ELSE progress END,
         finished_at = CASE WHEN $8::boolean THEN now() ELSE NULL END
  WHERE id = $1 AND current_run_id = $2 AND status = 'running' AND EXISTS (SELECT 1 FROM run)
  RETURNING id`;

export function createStageRunRepository({ pool }: Database): StageRunRepository {
  async function finish(
    stageId: string,
    runId: string,
    runStatus: 'succeeded' | 'failed' | 'cancelled',
    stageStatus: StageStatus,
    fields: { output?: JsonValue; metrics: JsonObject; error?: StageErrorRecord; final: boolean },
  ): Promise<boolean> {
    const result = await pool.query({ name: 'stage_finish', text: FINISH_SQL, values: [
      stageId,
      runId,
      runStatus,
      stageStatus,
      fields.output === undefined ? null : json(fields.output),
      json(fields.metrics),
      fields.error ? json(fields.error) : null,
      fields.final,
    ] });
    return (result.rowCount ?? 0) > 0;
  }

  return {
    async claim({ stageId, jobId, runId, workerId }) {
      const { rows } = await pool.query<ClaimRow>({ name: 'stage_claim', text: CLAIM_SQL, values: [stageId, jobId, runId, workerId] });
      const row = rows[0];
      if (row) {
        return {
          claimed: true,
          stage: {
            pipelineId: row.pipeline_id,
            stageId,
            stageKey: row.key,
            agent: row.agent,
            runId,
            attempt: row.attempts,
            input: row.input,
            pipelineInput: row.pipeline_input ?? {},
            dependencies: row.dependencies ?? {},
            timeoutMs: row.timeout_ms,
          },
        };
      }
      const current = await pool.query<{ status: StageStatus; job_id: string | null; error: StageErrorRecord | null }>(
        'SELECT status, job_id, error FROM stages WHERE id = $1',
        [stageId],
      );
      const stage = current.rows[0];
      return stage
        ? { claimed: false, status: stage.status, jobId: stage.job_id, error: stage.error }
        : { claimed: false, status: 'missing', jobId: null, error: null };
    },

    succeed: ({ stageId, runId, output, metrics }) => finish(stageId, runId, 'succeeded', 'succeeded', { output, metrics, final: true }),

    fail: ({ stageId, runId, error, metrics, final }) => finish(stageId, runId, 'failed', final ? 'failed' : 'queued', { metrics, error, final }),

    cancel: ({ stageId, runId, error, metrics }) => finish(stageId, runId, 'cancelled', 'cancelled', { metrics, error, final: true }),

    async progress({ stageId, runId, pct }) {
      await pool.query("UPDATE stages SET progress = $3 WHERE id = $1 AND current_run_id = $2 AND status = 'running'", [stageId, runId, pct]);
    },
  };
}
