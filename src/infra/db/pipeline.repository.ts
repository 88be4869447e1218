// Pipelines and stages in Postgres. `advance` is the conductor's step: one round trip reads
// the pipeline's stages, one guarded statement applies the plan. Admission control (running
// limits) moves pipelines into `running` under one advisory lock: at submission and in
// `startQueued`.
import type { PrismaPromise } from '../../generated/prisma/internal/prismaNamespace.js';
import { canStart } from '../../domain/admission.js';
import { TERMINAL_PIPELINE_STATUSES, type PipelineStatus, type StageStatus } from '../../domain/planner.js';
import { dependantsByKey } from '../../domain/dag.js';
import type { PipelineDetail, PipelineRepository, PolicyStage, StageView } from '../../services/ports.js';
import { IdempotencyKeyTakenError } from '../../services/pipeline.service.js';
import { insertClarification } from './clarification.sql.js';
import { lockAdmission, runningLoad, startQueuedLocked } from './admission.sql.js';
import {
  beforeCursor,
  toCategory,
  toClarificationView,
  toDecisionSummary,
  toDispatched,
  toNewClarificationView,
  toPipelineView,
  toRunningView,
  toStageRunView,
  toStageView,
} from './mappers.js';
import { inTransaction, retryOnDeadlock, type Database } from './database.js';

const UNIQUE_VIOLATION = '23505';

const INSERT_STAGES_SQL = `
  INSERT INTO stages (id, pipeline_id, key, position, agent, depends_on, dependants, waiting_on, status, queued_at, input,
                      retry_attempts, retry_backoff, timeout_ms, continue_on_failure, gates, category, auto_approve_at, confidence)
  SELECT r.id, $1, r.key, r.position, r.agent,
         ARRAY(SELECT jsonb_array_elements_text(r.depends_on)), ARRAY(SELECT jsonb_array_elements_text(r.dependants)),
         jsonb_array_length(r.depends_on), r.status::"StageStatus", CASE WHEN r.status = 'queued' THEN now() END,
         r.input, r.retry_attempts, r.retry_backoff, r.timeout_ms, r.continue_on_failure, r.gates, r.category,
         r.auto_approve_at, r.confidence
  FROM jsonb_to_recordset($2::jsonb) AS r(id uuid, key text, position int, agent text, depends_on jsonb, dependants jsonb,
                                            status text, input jsonb, retry_attempts int, retry_backoff jsonb, timeout_ms int,
                                            continue_on_failure boolean, gates jsonb, category text, auto_approve_at real,
                                            confidence real)`;

/**
 * A root's status at creation: queued at once when the policy lets it start on its own (the
 * pipeline starts without a conductor step), waiting behind a submission-time clarification,
 * else pending for the conductor to open its decision. A pipeline that admission control keeps
 * `queued` has no queued root: the conductor plans its roots once it starts.
 */
function rootStatus(autoApproveAt: number | null, confidence: number | null, held: boolean, admitted: boolean): StageStatus {
  if (held) return 'waiting';
  return admitted && autoApproveAt !== null && (confidence ?? 100) >= autoApproveAt ? 'queued' : 'pending';
}

// $1 pipeline, $2 ids to queue, $3 ids to skip, $4 ids to cancel, $5 pipeline status, $6 finishing,
// $7 the pipeline's error when it fails, $8 ids to hold for a decision, $9 their hold requests
// (jsonb array, see HoldRequest), $10 the version of the policy deciding the holds, $11 the one
// the pipeline was submitted under (which fixed its auto-approve thresholds).
const APPLY_PLAN_SQL = `
  WITH changed AS (
    UPDATE stages SET
      status = (CASE WHEN id = ANY($2::uuid[]) THEN 'queued'
                     WHEN id = ANY($3::uuid[]) THEN 'skipped'
                     ELSE 'cancelled' END)::"StageStatus",
      queued_at = CASE WHEN id = ANY($2::uuid[]) THEN now() ELSE queued_at END,
      finished_at = CASE WHEN id = ANY($2::uuid[]) THEN finished_at ELSE now() END
    WHERE pipeline_id = $1
      AND (id = ANY($2::uuid[]) OR id = ANY($3::uuid[]) OR id = ANY($4::uuid[]))
      AND (status = 'pending' OR (status IN ('queued', 'waiting') AND id = ANY($4::uuid[])))
    RETURNING id, key, agent, status, retry_attempts, retry_backoff
  ), stage_events AS (
    INSERT INTO pipeline_events (pipeline_id, type, stage_key, data)
    SELECT $1, 'stage.finished', key, jsonb_build_object('status', status) FROM changed WHERE status <> 'queued'
  ), closed_questions AS (
    -- A stage cancelled while it waited takes its open question or decision with it.
    UPDATE clarifications c SET status = 'cancelled', answered_at = now()
    FROM changed ch WHERE ch.status = 'cancelled' AND c.stage_id = ch.id AND c.status = 'open'
    RETURNING c.id, c.stage_key
  ), closed_decisions AS (
    UPDATE decisions d SET status = 'cancelled', resolved_at = now(), resolved_by = 'system', updated_at = now()
    FROM changed ch WHERE ch.status = 'cancelled' AND d.stage_id = ch.id AND d.status IN ('pending', 'escalated')
    RETURNING d.id, d.stage_key
  ), closed_events AS (
    INSERT INTO pipeline_events (pipeline_id, type, stage_key, data)
    SELECT $1, 'clarification.resolved', stage_key,
           jsonb_build_object('clarificationId', id, 'status', 'cancelled', 'after', '{"status":"cancelled"}'::jsonb)
    FROM closed_questions
    UNION ALL
    SELECT $1, 'decision.resolved', stage_key,
           jsonb_build_object('decisionId', id, 'status', 'cancelled', 'after', '{"status":"cancelled"}'::jsonb)
    FROM closed_decisions
  ), held AS (
    UPDATE stages SET status = 'waiting'
    WHERE pipeline_id = $1 AND id = ANY($8::uuid[]) AND status = 'pending'
    RETURNING id, key, agent, input, depends_on
  ), opened AS (
    INSERT INTO decisions (id, pipeline_id, stage_id, stage_key, category, status, confidence, threshold, policy_version, quorum,
                           approvers, evidence, on_deadline, deadline_at)
    -- DEC-2026-00042: at least five digits, more once the sequence passes 99999 (lpad alone
    -- would truncate); one nextval per row.
    SELECT 'DEC-' || to_char(now(), 'YYYY') || '-' || regexp_replace(lpad(nextval('decision_number')::text, 12, '0'), '^0{0,7}', ''),
           $1, h.id, h.key, r.category, r.status::"DecisionStatus", r.confidence, r.threshold, $10::text, r.quorum,
           ARRAY(SELECT jsonb_array_elements_text(r.approvers)),
           jsonb_build_object(
             'reason', r.reason, 'category', r.category, 'confidence', r.confidence, 'threshold', r.threshold,
             'policyVersion', $10::text, 'submittedUnderPolicy', $11::text, 'stage', jsonb_build_object('key', h.key, 'agent', h.agent, 'input', h.input),
             -- Each upstream's last attempt: its output (also when it failed under continueOnFailure)
             -- and its gate verdicts, failed ones included.
             'upstream', COALESCE((SELECT jsonb_object_agg(u.key, COALESCE(u.output, sr.output)) FROM stages u
                                   LEFT JOIN stage_runs sr ON sr.id = u.current_run_id
                                   WHERE u.pipeline_id = $1 AND u.key = ANY(h.depends_on)), '{}'::jsonb),
             'gates', COALESCE((SELECT jsonb_agg(jsonb_build_object('stage', u.key, 'metric', g.metric, 'operator', g.operator,
                                                                    'threshold', g.threshold, 'value', g.value,
                                                                    'severity', g.severity, 'verdict', g.verdict) ORDER BY g.id)
                                FROM stages u JOIN gate_results g ON g.run_id = u.current_run_id
                                WHERE u.pipeline_id = $1 AND u.key = ANY(h.depends_on)), '[]'::jsonb)),
           r.on_deadline, now() + make_interval(secs => r.deadline_ms / 1000.0)
    FROM held h JOIN jsonb_to_recordset($9::jsonb) AS r(stage_id uuid, category text, status text, confidence real, threshold real,
                                                        quorum int, approvers jsonb, on_deadline text, deadline_ms bigint,
                                                        reason text)
      ON r.stage_id = h.id
    RETURNING id, stage_key, status, category, confidence, approvers, deadline_at
  ), decision_events AS (
    INSERT INTO pipeline_events (pipeline_id, type, stage_key, actor, data)
    SELECT $1, 'decision.requested', stage_key, 'policy',
           jsonb_build_object('decisionId', id, 'category', category, 'confidence', confidence, 'approvers', to_jsonb(approvers),
                              'deadlineAt', deadline_at, 'after', jsonb_build_object('status', status))
    FROM opened
  ), before AS (
    SELECT status FROM pipelines WHERE id = $1 FOR UPDATE
  ), moved AS (
    -- Moves the status only if no one else did, so exactly one advance reports the finish.
    -- started_at is left alone: set when the pipeline started, NULL for one cancelled while queued.
    UPDATE pipelines p SET
      status = CASE WHEN m.moves THEN $5::"PipelineStatus" ELSE p.status END,
      finished_at = CASE WHEN m.moves AND $6::boolean THEN now() ELSE p.finished_at END,
      error = CASE WHEN m.moves THEN $7::jsonb ELSE p.error END,
      updated_at = now()
    FROM (SELECT status NOT IN ('succeeded', 'failed', 'cancelled') AND ($6::boolean OR status = 'queued') AS moves FROM before) m
    WHERE p.id = $1
    RETURNING m.moves
  ), finished_event AS (
    INSERT INTO pipeline_events (pipeline_id, type, data)
    SELECT $1, 'pipeline.finished', jsonb_strip_nulls(jsonb_build_object('status', $5::text, 'error', $7::jsonb))
    FROM moved WHERE moves AND $6::boolean
  )
  SELECT COALESCE((SELECT moves FROM moved), false) AS pipeline_updated,
         (SELECT COALESCE(jsonb_agg(jsonb_build_object('id', id, 'deadlineAt', deadline_at)), '[]'::jsonb) FROM opened) AS opened,
         changed.*
  FROM (SELECT 1) one LEFT JOIN changed ON true`;

interface StageStateRow {
  p_status: PipelineStatus;
  p_cancel_requested: boolean;
  id: string | null;
  key: string | null;
  status: StageStatus | null;
  depends_on: string[] | null;
  continue_on_failure: boolean | null;
  agent: string | null;
  retry_attempts: number | null;
  retry_backoff: unknown;
  category: string | null;
  auto_approve_at: number | null;
  confidence: number | null;
  approved: boolean | null;
  error: { message?: string } | null;
  policy_version: string | null;
  job_id: string | null;
}

interface AppliedRow {
  pipeline_updated: boolean;
  opened: { id: string; deadlineAt: string }[];
  id: string | null;
  key: string | null;
  agent: string | null;
  status: StageStatus | null;
  retry_attempts: number | null;
  retry_backoff: unknown;
}

/** The pipeline's error when it fails: the stages that failed it, and each one's reason. */
function failureRecord(failedStages: string[], rows: readonly StageStateRow[]) {
  const reasons = Object.fromEntries(
    rows.filter((r) => r.key && failedStages.includes(r.key)).map((r) => [r.key!, r.error?.message ?? 'failed']),
  );
  const detail = failedStages.map((key) => `${key} (${reasons[key]})`).join(', ');
  return { code: 'STAGES_FAILED', message: `failed stage(s): ${detail}`, failedStages, reasons };
}

const CANCEL_WAITING_SQL = `
  WITH stages_cancelled AS (
    UPDATE stages SET status = 'cancelled', finished_at = now()
    WHERE pipeline_id = $1 AND status IN ('pending', 'queued', 'waiting')
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

type PipelineWithChildren = Parameters<typeof toPipelineView>[0] & {
  stages: Parameters<typeof toStageView>[0][];
  decisions: Parameters<typeof toDecisionSummary>[0][];
  clarifications: Parameters<typeof toClarificationView>[0][];
};

function children(row: PipelineWithChildren) {
  return {
    stages: row.stages.map(toStageView),
    decisions: row.decisions.map(toDecisionSummary),
    clarifications: row.clarifications.map(toClarificationView),
  };
}

export function createPipelineRepository({ prisma: db, pool }: Database): PipelineRepository {
  async function listOpenDecisions(pipelineId: string): Promise<{ id: string; deadlineAt: Date }[]> {
    const { rows } = await pool.query<{ id: string; deadline_at: Date }>(
      "SELECT id, deadline_at FROM decisions WHERE pipeline_id = $1 AND status IN ('pending', 'escalated')",
      [pipelineId],
    );
    return rows.map((r) => ({ id: r.id, deadlineAt: r.deadline_at }));
  }

  // Prisma reads a row and its relations in separate statements: one snapshot keeps a stage
  // and the decision that holds it consistent (a decision is never shown before its stage waits).
  // An interactive transaction: Prisma runs a batch of one query without any transaction, so
  // `$transaction([query])` gave no snapshot (seen: a pending stage beside the decision holding it).
  const snapshot = <T>(read: (client: Pick<typeof db, 'pipeline'>) => PrismaPromise<T>): Promise<T> =>
    db.$transaction((tx) => read(tx), { isolationLevel: 'RepeatableRead' });
  const withStages = {
    stages: { orderBy: { position: 'asc' } },
    decisions: { orderBy: { createdAt: 'asc' } },
    clarifications: { orderBy: { createdAt: 'asc' } },
  } as const;

  return {
    async createPipeline({
      id,
      definition,
      template,
      idempotencyKey,
      requestHash,
      stageIds,
      policy,
      confidence,
      clarification,
      submitter,
      admission,
    }) {
      // Hand-written: Prisma's createMany spent ~120 ms of CPU on a 500-stage pipeline; one
      // INSERT … SELECT FROM jsonb_to_recordset does it in Postgres.
      const dependants = dependantsByKey(definition.stages);
      // `admitted`: whether the pipeline starts now (always, without limits); decided under the admission lock.
      const stagesFor = (admitted: boolean): StageView[] =>
        definition.stages.map((stage, position) => ({
          id: stageIds[position]!,
          key: stage.key,
          agent: stage.agent,
          dependsOn: stage.dependsOn,
          input: stage.input,
          retry: stage.retry,
          timeoutMs: stage.timeoutMs ?? null,
          continueOnFailure: stage.continueOnFailure,
          gates: policy.stages[position]!.gates,
          category: policy.stages[position]!.category,
          confidence,
          status:
            stage.dependsOn.length === 0
              ? rootStatus(policy.stages[position]!.autoApproveAt, confidence, clarification !== null, admitted)
              : 'pending',
          attempts: 0,
          progress: 0,
          output: null,
          error: null,
          queuedAt: null,
          startedAt: null,
          finishedAt: null,
        }));
      const rowsFor = (stages: StageView[]) =>
        stages.map((stage, position) => ({
          id: stage.id,
          key: stage.key,
          position,
          agent: stage.agent,
          depends_on: stage.dependsOn,
          dependants: dependants.get(stage.key) ?? [],
          status: stage.status,
          gates: stage.gates,
          category: stage.category,
          auto_approve_at: policy.stages[position]!.autoApproveAt,
          confidence,
          input: stage.input,
          retry_attempts: stage.retry.attempts,
          retry_backoff: stage.retry.backoff,
          timeout_ms: stage.timeoutMs,
          continue_on_failure: stage.continueOnFailure,
        }));
      let created: { created_at: Date; updated_at: Date; started_at: Date | null; stages: StageView[]; started: string[] };
      try {
        created = await retryOnDeadlock(() =>
          inTransaction(pool, async (client) => {
            let admitted = true;
            let started: string[] = [];
            if (admission) {
              // Queued pipelines that could start go first (a start lost in a crash is made up
              // here), then this one takes a slot only if one is left.
              await lockAdmission(client);
              started = await startQueuedLocked(client, admission);
              admitted = canStart(admission, await runningLoad(client, admission, [submitter]), submitter);
            }
            const stages = stagesFor(admitted);
            const inserted = await client.query<{ created_at: Date; updated_at: Date; started_at: Date | null }>(
              `INSERT INTO pipelines (id, name, status, template, input, definition, idempotency_key, request_hash, policy_version,
                                    submitter, started_at, updated_at)
             VALUES ($1, $2, $10::"PipelineStatus", $3, $4::jsonb, $5::jsonb, $6, $7, $8, $9,
                     CASE WHEN $10 = 'running' THEN now() END, now())
             RETURNING created_at, updated_at, started_at`,
              [
                id,
                definition.name,
                template,
                JSON.stringify(definition.input),
                JSON.stringify(definition),
                idempotencyKey,
                requestHash,
                policy.version,
                submitter,
                admitted ? 'running' : 'queued',
              ],
            );
            await client.query(INSERT_STAGES_SQL, [id, JSON.stringify(rowsFor(stages))]);
            if (clarification) await insertClarification(client, clarification);
            return { ...inserted.rows[0]!, stages, started };
          }),
        );
      } catch (error) {
        if ((error as { code?: string }).code === UNIQUE_VIOLATION && idempotencyKey) throw new IdempotencyKeyTakenError(idempotencyKey);
        throw error;
      }
      const pipeline: PipelineDetail = {
        id,
        name: definition.name,
        status: created.started_at ? 'running' : 'queued',
        template,
        input: definition.input,
        error: null,
        createdAt: created.created_at,
        updatedAt: created.updated_at,
        startedAt: created.started_at,
        finishedAt: null,
        cancelRequestedAt: null,
        policyVersion: policy.version,
        submitter,
        decisions: [],
        clarifications: clarification ? [toNewClarificationView(clarification, created.created_at)] : [],
        // now() is the transaction's start: the roots were queued at the pipeline's creation.
        stages: created.stages.map((stage) => (stage.status === 'queued' ? { ...stage, queuedAt: created.created_at } : stage)),
      };
      return { pipeline, started: created.started };
    },

    async countQueued() {
      const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM pipelines WHERE status = 'queued'");
      return rows[0]!.n;
    },

    async startQueued(limits) {
      // The common case (nothing waits) costs one index probe and takes no lock.
      const { rows } = await pool.query<{ waiting: boolean }>(
        "SELECT EXISTS (SELECT 1 FROM pipelines WHERE status = 'queued' AND cancel_requested_at IS NULL) AS waiting",
      );
      if (!rows[0]!.waiting) return [];
      return retryOnDeadlock(() =>
        inTransaction(pool, async (client) => {
          await lockAdmission(client);
          return startQueuedLocked(client, limits);
        }),
      );
    },

    async findByIdempotencyKey(submitter, key) {
      const row = await snapshot((client) =>
        client.pipeline.findUnique({ where: { submitter_idempotencyKey: { submitter, idempotencyKey: key } }, include: withStages }),
      );
      if (!row) return null;
      return { ...toPipelineView(row), ...children(row), requestHash: row.requestHash };
    },

    async getPipeline(id, options = {}) {
      const { stageLimit } = options;
      const include = stageLimit === undefined ? withStages : { ...withStages, stages: { ...withStages.stages, take: stageLimit } };
      const row = await snapshot((client) => client.pipeline.findUnique({ where: { id }, include }));
      return row ? { ...toPipelineView(row), ...children(row) } : null;
    },

    async listStages(pipelineId, { from, limit }) {
      const rows = await db.stage.findMany({ where: { pipelineId, position: { gte: from } }, orderBy: { position: 'asc' }, take: limit });
      if (rows.length > 0) return rows.map(toStageView);
      // An empty page past the end, or no such pipeline.
      const exists = await db.pipeline.findUnique({ where: { id: pipelineId }, select: { id: true } });
      return exists ? [] : null;
    },

    async listPipelines({ status, name, limit, cursor }) {
      const rows = await db.pipeline.findMany({
        where: {
          ...(status ? { status } : {}),
          ...(name ? { name } : {}),
          ...beforeCursor(cursor),
        },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: limit,
      });
      return rows.map(toPipelineView);
    },

    async listRuns(pipelineId) {
      // Finished attempts have their StageRun row; one in flight lives on its stage row until
      // it ends (see stage-run.repository.ts), so it is listed from there.
      const [finished, inFlight] = await Promise.all([
        db.stageRun.findMany({ where: { pipelineId }, include: { stage: { select: { key: true } } } }),
        db.stage.findMany({ where: { pipelineId, status: 'running' } }),
      ]);
      const gates = await db.gateResult.findMany({ where: { pipelineId }, orderBy: { id: 'asc' } });
      const runs = [
        ...finished.map((run) =>
          toStageRunView(
            run,
            gates.filter((g) => g.runId === run.id),
          ),
        ),
        ...inFlight.filter((s) => s.currentRunId && s.runStartedAt).map(toRunningView),
      ];
      return runs.sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime() || a.attempt - b.attempt);
    },

    async requestCancel(id) {
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
          const updated = await client.query<{ status: PipelineStatus }>(
            'UPDATE pipelines SET cancel_requested_at = COALESCE(cancel_requested_at, now()), updated_at = now() WHERE id = $1 RETURNING status',
            [id],
          );
          // A fresh statement (a fresh snapshot): a stage claimed while the UPDATE above waited
          // for its row is seen running here, so it gets its abort.
          const running = await client.query<{ job_id: string }>(
            "SELECT COALESCE(job_id, id::text) AS job_id FROM stages WHERE pipeline_id = $1 AND status = 'running'",
            [id],
          );
          return { status: updated.rows[0]!.status, runningJobIds: running.rows.map((r) => r.job_id) };
        }),
      );
    },

    async advance(pipelineId, plan, options = {}) {
      // Optimistic, two round trips and no explicit transaction: read the state, then one
      // statement applies the plan with every write guarded by the state it expects (a stage
      // is only queued, skipped or held while pending, a pipeline only finishes once). Two
      // advances racing on one pipeline (rare: control messages coalesce) therefore apply each
      // effect once, and a completion committed before its control message is always seen.
      const { rows } = await pool.query<StageStateRow>({
        name: 'pipeline_state',
        text: `SELECT p.status AS p_status, p.cancel_requested_at IS NOT NULL AS p_cancel_requested, p.policy_version,
                s.id, s.key, s.status, s.depends_on, s.continue_on_failure, s.agent, s.retry_attempts, s.retry_backoff,
                s.category, s.auto_approve_at, s.confidence, s.approved_at IS NOT NULL AS approved, s.error, s.job_id
         FROM pipelines p LEFT JOIN stages s ON s.pipeline_id = p.id
         WHERE p.id = $1`,
        values: [pipelineId],
      });
      if (rows.length === 0) return null;
      const pipelineStatus = rows[0]!.p_status;
      const openDecisions = options.redispatchQueued ? await listOpenDecisions(pipelineId) : [];
      if (TERMINAL_PIPELINE_STATUSES.has(pipelineStatus)) {
        return { pipelineId, status: pipelineStatus, dispatched: [], skipped: [], cancelled: [], finished: false, decisions: [] };
      }
      // Admission control keeps a queued pipeline's stages from starting (an answered
      // clarification or a replayed POST asks for an advance too); only a cancel closes it.
      if (pipelineStatus === 'queued' && !rows[0]!.p_cancel_requested) {
        return { pipelineId, status: pipelineStatus, dispatched: [], skipped: [], cancelled: [], finished: false, decisions: [] };
      }
      const stages: PolicyStage[] = rows
        .filter((r) => r.id !== null)
        .map((r) => ({
          key: r.key!,
          status: r.status!,
          dependsOn: r.depends_on ?? [],
          continueOnFailure: r.continue_on_failure ?? false,
          category: toCategory(r.category),
          autoApproveAt: r.auto_approve_at,
          confidence: r.confidence,
          approved: r.approved ?? false,
        }));
      const decision = plan(stages, { cancelRequested: rows[0]!.p_cancel_requested, policyVersion: rows[0]!.policy_version });
      const idByKey = new Map(rows.map((r) => [r.key, r.id]));
      const ids = (keys: string[]) => keys.map((k) => idByKey.get(k)!);
      const finishing = decision.status !== 'running';
      const alreadyQueued = options.redispatchQueued ? rows.filter((r) => r.status === 'queued').map(toDispatched) : [];
      if (
        decision.dispatch.length + decision.skip.length + decision.cancel.length + decision.hold.length === 0 &&
        !finishing &&
        pipelineStatus !== 'queued'
      ) {
        return {
          pipelineId,
          status: pipelineStatus,
          dispatched: alreadyQueued,
          skipped: [],
          cancelled: [],
          finished: false,
          decisions: openDecisions,
        };
      }
      const error = decision.status === 'failed' ? failureRecord(decision.failedStages, rows) : null;
      const holds = decision.hold.map(({ key, deadlineMs, onDeadline, ...rest }) => ({
        ...rest,
        stage_id: idByKey.get(key),
        deadline_ms: deadlineMs,
        on_deadline: onDeadline,
      }));

      const { rows: applied } = await retryOnDeadlock(() =>
        pool.query<AppliedRow>({
          name: 'pipeline_apply_plan',
          text: APPLY_PLAN_SQL,
          values: [
            pipelineId,
            ids(decision.dispatch),
            ids(decision.skip),
            ids(decision.cancel),
            decision.status,
            finishing,
            error && JSON.stringify(error),
            ids(decision.hold.map((h) => h.key)),
            JSON.stringify(holds),
            decision.policyVersion,
            rows[0]!.policy_version,
          ],
        }),
      );
      const changed = applied.filter((r): r is AppliedRow & { id: string } => r.id !== null);
      const pipelineMoved = applied[0]?.pipeline_updated === true;
      const opened = (applied[0]?.opened ?? []).map((d) => ({ id: d.id, deadlineAt: new Date(d.deadlineAt) }));
      return {
        pipelineId,
        status: pipelineMoved ? decision.status : pipelineStatus === 'queued' ? 'running' : pipelineStatus,
        dispatched: [...alreadyQueued, ...changed.filter((r) => r.status === 'queued').map(toDispatched)],
        skipped: changed.filter((r) => r.status === 'skipped').map((r) => r.key!),
        cancelled: changed.filter((r) => r.status === 'cancelled').map((r) => r.key!),
        // Only the call whose guarded update moved the pipeline reports the finish.
        finished: finishing && pipelineMoved,
        decisions: [...openDecisions, ...opened],
      };
    },
  };
}
