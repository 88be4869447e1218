// Cancelling a pipeline: its waiting and not yet running stages are cancelled at once (with the
// questions and decisions they wait on); running ones get their abort through the cancel bus.
import { TERMINAL_PIPELINE_STATUSES, type PipelineStatus } from '../../domain/status.js';
import type { PipelineRepository } from '../../services/pipeline.ports.js';
import { audited } from './audit.repository.js';
import { inTransaction, retryOnDeadlock, type Database } from './database.js';
import { statusGuard, targetStatus } from './lifecycle-sql.js';

// The `cancel` transition of every stage that has not started (domain/stage-lifecycle.ts).
const CANCEL_WAITING_SQL = `
  WITH stages_cancelled AS (
    UPDATE stages SET status = ${targetStatus('cancel')}, finished_at = now()
    WHERE pipeline_id = $1 AND ${statusGuard('status', 'cancel')}
    RETURNING key
  ), decisions_cancelled AS (
    UPDATE decisions d SET status = 'cancelled', resolved_at = now(), resolved_by = 'system', updated_at = now()
    FROM (SELECT id, status FROM decisions WHERE pipeline_id = $1 AND status IN ('pending', 'escalated') FOR UPDATE) old
    WHERE d.id = old.id
    RETURNING d.id, d.stage_key, old.status AS before
  ), clarifications_cancelled AS (
    UPDATE clarifications SET status = 'cancelled', answered_at = now()
    WHERE pipeline_id = $1 AND status = 'open'
    RETURNING id, stage_key
  )
  INSERT INTO pipeline_events (pipeline_id, type, stage_key, actor, data)
  SELECT $1, 'stage.finished', key, 'system', '{"status":"cancelled"}'::jsonb FROM stages_cancelled
  UNION ALL
  SELECT $1, 'decision.resolved', stage_key, 'system',
         jsonb_build_object('decisionId', id, 'status', 'cancelled', 'before', jsonb_build_object('status', before),
                            'after', jsonb_build_object('status', 'cancelled'))
  FROM decisions_cancelled
  UNION ALL
  SELECT $1, 'clarification.resolved', stage_key, 'system',
         jsonb_build_object('clarificationId', id, 'status', 'cancelled', 'before', '{"status":"open"}'::jsonb,
                            'after', '{"status":"cancelled"}'::jsonb)
  FROM clarifications_cancelled`;

export function createCancelStore({ pool }: Database): Pick<PipelineRepository, 'requestCancel'> {
  return {
    async requestCancel(id, options = {}, audit) {
      // Stages first, then the pipeline row: the order a finishing stage takes its locks in.
      return retryOnDeadlock(() =>
        inTransaction(pool, async (client) => {
          const found = await client.query<{ status: PipelineStatus }>('SELECT status FROM pipelines WHERE id = $1', [id]);
          const pipeline = found.rows[0];
          if (!pipeline) return null;
          if (TERMINAL_PIPELINE_STATUSES.has(pipeline.status)) return { status: pipeline.status, runningJobIds: [] };
          // Waiting stages are cancelled here, so a queued job finds nothing to claim, and the
          // questions and decisions they wait on are closed with them.
          await client.query(CANCEL_WAITING_SQL, [id]);
          // The first request's reason stays: a person's cancel after the deadline's is still the deadline's.
          const updated = await client.query<{ status: PipelineStatus }>(
            `UPDATE pipelines SET cancel_reason = CASE WHEN cancel_requested_at IS NULL THEN $2 ELSE cancel_reason END,
                    cancel_requested_at = COALESCE(cancel_requested_at, now()), updated_at = now()
             WHERE id = $1 RETURNING status`,
            [id, options.reason ?? null],
          );
          // A fresh statement (a fresh snapshot): a stage claimed while the UPDATE above waited
          // for its row is seen running here, so it gets its abort.
          const running = await client.query<{ job_id: string }>(
            "SELECT COALESCE(job_id, id::text) AS job_id FROM stages WHERE pipeline_id = $1 AND status = 'running'",
            [id],
          );
          return audited(client, audit, { status: updated.rows[0]!.status, runningJobIds: running.rows.map((r) => r.job_id) });
        }),
      );
    },
  };
}
