// Pipelines and stages in Postgres. `advance` is the conductor's step: one round trip reads
// the pipeline's stages, one guarded statement applies the plan.
import { Prisma } from '../../generated/prisma/client.js';
import { TERMINAL_PIPELINE_STATUSES, type PipelineStatus, type PlanStage, type StageStatus } from '../../domain/planner.js';
import { retrySchema } from '../../domain/pipeline-definition.js';
import type { DispatchedStage, PipelineRepository } from '../../services/ports.js';
import { IdempotencyKeyTakenError } from '../../services/pipeline.service.js';
import { toPipelineView, toStageRunView, toStageView } from './mappers.js';
import { inTransaction, type Database } from './database.js';

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
  ), moved AS (
    UPDATE pipelines SET status = $5::"PipelineStatus", started_at = COALESCE(started_at, now()),
           finished_at = CASE WHEN $6::boolean THEN now() ELSE NULL END, error = $7::jsonb, updated_at = now()
    WHERE id = $1 AND status NOT IN ('succeeded', 'failed', 'cancelled') AND ($6::boolean OR status = 'queued')
    RETURNING id
  )
  SELECT EXISTS (SELECT 1 FROM moved) AS pipeline_updated, changed.*
  FROM (SELECT 1) one LEFT JOIN changed ON true`;

function toDispatched(row: { id: string | null; key: string | null; agent: string | null; retry_attempts: number | null; retry_backoff: unknown }): DispatchedStage {
  return { id: row.id!, key: row.key!, agent: row.agent!, retry: retrySchema.parse({ attempts: row.retry_attempts, backoff: row.retry_backoff }) };
}

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
      try {
        await db.$transaction([
          db.pipeline.create({
            data: {
              id,
              name: definition.name,
              template,
              input: definition.input,
              definition: definition as unknown as Prisma.InputJsonObject,
              idempotencyKey,
              requestHash,
            },
          }),
          db.stage.createMany({
            data: definition.stages.map((stage, position) => ({
              id: stageIds[position]!,
              pipelineId: id,
              key: stage.key,
              position,
              agent: stage.agent,
              dependsOn: stage.dependsOn,
              input: stage.input,
              retryAttempts: stage.retry.attempts,
              retryBackoff: stage.retry.backoff,
              timeoutMs: stage.timeoutMs ?? null,
              continueOnFailure: stage.continueOnFailure,
            })),
          }),
        ]);
      } catch (error) {
        if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002' && idempotencyKey) {
          throw new IdempotencyKeyTakenError(idempotencyKey);
        }
        throw error;
      }
      const created = await db.pipeline.findUniqueOrThrow({ where: { id }, include: withStages });
      return { ...toPipelineView(created), stages: created.stages.map(toStageView) };
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
      const rows = await db.stageRun.findMany({
        where: { pipelineId },
        include: { stage: { select: { key: true } } },
        orderBy: [{ startedAt: 'asc' }, { attempt: 'asc' }],
      });
      return rows.map(toStageRunView);
    },

    async requestCancel(id) {
      return inTransaction(pool, async (client) => {
        const locked = await client.query<{ status: PipelineStatus }>('SELECT status FROM pipelines WHERE id = $1 FOR UPDATE', [id]);
        const pipeline = locked.rows[0];
        if (!pipeline) return null;
        if (TERMINAL_PIPELINE_STATUSES.has(pipeline.status)) return { status: pipeline.status, runningStageIds: [] };
        await client.query(
          'UPDATE pipelines SET cancel_requested_at = COALESCE(cancel_requested_at, now()), updated_at = now() WHERE id = $1',
          [id],
        );
        // Waiting stages are cancelled here, so a queued job finds nothing to claim. A claim
        // racing with this update wins its row first; the SELECT below is a separate statement
        // (a fresh snapshot) so it sees that stage as running and it gets its abort.
        await client.query(
          "UPDATE stages SET status = 'cancelled', finished_at = now() WHERE pipeline_id = $1 AND status IN ('pending', 'queued')",
          [id],
        );
        const running = await client.query<{ id: string }>("SELECT id FROM stages WHERE pipeline_id = $1 AND status = 'running'", [id]);
        return { status: pipeline.status, runningStageIds: running.rows.map((r) => r.id) };
      });
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

      const { rows: applied } = await pool.query<AppliedRow>({
        name: 'pipeline_apply_plan',
        text: APPLY_PLAN_SQL,
        values: [pipelineId, ids(decision.dispatch), ids(decision.skip), ids(decision.cancel), decision.status, finishing, error && JSON.stringify(error)],
      });
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
