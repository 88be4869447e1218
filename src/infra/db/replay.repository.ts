// Replays of dead-lettered stage jobs in Postgres: one transaction reopens the failed stages of
// one pipeline (failed → queued), puts the stages their failure skipped back to pending with
// `waiting_on` recomputed, moves the pipeline back to running, and writes the audit events.
// Every write is guarded by the state it expects; the rules are in domain/dlq-replay.ts.
import { planReopen, replayVerdict, type ReplayTarget, type ReplayVerdict } from '../../domain/dlq-replay.js';
import type { PipelineStatus, StageStatus } from '../../domain/status.js';
import type { ReplayRepository, ReplayResult } from '../../services/dlq.ports.js';
import { inTransaction, retryOnDeadlock, type Database } from './database.js';
import { STAGE_PIPELINE_PRIORITY_SQL, toDispatched } from './mappers.js';
import { statusGuard, targetStatus } from './lifecycle-sql.js';
import { eventData } from '../../domain/event-payloads.js';
import { recordAuditIn } from './audit.repository.js';

interface TargetRow {
  id: string;
  key: string;
  status: StageStatus;
  job_id: string | null;
  continue_on_failure: boolean;
  pipeline_status: PipelineStatus;
  cancel_requested: boolean;
  rerun_by: string | null;
}

interface StageRow {
  id: string;
  key: string;
  status: StageStatus;
  depends_on: string[];
  continue_on_failure: boolean;
  job_id: string | null;
  agent: string;
  retry_attempts: number;
  retry_backoff: unknown;
  contract_version: number;
  priority: string;
}

/** The first re-run of the pipeline whose id `pipelineId` names (a column or a parameter; pipelines.rerun_of is indexed). */
const rerunBySql = (pipelineId: string) =>
  `SELECT r.id FROM pipelines r WHERE r.rerun_of = ${pipelineId} ORDER BY r.created_at, r.id LIMIT 1`;
const RERUN_BY_SQL = rerunBySql('$1');

const INSPECT_SQL = `
  SELECT s.id, s.key, s.status, s.job_id, s.continue_on_failure, p.status AS pipeline_status,
         p.cancel_requested_at IS NOT NULL AS cancel_requested, (${rerunBySql('p.id')}) AS rerun_by
  FROM stages s JOIN pipelines p ON p.id = s.pipeline_id
  WHERE s.id = ANY($1::uuid[])`;

// Stage rows first, in id order, then the pipeline row: the order the finish, plan and cancel
// statements take them in, so a replay and a finish wait for each other instead of deadlocking.
const LOCK_STAGES_SQL = `
  SELECT id, key, status, depends_on, continue_on_failure, job_id, agent, retry_attempts, retry_backoff, contract_version,
         ${STAGE_PIPELINE_PRIORITY_SQL}
  FROM stages WHERE pipeline_id = $1 ORDER BY id FOR UPDATE`;
const LOCK_PIPELINE_SQL = `
  SELECT status, cancel_requested_at IS NOT NULL AS cancel_requested FROM pipelines WHERE id = $1 FOR UPDATE`;

// $1 pipeline, $2 stage ids to reopen, $3 restored stages [{ id, waiting_on }], $4 audit events
// [{ stage_key, data }], $5 actor. The attempts counter is kept (run numbers go on); the error,
// finish time and progress of the failed attempt are cleared from the stage row (its stage_runs
// row keeps them).
const REOPEN_SQL = `
  WITH reopened AS (
    UPDATE stages SET status = ${targetStatus('replay')}, queued_at = now(), finished_at = NULL, error = NULL, progress = 0
    WHERE pipeline_id = $1 AND id = ANY($2::uuid[]) AND ${statusGuard('status', 'replay')}
    RETURNING id
  ), restored AS (
    UPDATE stages s SET status = ${targetStatus('restore')}, waiting_on = r.waiting_on, queued_at = NULL, finished_at = NULL
    FROM jsonb_to_recordset($3::jsonb) AS r(id uuid, waiting_on int)
    WHERE s.id = r.id AND s.pipeline_id = $1 AND ${statusGuard('s.status', 'restore')}
    RETURNING s.id
  ), pipeline AS (
    UPDATE pipelines SET status = 'running', error = NULL, finished_at = NULL, updated_at = now()
    WHERE id = $1 AND status IN ('failed', 'running') AND cancel_requested_at IS NULL
      AND EXISTS (SELECT 1 FROM reopened)
    RETURNING id
  ), audit AS (
    INSERT INTO pipeline_events (pipeline_id, type, stage_key, actor, data)
    SELECT $1, 'dlq.replayed', e.stage_key, $5, e.data FROM jsonb_to_recordset($4::jsonb) AS e(stage_key text, data jsonb)
  )
  SELECT (SELECT count(*) FROM reopened)::int AS reopened, (SELECT count(*) FROM restored)::int AS restored`;

// $1 pipeline, $2 job ids: the failures (job id, failedAt) its earlier replays recorded.
const RECORDED_SQL = `
  SELECT DISTINCT data->>'jobId' AS job_id, data->>'failedAt' AS failed_at FROM pipeline_events
  WHERE pipeline_id = $1 AND type = 'dlq.replayed' AND data->>'jobId' = ANY($2::text[]) AND data ? 'failedAt'`;

const failureKey = (jobId: string, failedAt: string) => `${jobId}@${failedAt}`;

interface LockedPipeline {
  status: PipelineStatus;
  cancel_requested: boolean;
  rerun_by: string | null;
}

function toTarget(row: Pick<TargetRow, 'key' | 'status' | 'job_id' | 'continue_on_failure'>, pipeline: LockedPipeline): ReplayTarget {
  return {
    stageKey: row.key,
    stageStatus: row.status,
    stageJobId: row.job_id,
    continueOnFailure: row.continue_on_failure,
    pipelineStatus: pipeline.status,
    cancelRequested: pipeline.cancel_requested,
    rerunBy: pipeline.rerun_by,
  };
}

export function createReplayRepository({ pool }: Database): ReplayRepository {
  return {
    async inspect(stageIds) {
      if (stageIds.length === 0) return new Map();
      const { rows } = await pool.query<TargetRow>(INSPECT_SQL, [[...new Set(stageIds)]]);
      return new Map(
        rows.map((row) => [
          row.id,
          toTarget(row, { status: row.pipeline_status, cancel_requested: row.cancel_requested, rerun_by: row.rerun_by }),
        ]),
      );
    },

    reopen({ pipelineId, targets, actor, via }, audit) {
      return retryOnDeadlock(() =>
        inTransaction(pool, async (client): Promise<ReplayResult[]> => {
          const { rows: stages } = await client.query<StageRow>(LOCK_STAGES_SQL, [pipelineId]);
          const { rows: pipelines } = await client.query<Omit<LockedPipeline, 'rerun_by'>>(LOCK_PIPELINE_SQL, [pipelineId]);
          // A statement of its own, after the lock: it sees a re-run committed while the lock was awaited
          // (the re-run holds the row FOR SHARE until it commits, rerun.sql.ts).
          const { rows: reruns } = pipelines[0] ? await client.query<{ id: string }>(RERUN_BY_SQL, [pipelineId]) : { rows: [] };
          const pipeline: LockedPipeline | undefined = pipelines[0] && { ...pipelines[0], rerun_by: reruns[0]?.id ?? null };
          const byId = new Map(stages.map((s) => [s.id, s]));

          const verdicts = targets.map((t): ReplayVerdict => {
            const stage = byId.get(t.stageId);
            return replayVerdict(stage && pipeline ? toTarget(stage, pipeline) : null, t.jobId);
          });
          const reopenKeys = targets.flatMap((t, i) => (verdicts[i]!.kind === 'reopen' ? [byId.get(t.stageId)!.key] : []));
          const plan = planReopen(
            stages.map((s) => ({ key: s.key, status: s.status, dependsOn: s.depends_on, continueOnFailure: s.continue_on_failure })),
            reopenKeys,
          );
          if (plan.inFlight.length > 0) {
            const message = `stage(s) ${plan.inFlight.join(', ')}, which the stages to restore depend on, are running; replay once they finish`;
            verdicts.forEach((v, i) => {
              if (v.kind === 'reopen') verdicts[i] = { kind: 'blocked', code: 'STAGES_IN_FLIGHT', message };
            });
          }

          // A resume of a failure that an earlier replay already recorded (a concurrent replay
          // of the same job, or a repeat after a 503) only finishes that replay: it writes no
          // second event or audit row. Read under the row locks, so a concurrent replay's
          // records are committed and seen.
          const resumedJobs = targets.filter((_, i) => verdicts[i]!.kind === 'resume').map((t) => t.jobId);
          const recordedFailures = new Set<string>();
          if (resumedJobs.length > 0) {
            const { rows } = await client.query<{ job_id: string; failed_at: string }>(RECORDED_SQL, [pipelineId, resumedJobs]);
            for (const row of rows) recordedFailures.add(failureKey(row.job_id, row.failed_at));
          }
          const records = targets.map(
            (t, i) => verdicts[i]!.kind !== 'blocked' && !recordedFailures.has(failureKey(t.jobId, t.failedAt.toISOString())),
          );

          const idByKey = new Map(stages.map((s) => [s.key, s.id]));
          const reopening = verdicts.some((v) => v.kind === 'reopen');
          const restored = reopening ? plan.restore : [];
          const events = targets.flatMap((t, i) => {
            const verdict = verdicts[i]!;
            if (verdict.kind === 'blocked' || !records[i]) return [];
            const stage = byId.get(t.stageId)!;
            const mode = verdict.kind === 'reopen' ? 'reopened' : 'resumed';
            return [
              {
                stage_key: stage.key,
                data: eventData('dlq.replayed', {
                  jobId: t.jobId,
                  failedAt: t.failedAt.toISOString(),
                  fingerprint: t.fingerprint,
                  mode,
                  via,
                  restored: restored.map((r) => r.key),
                  before: { stage: stage.status, pipeline: pipeline!.status },
                  after: { stage: mode === 'reopened' ? 'queued' : stage.status, pipeline: 'running' },
                }),
              },
            ];
          });
          if (events.length > 0) {
            await client.query(REOPEN_SQL, [
              pipelineId,
              targets.filter((_, i) => verdicts[i]!.kind === 'reopen').map((t) => t.stageId),
              JSON.stringify(restored.map((r) => ({ id: idByKey.get(r.key), waiting_on: r.waitingOn }))),
              JSON.stringify(events),
              actor,
            ]);
          }

          const results = targets.map((t, i): ReplayResult => {
            const verdict = verdicts[i]!;
            if (verdict.kind === 'blocked') return { kind: 'blocked', jobId: t.jobId, code: verdict.code, message: verdict.message };
            const stage = byId.get(t.stageId)!;
            return {
              kind: verdict.kind === 'reopen' ? 'reopened' : 'resumed',
              jobId: t.jobId,
              stageKey: stage.key,
              restored: verdict.kind === 'reopen' ? restored.map((r) => r.key) : [],
              recorded: records[i]!,
              stage: toDispatched({ ...stage, job_id: t.jobId }),
            };
          });
          // Each replay's audit event commits with it, whatever the job's retry in Redis does next.
          for (const result of results)
            if (result.kind !== 'blocked' && result.recorded) await recordAuditIn(client, audit?.(result) ?? null);
          return results;
        }),
      );
    },
  };
}
