// Stage attempts in Postgres: the agent worker's hot path, one statement per step on the
// shared pool. Every write is conditional on the run still owning the stage, so a duplicate
// delivery records nothing.
import type { JsonObject, JsonValue } from '../../domain/json.js';
import type { StageStatus } from '../../domain/planner.js';
import type { FinishResult, StageErrorRecord, StageRunRepository } from '../../services/ports.js';
import type { GateResult } from '../../domain/gates.js';
import { insertClarification } from './clarification.sql.js';
import { inTransaction, retryOnDeadlock, type Database } from './database.js';
import { parseGateRules, toDispatched } from './mappers.js';

interface ClaimRow {
  pipeline_id: string;
  key: string;
  agent: string;
  attempts: number;
  input: JsonObject;
  timeout_ms: number | null;
  gates: unknown;
  pipeline_input: JsonObject | null;
  dependencies: Record<string, JsonValue> | null;
}

const json = (value: unknown): string => JSON.stringify(value ?? null);

// Claims a queued stage, or re-claims one this same job was running when its worker died
// (BullMQ re-delivers a stalled job under the same id); the orphaned attempt is recorded as an
// abandoned run. The claim writes only the stage row: the attempt's StageRun row is written
// whole when it ends.
const CLAIM_SQL = `
  WITH prev AS (
    SELECT id, pipeline_id, status, attempts, input, job_id, current_run_id, run_worker_id, run_started_at FROM stages
    WHERE id = $1 AND (status = 'queued' OR (status = 'running' AND job_id = $2))
    FOR UPDATE
  ), claimed AS (
    UPDATE stages s SET status = 'running', attempts = s.attempts + 1, job_id = $2, current_run_id = $3,
           run_worker_id = $4, run_started_at = now(), started_at = COALESCE(s.started_at, now()), progress = 0
    FROM prev WHERE s.id = prev.id
    RETURNING s.id, s.pipeline_id, s.key, s.agent, s.attempts, s.input, s.timeout_ms, s.depends_on, s.gates
  ), started AS (
    INSERT INTO pipeline_events (pipeline_id, type, stage_key, data)
    SELECT pipeline_id, 'stage.started', key, jsonb_build_object('attempt', attempts, 'workerId', $4::text) FROM claimed
  ), abandoned AS (
    INSERT INTO stage_runs (id, stage_id, pipeline_id, attempt, status, input, error, worker_id, job_id, started_at, finished_at)
    SELECT current_run_id, id, pipeline_id, attempts, 'abandoned', input,
           '{"code":"WORKER_LOST","message":"the worker running this attempt stopped","retryable":true}'::jsonb,
           run_worker_id, job_id, run_started_at, now()
    FROM prev WHERE prev.status = 'running'
    ON CONFLICT DO NOTHING
  )
  SELECT c.pipeline_id, c.key, c.agent, c.attempts, c.input, c.timeout_ms, c.gates, p.input AS pipeline_input,
         (SELECT jsonb_object_agg(d.key, d.output) FROM stages d
           WHERE d.pipeline_id = c.pipeline_id AND d.key = ANY(c.depends_on)) AS dependencies
  FROM claimed c JOIN pipelines p ON p.id = c.pipeline_id`;

// Records the end of an attempt in one statement (one commit), guarded by the run still owning
// the stage: the StageRun row, its gate verdicts and the events are inserted here. When the
// stage is done with it, it also releases its dependants: each one's waiting_on drops by one
// and its confidence takes the lowest reported so far; the one reaching 0 is queued here when
// the decision policy lets it start on its own (auto_approve_at, see domain/decision-policy.ts),
// else it stays pending for the conductor to open a decision. Row locks, taken in id order, make
// the last of several concurrent finishes see 0 exactly once. A stage satisfies its dependants
// when it succeeded, or failed with continueOnFailure: the rule of `satisfies` in domain/planner.ts.
// $1 stage, $2 run, $3 run status, $4 stage status, $5 output, $6 metrics, $7 error, $8 terminal,
// $9 confidence reported (percent or null), $10 gate results (jsonb array), $11 event status.
const FINISH_SQL = `
  WITH stage AS (
    UPDATE stages SET status = $4::"StageStatus",
           output = CASE WHEN $4 = 'succeeded' THEN $5::jsonb ELSE output END,
           error = $7::jsonb,
           progress = CASE WHEN $4 = 'succeeded' THEN 100 ELSE progress END,
           finished_at = CASE WHEN $8::boolean THEN now() ELSE NULL END
    WHERE id = $1 AND current_run_id = $2 AND status = 'running'
    RETURNING pipeline_id, key, attempts, input, run_worker_id, job_id, run_started_at, dependants,
              ($4 = 'succeeded' OR ($4 = 'failed' AND continue_on_failure)) AS satisfies
  ), run AS (
    INSERT INTO stage_runs (id, stage_id, pipeline_id, attempt, status, input, output, metrics, error, worker_id, job_id,
                            started_at, finished_at)
    SELECT $2, $1, pipeline_id, attempts, $3::"RunStatus", input, $5::jsonb, $6::jsonb, $7::jsonb, run_worker_id, job_id,
           run_started_at, now()
    FROM stage
  ), gates AS (
    INSERT INTO gate_results (run_id, stage_id, pipeline_id, attempt, metric, operator, threshold, severity, value, verdict, reason)
    SELECT $2, $1, s.pipeline_id, s.attempts, g.metric, g.operator, g.threshold, g.severity, g.value, g.verdict, g.reason
    FROM stage s, jsonb_to_recordset($10::jsonb) AS g(metric text, operator text, threshold jsonb, severity text, value jsonb,
                                                     verdict text, reason text)
  ), events AS (
    INSERT INTO pipeline_events (pipeline_id, type, stage_key, actor, data)
    SELECT s.pipeline_id, e.type, s.key, e.actor, e.data || jsonb_build_object('attempt', s.attempts)
    FROM stage s, (
      SELECT 0 AS ord, g.n, 'gate.evaluated' AS type, 'policy' AS actor, g.value AS data
      FROM jsonb_array_elements($10::jsonb) WITH ORDINALITY AS g(value, n)
      UNION ALL
      SELECT 1, 0, 'stage.finished', 'system', jsonb_strip_nulls(jsonb_build_object('status', $11::text, 'error', $7::jsonb))
    ) e
    ORDER BY e.ord, e.n
  ), unblocked AS (
    SELECT d.id FROM stages d JOIN stage s ON d.pipeline_id = s.pipeline_id AND d.key = ANY(s.dependants)
    WHERE s.satisfies AND d.status = 'pending'
    ORDER BY d.id
    FOR UPDATE OF d
  ), released AS (
    UPDATE stages d SET waiting_on = d.waiting_on - 1,
           confidence = LEAST(d.confidence, $9::real),
           status = (CASE WHEN d.waiting_on <= 1 AND d.auto_approve_at IS NOT NULL
                               AND COALESCE(LEAST(d.confidence, $9::real), 100) >= d.auto_approve_at
                          THEN 'queued' ELSE 'pending' END)::"StageStatus",
           queued_at = CASE WHEN d.waiting_on <= 1 THEN now() ELSE d.queued_at END
    FROM unblocked u WHERE d.id = u.id AND d.status = 'pending'
    RETURNING d.id, d.key, d.agent, d.status, d.waiting_on, d.retry_attempts, d.retry_backoff
  )
  SELECT EXISTS (SELECT 1 FROM stage) AS recorded,
         EXISTS (SELECT 1 FROM pipelines p JOIN stage s ON p.id = s.pipeline_id WHERE p.cancel_requested_at IS NOT NULL) AS cancel_requested,
         EXISTS (SELECT 1 FROM released WHERE status = 'pending' AND waiting_on = 0) AS held,
         r.id, r.key, r.agent, r.retry_attempts, r.retry_backoff
  FROM (SELECT 1) one LEFT JOIN released r ON r.status = 'queued'`;

interface FinishRow {
  recorded: boolean;
  cancel_requested: boolean;
  held: boolean;
  id: string | null;
  key: string | null;
  agent: string | null;
  retry_attempts: number | null;
  retry_backoff: unknown;
}

/** How an attempt ended, as FINISH_SQL records it. */
interface FinishFields {
  runStatus: 'succeeded' | 'failed' | 'cancelled' | 'suspended';
  stageStatus: StageStatus;
  /** The stage.finished event's status (a retry leaves the stage queued: "retrying"). */
  eventStatus: string;
  output?: JsonValue;
  metrics: JsonObject;
  error?: StageErrorRecord;
  terminal: boolean;
  confidence?: number | null;
  gates?: readonly GateResult[];
}

export function createStageRunRepository({ pool }: Database): StageRunRepository {
  const finishQuery = (stageId: string, runId: string, f: FinishFields) => ({
    name: 'stage_finish',
    text: FINISH_SQL,
    values: [
      stageId,
      runId,
      f.runStatus,
      f.stageStatus,
      f.output === undefined ? null : json(f.output),
      json(f.metrics),
      f.error ? json(f.error) : null,
      f.terminal,
      f.confidence ?? null,
      json(f.gates ?? []),
      f.eventStatus,
    ],
  });

  const toFinishResult = (rows: FinishRow[]): FinishResult => {
    const first = rows[0]!;
    return {
      recorded: first.recorded,
      cancelRequested: first.cancel_requested,
      needsConductor: first.held,
      released: rows.filter((r) => r.id !== null).map(toDispatched),
    };
  };

  async function finish(stageId: string, runId: string, fields: FinishFields): Promise<FinishResult> {
    const { rows } = await retryOnDeadlock(() => pool.query<FinishRow>(finishQuery(stageId, runId, fields)));
    return toFinishResult(rows);
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
            gates: parseGateRules(row.gates),
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

    succeed: ({ stageId, runId, output, metrics, confidence, gates }) =>
      finish(stageId, runId, {
        runStatus: 'succeeded',
        stageStatus: 'succeeded',
        eventStatus: 'succeeded',
        output,
        metrics,
        confidence,
        gates,
        terminal: true,
      }),

    fail: ({ stageId, runId, error, metrics, final, output, gates }) =>
      finish(stageId, runId, {
        runStatus: 'failed',
        stageStatus: final ? 'failed' : 'queued',
        eventStatus: final ? 'failed' : 'retrying',
        output,
        metrics,
        error,
        gates,
        terminal: final,
      }),

    cancel: ({ stageId, runId, error, metrics }) =>
      finish(stageId, runId, {
        runStatus: 'cancelled',
        stageStatus: 'cancelled',
        eventStatus: 'cancelled',
        metrics,
        error,
        terminal: true,
      }),

    async suspend({ stageId, runId, metrics, output, clarification }) {
      // The attempt's end and the question are one commit: a stage never waits on nothing.
      return retryOnDeadlock(() =>
        inTransaction(pool, async (client) => {
          const { rows } = await client.query<FinishRow>(
            finishQuery(stageId, runId, {
              runStatus: 'suspended',
              stageStatus: 'waiting',
              eventStatus: 'suspended',
              output,
              metrics,
              terminal: false,
            }),
          );
          const result = toFinishResult(rows);
          if (result.recorded) await insertClarification(client, { ...clarification, stageId });
          return result;
        }),
      );
    },

    async settled(pipelineId) {
      // Run after the caller's own commit, so the last of several concurrent finishers sees
      // every other one's result: at least one of them finds the pipeline settled.
      const { rows } = await pool.query<{ settled: boolean }>({
        name: 'pipeline_settled',
        // From the last position backwards: stages run roughly in definition order, so an
        // unfinished one is usually found at once instead of after every finished one.
        text: `SELECT NOT EXISTS (
                 SELECT 1 FROM stages WHERE pipeline_id = $1 AND status IN ('pending', 'queued', 'running')
                 ORDER BY position DESC LIMIT 1) AS settled`,
        values: [pipelineId],
      });
      return rows[0]!.settled;
    },

    async progress({ stageId, runId, pct }) {
      await pool.query("UPDATE stages SET progress = $3 WHERE id = $1 AND current_run_id = $2 AND status = 'running'", [
        stageId,
        runId,
        pct,
      ]);
    },
  };
}
