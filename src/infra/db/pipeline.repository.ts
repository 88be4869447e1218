// Pipelines and stages in Postgres. `advance` is the conductor's critical section: one round
// trip locks the pipeline and reads its stages, one statement applies the plan.
import { Prisma } from '../../generated/prisma/client.js';
import { TERMINAL_PIPELINE_STATUSES, type PipelineStatus, type PlanStage, type StageStatus } from '../../domain/planner.js';
import { retrySchema } from '../../domain/pipeline-definition.js';
import type { DispatchedStage, PipelineRepository } from '../../services/ports.js';
import { IdempotencyKeyTakenError } from '../../services/pipeline.service.js';
import { toPipelineView, toStageRunView, toStageView } from './mappers.js';
import type { Db } from './prisma-client.js';

interface LockedStageRow {
  p_status: PipelineStatus;
  p_cancel_requested: boolean;
  id: string | null;
  key: string | null;
  status: StageStatus | null;
  depends_on: string[] | null;
  continue_on_failure: boolean | null;
}

interface AppliedRow {
  id: string;
  key: string;
  agent: string;
  status: StageStatus;
  retry_attempts: number;
  retry_backoff: unknown;
}

export function createPipelineRepository(db: Db): PipelineRepository {
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
      return db.$transaction(async (tx) => {
        const [pipeline] = await tx.$queryRaw<Array<{ status: PipelineStatus }>>`
          SELECT status FROM pipelines WHERE id = ${id}::uuid FOR UPDATE`;
        if (!pipeline) return null;
        if (TERMINAL_PIPELINE_STATUSES.has(pipeline.status)) return { status: pipeline.status, runningStageIds: [] };
        await tx.$executeRaw`
          UPDATE pipelines SET cancel_requested_at = COALESCE(cancel_requested_at, now()), updated_at = now()
          WHERE id = ${id}::uuid`;
        // Waiting stages are cancelled here, so a queued job finds nothing to claim.
        await tx.$executeRaw`
          UPDATE stages SET status = 'cancelled', finished_at = now()
          WHERE pipeline_id = ${id}::uuid AND status IN ('pending', 'queued')`;
        const running = await tx.$queryRaw<Array<{ id: string }>>`
          SELECT id FROM stages WHERE pipeline_id = ${id}::uuid AND status = 'running'`;
        return { status: pipeline.status, runningStageIds: running.map((r) => r.id) };
      });
    },

    async advance(pipelineId, plan) {
      return db.$transaction(async (tx) => {
        const rows = await tx.$queryRaw<LockedStageRow[]>`
          WITH p AS (
            SELECT id, status, cancel_requested_at IS NOT NULL AS cancel_requested
            FROM pipelines WHERE id = ${pipelineId}::uuid FOR UPDATE
          )
          SELECT p.status AS p_status, p.cancel_requested AS p_cancel_requested,
                 s.id, s.key, s.status, s.depends_on, s.continue_on_failure
          FROM p LEFT JOIN stages s ON s.pipeline_id = p.id
          ORDER BY s.position`;
        if (rows.length === 0) return null;
        const pipelineStatus = rows[0]!.p_status;
        const empty = { pipelineId, status: pipelineStatus, dispatched: [], skipped: [], cancelled: [], finished: false };
        if (TERMINAL_PIPELINE_STATUSES.has(pipelineStatus)) return empty;

        const stages: PlanStage[] = rows
          .filter((r) => r.id !== null)
          .map((r) => ({ key: r.key!, status: r.status!, dependsOn: r.depends_on ?? [], continueOnFailure: r.continue_on_failure ?? false }));
        const decision = plan(stages, rows[0]!.p_cancel_requested);
        const idByKey = new Map(rows.map((r) => [r.key, r.id]));
        const ids = (keys: string[]) => keys.map((k) => idByKey.get(k)!);

        let applied: AppliedRow[] = [];
        const touched = decision.dispatch.length + decision.skip.length + decision.cancel.length;
        if (touched > 0) {
          applied = await tx.$queryRaw<AppliedRow[]>`
            UPDATE stages SET
              status = (CASE WHEN id = ANY(${ids(decision.dispatch)}::uuid[]) THEN 'queued'
                             WHEN id = ANY(${ids(decision.skip)}::uuid[]) THEN 'skipped'
                             ELSE 'cancelled' END)::"StageStatus",
              queued_at = CASE WHEN id = ANY(${ids(decision.dispatch)}::uuid[]) THEN now() ELSE queued_at END,
              finished_at = CASE WHEN id = ANY(${ids(decision.dispatch)}::uuid[]) THEN finished_at ELSE now() END
            WHERE pipeline_id = ${pipelineId}::uuid
              AND id = ANY(${ids([...decision.dispatch, ...decision.skip, ...decision.cancel])}::uuid[])
              AND (status = 'pending' OR (status = 'queued' AND id = ANY(${ids(decision.cancel)}::uuid[])))
            RETURNING id, key, agent, status, retry_attempts, retry_backoff`;
        }

        const finished = decision.status !== 'running';
        if (finished || pipelineStatus === 'queued') {
          await tx.$executeRaw`
            UPDATE pipelines SET status = ${decision.status}::"PipelineStatus",
              started_at = COALESCE(started_at, now()),
              finished_at = CASE WHEN ${finished} THEN now() ELSE NULL END,
              updated_at = now()
            WHERE id = ${pipelineId}::uuid`;
        }
        const dispatched: DispatchedStage[] = applied
          .filter((r) => r.status === 'queued')
          .map((r) => ({ id: r.id, key: r.key, agent: r.agent, retry: retrySchema.parse({ attempts: r.retry_attempts, backoff: r.retry_backoff }) }));
        return {
          pipelineId,
          status: decision.status,
          dispatched,
          skipped: applied.filter((r) => r.status === 'skipped').map((r) => r.key),
          cancelled: applied.filter((r) => r.status === 'cancelled').map((r) => r.key),
          finished,
        };
      });
    },
  };
}
