// Stage attempts in Postgres: the agent worker's hot path, one statement per step. Every
// write is conditional on the run still owning the stage, so duplicates record nothing.
import type { JsonObject, JsonValue } from '../../domain/json.js';
import type { StageStatus } from '../../domain/planner.js';
import type { StageErrorRecord, StageRunRepository } from '../../services/ports.js';
import type { Db } from './prisma-client.js';

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

export function createStageRunRepository(db: Db): StageRunRepository {
  return {
    async claim({ stageId, jobId, runId, workerId }) {
      // Claims a queued stage, or re-claims one this same job was running when its worker died
      // (BullMQ re-delivers a stalled job under the same id); the orphaned run is abandoned.
      const rows = await db.$queryRaw<ClaimRow[]>`
        WITH prev AS (
          SELECT id, current_run_id FROM stages
          WHERE id = ${stageId}::uuid AND (status = 'queued' OR (status = 'running' AND job_id = ${jobId}))
          FOR UPDATE
        ), claimed AS (
          UPDATE stages s SET status = 'running', attempts = s.attempts + 1, job_id = ${jobId},
                 current_run_id = ${runId}::uuid, started_at = COALESCE(s.started_at, now()), progress = 0
          FROM prev WHERE s.id = prev.id
          RETURNING s.id, s.pipeline_id, s.key, s.agent, s.attempts, s.input, s.timeout_ms, s.depends_on
        ), abandoned AS (
          UPDATE stage_runs SET status = 'abandoned', finished_at = now(),
                 error = '{"code":"WORKER_LOST","message":"the worker running this attempt stopped","retryable":true}'::jsonb
          WHERE id = (SELECT current_run_id FROM prev) AND status = 'running'
        ), run AS (
          INSERT INTO stage_runs (id, stage_id, pipeline_id, attempt, status, input, worker_id, job_id, started_at)
          SELECT ${runId}::uuid, id, pipeline_id, attempts, 'running', input, ${workerId}, ${jobId}, now() FROM claimed
        )
        SELECT c.pipeline_id, c.key, c.agent, c.attempts, c.input, c.timeout_ms, p.input AS pipeline_input,
               (SELECT jsonb_object_agg(d.key, d.output) FROM stages d
                 WHERE d.pipeline_id = c.pipeline_id AND d.key = ANY(c.depends_on)) AS dependencies
        FROM claimed c JOIN pipelines p ON p.id = c.pipeline_id`;
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
      const [current] = await db.$queryRaw<Array<{ status: StageStatus; job_id: string | null; error: StageErrorRecord | null }>>`
        SELECT status, job_id, error FROM stages WHERE id = ${stageId}::uuid`;
      return current
        ? { claimed: false, status: current.status, jobId: current.job_id, error: current.error }
        : { claimed: false, status: 'missing', jobId: null, error: null };
    },

    async succeed({ stageId, runId, output, metrics }) {
      const rows = await db.$queryRaw<Array<{ id: string }>>`
        WITH run AS (
          UPDATE stage_runs SET status = 'succeeded', output = ${json(output)}::jsonb, metrics = ${json(metrics)}::jsonb,
                 finished_at = now()
          WHERE id = ${runId}::uuid AND status = 'running'
          RETURNING id
        )
        UPDATE stages SET status = 'succeeded', output = ${json(output)}::jsonb, error = NULL, progress = 100, finished_at = now()
        WHERE id = ${stageId}::uuid AND current_run_id = ${runId}::uuid AND status = 'running' AND EXISTS (SELECT 1 FROM run)
        RETURNING id`;
      return rows.length > 0;
    },

    async fail({ stageId, runId, error, metrics, final }) {
      const rows = await db.$queryRaw<Array<{ id: string }>>`
        WITH run AS (
          UPDATE stage_runs SET status = 'failed', error = ${json(error)}::jsonb, metrics = ${json(metrics)}::jsonb, finished_at = now()
          WHERE id = ${runId}::uuid AND status = 'running'
          RETURNING id
        )
        UPDATE stages SET status = (CASE WHEN ${final} THEN 'failed' ELSE 'queued' END)::"StageStatus",
               error = ${json(error)}::jsonb,
               finished_at = CASE WHEN ${final} THEN now() ELSE NULL END
        WHERE id = ${stageId}::uuid AND current_run_id = ${runId}::uuid AND status = 'running' AND EXISTS (SELECT 1 FROM run)
        RETURNING id`;
      return rows.length > 0;
    },

    async cancel({ stageId, runId, error, metrics }) {
      const rows = await db.$queryRaw<Array<{ id: string }>>`
        WITH run AS (
          UPDATE stage_runs SET status = 'cancelled', error = ${json(error)}::jsonb, metrics = ${json(metrics)}::jsonb, finished_at = now()
          WHERE id = ${runId}::uuid AND status = 'running'
          RETURNING id
        )
        UPDATE stages SET status = 'cancelled', error = ${json(error)}::jsonb, finished_at = now()
        WHERE id = ${stageId}::uuid AND current_run_id = ${runId}::uuid AND status = 'running' AND EXISTS (SELECT 1 FROM run)
        RETURNING id`;
      return rows.length > 0;
    },

    async progress({ stageId, runId, pct }) {
      await db.$executeRaw`
        UPDATE stages SET progress = ${pct} WHERE id = ${stageId}::uuid AND current_run_id = ${runId}::uuid AND status = 'running'`;
    },
  };
}
