// Stage attempts in Postgres: the agent worker's hot path. Claims and finishes arriving together
// share one statement and one commit (group commit, infra/group-commit.ts); every write is conditional
// on the run still owning the stage, so a duplicate delivery records nothing.
import type pg from 'pg';
import type { JsonObject, JsonValue } from '../../domain/json.js';
import { upstreamOutputs, type UpstreamOutput } from '../../domain/stage-envelope.js';
import type { StageStatus } from '../../domain/status.js';
import type { StageErrorRecord } from '../../services/stage-error-record.js';
import type { FinishResult, StageRunRepository } from '../../services/stage-run.ports.js';
import type { GateResult } from '../../domain/gates.js';
import { insertClarification } from './clarification.sql.js';
import { inTransaction, retryOnDeadlock, type Database } from './database.js';
import { parseGateRules, toDispatched } from './mappers.js';
import { expandLifecycle } from './lifecycle-sql.js';
import { loadSql } from './sql/load.js';
import { createGroupCommit } from '../group-commit.js';

interface ClaimRow {
  stage_id: string;
  pipeline_id: string;
  key: string;
  agent: string;
  attempts: number;
  input: JsonObject;
  contract_version: number;
  timeout_ms: number | null;
  gates: unknown;
  pipeline_input: JsonObject | null;
  upstream: Record<string, UpstreamOutput> | null;
}

const json = (value: unknown): string => JSON.stringify(value ?? null);

// Claim and finish, the agent worker's two statements per attempt (each for a batch of them); each
// file's header explains it.
const CLAIM_SQL = loadSql('claim-stages.sql');
const FINISH_SQL = loadSql('finish-stages.sql');
/** The settled re-check of a batch of pipelines ($1, uuid[]): one row each, in order. */
export const SETTLED_SQL = expandLifecycle(
  `SELECT NOT @stillMoving(p.id; -) AS settled FROM unnest($1::uuid[]) WITH ORDINALITY AS p(id, n) ORDER BY p.n`,
  'pipelines-settled',
);

/**
 * Batches of the group commit (infra/group-commit.ts): at most this many attempts per statement, and
 * this many statements of a kind in flight per process (each holds a pooled connection while it
 * runs, so the rest of the pool stays free for everything else).
 */
export const GROUP_COMMIT = { maxBatch: 64, maxInFlight: 2 } as const;

/**
 * SQLSTATE classes 22 (data exception: a value jsonb refuses…) and 23 (integrity constraint): a
 * failure one attempt's values may have caused, so its batch is retried attempt by attempt.
 */
const itemError = (error: unknown): boolean => /^2[23]/.test(String((error as { code?: unknown } | null)?.code ?? ''));

// A decision an agent asked for: always pending for the category's approvers, at confidence and
// threshold 100 (no confidence was involved), with its decision.requested event.
const OPEN_AGENT_DECISION_SQL = expandLifecycle(
  `WITH opened AS (
     INSERT INTO decisions (id, pipeline_id, stage_id, stage_key, category, status, confidence, threshold, policy_version, quorum,
                            approvers, evidence, on_deadline, deadline_at)
     SELECT @newDecisionId(), s.pipeline_id, s.id, s.key, $2, 'pending', 100, 100, $3, $4, $5::text[], $6::jsonb, $7,
            now() + make_interval(secs => $8::bigint / 1000.0)
     FROM stages s WHERE s.id = $1
     RETURNING id, pipeline_id, stage_key, status, category, confidence, approvers, deadline_at
   ), events AS (
     INSERT INTO pipeline_events (pipeline_id, type, stage_key, actor, data)
     SELECT pipeline_id, 'decision.requested', stage_key, $9,
            jsonb_build_object('decisionId', id, 'category', category, 'confidence', confidence, 'approvers', to_jsonb(approvers),
                               'deadlineAt', deadline_at, 'after', jsonb_build_object('status', status))
     FROM opened
   )
   SELECT id, deadline_at FROM opened`,
  'open-agent-decision',
);

interface FinishRow {
  stage_id: string;
  recorded: boolean;
  cancel_requested: boolean;
  needs_hold: boolean;
  settled: boolean;
  id: string | null;
  key: string | null;
  agent: string | null;
  retry_attempts: number | null;
  retry_backoff: unknown;
  contract_version: number | null;
  /** The pipeline's priority (the released job's). */
  priority: string | null;
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
  outputContractVersion?: number;
}

/** One attempt's end as finish-stages.sql reads it from its jsonb array. */
interface FinishItem {
  stageId: string;
  runId: string;
  fields: FinishFields;
}

interface ClaimItem {
  stageId: string;
  jobId: string;
  runId: string;
  workerId: string;
  agentVersion: string | null;
  variant: string | null;
}

/**
 * `autoApproval`: the `platform.auto-approval` switch, read at each finish (default on).
 * `groupCommit`: batch limits (default GROUP_COMMIT; `maxBatch: 1` sends every attempt alone).
 */
export interface StageRunRepositoryOptions {
  autoApproval?: () => boolean;
  groupCommit?: { maxBatch: number; maxInFlight: number };
}

export function createStageRunRepository(
  { pool }: Database,
  { autoApproval = () => true, groupCommit = GROUP_COMMIT }: StageRunRepositoryOptions = {},
): StageRunRepository {
  const finishItem = ({ stageId, runId, fields: f }: FinishItem) => ({
    stageId,
    runId,
    runStatus: f.runStatus,
    stageStatus: f.stageStatus,
    eventStatus: f.eventStatus,
    // Absent: no output; a JSON null output is stored as one.
    ...(f.output === undefined ? {} : { output: f.output }),
    metrics: f.metrics,
    ...(f.error ? { error: f.error } : {}),
    terminal: f.terminal,
    confidence: f.confidence ?? null,
    gates: f.gates ?? [],
    outputContractVersion: f.outputContractVersion ?? null,
  });
  const finishQuery = (items: readonly FinishItem[]) => ({
    name: 'stage_finish',
    text: FINISH_SQL,
    values: [json(items.map(finishItem)), autoApproval()],
  });

  /** The rows of one attempt (one, or one per dependant it released) as the runner sees them. */
  const toFinishResult = (rows: readonly FinishRow[]): FinishResult => {
    const first = rows[0]!;
    return {
      recorded: first.recorded,
      cancelRequested: first.cancel_requested,
      needsConductor: first.needs_hold,
      settled: first.settled,
      released: rows.filter((r) => r.id !== null).map(toDispatched),
    };
  };

  /** The rows of a batch, split by attempt, in the items' order. */
  const byStage = <R extends { stage_id: string }>(rows: readonly R[]): Map<string, R[]> => {
    const map = new Map<string, R[]>();
    for (const row of rows) {
      const list = map.get(row.stage_id);
      if (list) list.push(row);
      else map.set(row.stage_id, [row]);
    }
    return map;
  };

  const finishes = createGroupCommit<FinishItem, FinishResult>({
    ...groupCommit,
    itemError,
    key: (item) => item.stageId,
    async run(items) {
      const { rows } = await retryOnDeadlock(() => pool.query<FinishRow>(finishQuery(items)));
      const split = byStage(rows);
      return items.map((item) => toFinishResult(split.get(item.stageId)!));
    },
  });

  const finish = (stageId: string, runId: string, fields: FinishFields): Promise<FinishResult> =>
    finishes.submit({ stageId, runId, fields });

  const settledChecks = createGroupCommit<string, boolean>({
    ...groupCommit,
    async run(pipelineIds) {
      const { rows } = await pool.query<{ settled: boolean }>({
        name: 'pipelines_settled',
        text: SETTLED_SQL,
        values: [pipelineIds],
      });
      return rows.map((r) => r.settled);
    },
  });

  const claims = createGroupCommit<ClaimItem, ClaimRow | undefined>({
    ...groupCommit,
    itemError,
    key: (item) => item.stageId,
    async run(items) {
      const { rows } = await retryOnDeadlock(() => pool.query<ClaimRow>({ name: 'stage_claim', text: CLAIM_SQL, values: [json(items)] }));
      const split = byStage(rows);
      return items.map((item) => split.get(item.stageId)?.[0]);
    },
  });

  /**
   * Ends the attempt as `suspended` (the stage `waiting`) and, in the same commit, opens what it
   * waits on (a clarification, a decision): a stage never waits on nothing. `open` runs only when
   * the run still owned the stage.
   */
  async function suspendWith<T>(
    stageId: string,
    runId: string,
    metrics: JsonObject,
    output: JsonValue | undefined,
    open: (client: pg.PoolClient) => Promise<T>,
  ): Promise<{ result: FinishResult; opened?: T }> {
    return retryOnDeadlock(() =>
      inTransaction(pool, async (client) => {
        const { rows } = await client.query<FinishRow>(
          finishQuery([
            {
              stageId,
              runId,
              fields: { runStatus: 'suspended', stageStatus: 'waiting', eventStatus: 'suspended', output, metrics, terminal: false },
            },
          ]),
        );
        const result = toFinishResult(rows);
        return result.recorded ? { result, opened: await open(client) } : { result };
      }),
    );
  }

  return {
    async claim({ stageId, jobId, runId, workerId, agentVersion = null, variant = null }) {
      const row = await claims.submit({ stageId, jobId, runId, workerId, agentVersion, variant });
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
            contractVersion: row.contract_version,
            pipelineInput: row.pipeline_input ?? {},
            dependencies: upstreamOutputs(row.upstream ?? {}),
            upstream: row.upstream ?? {},
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

    succeed: ({ stageId, runId, output, metrics, confidence, gates, outputContractVersion }) =>
      finish(stageId, runId, {
        outputContractVersion,
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

    suspend: ({ stageId, runId, metrics, output, clarification }) =>
      suspendWith(stageId, runId, metrics, output, async (client) => {
        await insertClarification(client, { ...clarification, stageId });
      }).then(({ result }) => result),

    async suspendForDecision({ stageId, runId, metrics, decision }) {
      const { result, opened } = await suspendWith(stageId, runId, metrics, undefined, async (client) => {
        const { rows } = await client.query<{ id: string; deadline_at: Date }>(OPEN_AGENT_DECISION_SQL, [
          stageId,
          decision.category,
          decision.policyVersion,
          decision.quorum,
          decision.approvers,
          json({
            ...decision.evidence,
            reason: decision.reason,
            category: decision.category,
            requestedBy: decision.askedBy,
            key: decision.key,
            policyVersion: decision.policyVersion,
          }),
          decision.onDeadline,
          decision.deadlineMs,
          decision.askedBy,
        ]);
        return { id: rows[0]!.id, deadlineAt: rows[0]!.deadline_at };
      });
      return { ...result, opened: opened ?? null };
    },

    // Run after the caller's own commit, so the last of several concurrent finishers sees every
    // other one's result: at least one of them finds the pipeline settled. Checks arriving
    // together share one statement.
    settled: (pipelineId) => settledChecks.submit(pipelineId),

    async progress({ stageId, runId, pct }) {
      await pool.query("UPDATE stages SET progress = $3 WHERE id = $1 AND current_run_id = $2 AND status = 'running'", [
        stageId,
        runId,
        pct,
      ]);
    },
  };
}
