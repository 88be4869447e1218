// Pipelines and stages in Postgres. `advance` is the conductor's step: one round trip reads
// the pipeline's stages, one guarded statement applies the plan.
import { TERMINAL_PIPELINE_STATUSES, type PipelineStatus, type PlanStage, type StageStatus } from '../../domain/planner.js';
import { dependantsByKey } from '../../domain/dag.js';
import type { PipelineRepository, StageView } from '../../services/ports.js';
import { IdempotencyKeyTakenError } from '../../services/pipeline.service.js';
import { toDispatched, toPipelineView, toRunningView, toStageRunView, toStageView } from './mappers.js';
import { inTransaction, retryOnDeadlock, type Database } from './database.js';

const UNIQUE_VIOLATION = '23505';

const INSERT_STAGES_SQL = `
  INSERT INTO stages (id, pipeline_id, key, position, agent, depends_on, dependants, waiting_on, status, queued_at, input,
                      retry_attempts, retry_backoff, timeout_ms, continue_on_failure)
  SELECT r.id, $1, r.key, r.position, r.agent,
         ARRAY(SELECT jsonb_array_elements_text(r.depends_on)), ARRAY(SELECT jsonb_array_elements_text(r.dependants)),
         jsonb_array_length(r.depends_on),
         -- Roots are queued as they are created: the pipeline starts without a conductor step.
         (CASE WHEN jsonb_array_length(r.depends_on) = 0 THEN 'queued' ELSE 'pending' END)::"StageStatus",
         CASE WHEN jsonb_array_length(r.depends_on) = 0 THEN now() END,
         r.input, r.retry_attempts, r.retry_backoff, r.timeout_ms, r.continue_on_failure
  FROM jsonb_to_recordset($2::jsonb) AS r(id uuid, key text, position int, agent text, depends_on jsonb, dependants jsonb,
                                            input jsonb, retry_attempts int, retry_backoff jsonb, timeout_ms int,
                                            continue_on_failure boolean)`;

// $1 pipeline, $2 ids to queue, $3 ids to skip, $4 ids to cancel, $5 pipeline status, $6 finishing,
// $7 the pipeline's error when it fails.
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
      AND (status = 'pending' OR (status = 'queued' AND id = ANY($4::uuid[])))
    RETURNING id, key, agent, status, retry_attempts, retry_backoff
  ), before AS (
    SELECT status FROM pipelines WHERE id = $1 FOR UPDATE
  ), moved AS (
    -- Moves the status only if no one else did, so exactly one advance reports the finish.
    UPDATE pipelines p SET
      status = CASE WHEN m.moves THEN $5::"PipelineStatus" ELSE p.status END,
      started_at = CASE WHEN m.moves THEN COALESCE(p.started_at, now()) ELSE p.started_at END,
      finished_at = CASE WHEN m.moves AND $6::boolean THEN now() ELSE p.finished_at END,
      error = CASE WHEN m.moves THEN $7::jsonb ELSE p.error END,
      updated_at = now()
    FROM (SELECT status NOT IN ('succeeded', 'failed', 'cancelled') AND ($6::boolean OR status = 'queued') AS moves FROM before) m
    WHERE p.id = $1
    RETURNING m.moves
  )
  SELECT COALESCE((SELECT moves FROM moved), false) AS pipeline_updated, changed.*
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
}

interface AppliedRow {
  pipeline_updated: boolean;
  id: string | null;
  key: string | null;
  agent: string | null;
  status: StageStatus | null;
  retry_attempts: number | null;
  retry_backoff: unknown;
}

export function createPipelineRepository({ prisma: db, pool }: Database): PipelineRepository {
  const withStages = { stages: { orderBy: { position: 'asc' } } } as const;

  return {
    async createPipeline({ id, definition, template, idempotencyKey, requestHash, stageIds }) {
      // Hand-written: Prisma's createMany spent ~120 ms of CPU on a 500-stage pipeline; one
      // INSERT … SELECT FROM jsonb_to_recordset does it in Postgres.
      const dependants = dependantsByKey(definition.stages);
      const stages: StageView[] = definition.stages.map((stage, position) => ({
        id: stageIds[position]!,
        key: stage.key,
        agent: stage.agent,
        dependsOn: stage.dependsOn,
        input: stage.input,
        retry: stage.retry,
        timeoutMs: stage.timeoutMs ?? null,
        continueOnFailure: stage.continueOnFailure,
        status: stage.dependsOn.length === 0 ? 'queued' : 'pending',
        attempts: 0,
        progress: 0,
        output: null,
        error: null,
        queuedAt: null,
        startedAt: null,
        finishedAt: null,
      }));
      const rows = stages.map((stage, position) => ({
        id: stage.id,
        key: stage.key,
        position,
        agent: stage.agent,
        depends_on: stage.dependsOn,
        dependants: dependants.get(stage.key) ?? [],
        input: stage.input,
        retry_attempts: stage.retry.attempts,
        retry_backoff: stage.retry.backoff,
        timeout_ms: stage.timeoutMs,
        continue_on_failure: stage.continueOnFailure,
      }));
      let created: { created_at: Date; updated_at: Date; started_at: Date };
      try {
        created = await inTransaction(pool, async (client) => {
          const inserted = await client.query<{ created_at: Date; updated_at: Date; started_at: Date }>(
            `INSERT INTO pipelines (id, name, status, template, input, definition, idempotency_key, request_hash, started_at, updated_at)
             VALUES ($1, $2, 'running', $3, $4::jsonb, $5::jsonb, $6, $7, now(), now())
             RETURNING created_at, updated_at, started_at`,
            [id, definition.name, template, JSON.stringify(definition.input), JSON.stringify(definition), idempotencyKey, requestHash],
          );
          await client.query(INSERT_STAGES_SQL, [id, JSON.stringify(rows)]);
          return inserted.rows[0]!;
        });
      } catch (error) {
        if ((error as { code?: string }).code === UNIQUE_VIOLATION && idempotencyKey) throw new IdempotencyKeyTakenError(idempotencyKey);
        throw error;
      }
      return {
        id,
        name: definition.name,
        status: 'running',
        template,
        input: definition.input,
        error: null,
        createdAt: created.created_at,
        updatedAt: created.updated_at,
        startedAt: created.started_at,
        finishedAt: null,
        cancelRequestedAt: null,
        // now() is the transaction's start: the roots were queued at the pipeline's creation.
        stages: stages.map((stage) => (stage.status === 'queued' ? { ...stage, queuedAt: created.created_at } : stage)),
      };
    },

    async findByIdempotencyKey(key) {
      const row = await db.pipeline.findUnique({ where: { idempotencyKey: key }, include: withStages });
      if (!row) return null;
      return { ...toPipelineView(row), stages: row.stages.map(toStageView), requestHash: row.requestHash };
    },

    async getPipeline(id) {
      const row = await db.pipeline.findUnique({ where: { id }, include: withStages });
      return row ? { ...toPipelineView(row), stages: row.stages.map(toStageView) } : null;
    },

    async listPipelines({ status, name, limit, cursor }) {
      const rows = await db.pipeline.findMany({
        where: {
          ...(status ? { status } : {}),
          ...(name ? { name } : {}),
          ...(cursor
            ? { OR: [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { lt: cursor.id } }] }
            : {}),
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
      const runs = [...finished.map(toStageRunView), ...inFlight.filter((s) => s.currentRunId && s.runStartedAt).map(toRunningView)];
      return runs.sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime() || a.attempt - b.attempt);
    },

    async requestCancel(id) {
      // Stages first, then the pipeline row: the order a finishing stage takes its locks in.
      return retryOnDeadlock(() =>
        inTransaction(pool, async (client) => {
          const found = await client.query<{ status: PipelineStatus }>('SELECT status FROM pipelines WHERE id = $1', [id]);
          const pipeline = found.rows[0];
          if (!pipeline) return null;
          if (TERMINAL_PIPELINE_STATUSES.has(pipeline.status)) return { status: pipeline.status, runningStageIds: [] };
          // Waiting stages are cancelled here, so a queued job finds nothing to claim.
          await client.query(
            "UPDATE stages SET status = 'cancelled', finished_at = now() WHERE pipeline_id = $1 AND status IN ('pending', 'queued')",
            [id],
          );
          const updated = await client.query<{ status: PipelineStatus }>(
            'UPDATE pipelines SET cancel_requested_at = COALESCE(cancel_requested_at, now()), updated_at = now() WHERE id = $1 RETURNING status',
            [id],
          );
          // A fresh statement (a fresh snapshot): a stage claimed while the UPDATE above waited
          // for its row is seen running here, so it gets its abort.
          const running = await client.query<{ id: string }>("SELECT id FROM stages WHERE pipeline_id = $1 AND status = 'running'", [id]);
          return { status: updated.rows[0]!.status, runningStageIds: running.rows.map((r) => r.id) };
        }),
      );
    },

    async advance(pipelineId, plan, options = {}) {
      // Optimistic, two round trips and no explicit transaction: read the state, then one
      // statement applies the plan with every write guarded by the state it expects (a stage
      // is only queued or skipped while pending, a pipeline only finishes once). Two advances
      // racing on one pipeline (rare: control messages coalesce) therefore apply each effect
      // once, and a completion committed before its control message is always seen.
      const { rows } = await pool.query<StageStateRow>({
        name: 'pipeline_state',
        text: `SELECT p.status AS p_status, p.cancel_requested_at IS NOT NULL AS p_cancel_requested,
                s.id, s.key, s.status, s.depends_on, s.continue_on_failure, s.agent, s.retry_attempts, s.retry_backoff
         FROM pipelines p LEFT JOIN stages s ON s.pipeline_id = p.id
         WHERE p.id = $1`,
        values: [pipelineId],
      });
      if (rows.length === 0) return null;
      const pipelineStatus = rows[0]!.p_status;
      if (TERMINAL_PIPELINE_STATUSES.has(pipelineStatus)) {
        return { pipelineId, status: pipelineStatus, dispatched: [], skipped: [], cancelled: [], finished: false };
      }
      const stages: PlanStage[] = rows
        .filter((r) => r.id !== null)
        .map((r) => ({ key: r.key!, status: r.status!, dependsOn: r.depends_on ?? [], continueOnFailure: r.continue_on_failure ?? false }));
      const decision = plan(stages, rows[0]!.p_cancel_requested);
      const idByKey = new Map(rows.map((r) => [r.key, r.id]));
      const ids = (keys: string[]) => keys.map((k) => idByKey.get(k)!);
      const finishing = decision.status !== 'running';
      const alreadyQueued = options.redispatchQueued ? rows.filter((r) => r.status === 'queued').map(toDispatched) : [];
      if (decision.dispatch.length + decision.skip.length + decision.cancel.length === 0 && !finishing && pipelineStatus !== 'queued') {
        return { pipelineId, status: pipelineStatus, dispatched: alreadyQueued, skipped: [], cancelled: [], finished: false };
      }
      const error = decision.status === 'failed' ? { code: 'STAGES_FAILED', message: `failed stage(s): ${decision.failedStages.join(', ')}`, failedStages: decision.failedStages } : null;

      const { rows: applied } = await retryOnDeadlock(() => pool.query<AppliedRow>({
        name: 'pipeline_apply_plan',
        text: APPLY_PLAN_SQL,
        values: [pipelineId, ids(decision.dispatch), ids(decision.skip), ids(decision.cancel), decision.status, finishing, error && JSON.stringify(error)],
      }));
      const changed = applied.filter((r): r is AppliedRow & { id: string } => r.id !== null);
      const pipelineMoved = applied[0]?.pipeline_updated === true;
      return {
        pipelineId,
        status: pipelineMoved ? decision.status : pipelineStatus === 'queued' ? 'running' : pipelineStatus,
        dispatched: [...alreadyQueued, ...changed.filter((r) => r.status === 'queued').map(toDispatched)],
        skipped: changed.filter((r) => r.status === 'skipped').map((r) => r.key!),
        cancelled: changed.filter((r) => r.status === 'cancelled').map((r) => r.key!),
        // Only the call whose guarded update moved the pipeline reports the finish.
        finished: finishing && pipelineMoved,
      };
    },
  };
}
