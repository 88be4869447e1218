// Reading pipelines: one pipeline with its stages, decisions and clarifications (one snapshot),
// stage pages and the runs of a pipeline (lists: pipeline-list.repository.ts).
import type { PrismaPromise } from '../../generated/prisma/internal/prismaNamespace.js';
import type { PipelineRepository } from '../../services/pipeline.ports.js';
import type { RerunLink } from '../../services/rerun.ports.js';
import { toClarificationView, toDecisionSummary, toPipelineView, toRunningView, toStageRunView, toStageView } from './mappers.js';
import type { Database } from './database.js';

type PipelineWithChildren = Parameters<typeof toPipelineView>[0] & {
  stages: Parameters<typeof toStageView>[0][];
  decisions: Parameters<typeof toDecisionSummary>[0][];
  clarifications: Parameters<typeof toClarificationView>[0][];
};

type RerunLinkRow = { id: string; status: RerunLink['status']; createdAt: Date };

/** `reruns`: the pipelines whose rerun_of is this one (read in the same snapshot). */
function children(row: PipelineWithChildren & { rerunOf: string | null; rerunFrom: string[] }, reruns: RerunLinkRow[]) {
  return {
    stages: row.stages.map(toStageView),
    decisions: row.decisions.map(toDecisionSummary),
    clarifications: row.clarifications.map(toClarificationView),
    rerunOf: row.rerunOf,
    rerunFrom: row.rerunFrom,
    reruns: reruns.map(({ id, status, createdAt }) => ({ id, status, createdAt })),
  };
}

export function createPipelineReader({
  prisma: db,
  pool,
}: Database): Pick<PipelineRepository, 'findByIdempotencyKey' | 'getPipeline' | 'listStages' | 'listRuns'> {
  // Prisma reads a row and its relations in separate statements: one snapshot keeps a stage
  // and the decision that holds it consistent (a decision is never shown before its stage waits).
  // An interactive transaction: Prisma runs a batch of one query without any transaction, so
  // `$transaction([query])` gave no snapshot (seen: a pending stage beside the decision holding it).
  const snapshot = <T>(read: (client: Pick<typeof db, 'pipeline'>) => PrismaPromise<T>): Promise<T> =>
    db.$transaction((tx) => read(tx), { isolationLevel: 'RepeatableRead' });
  // The re-runs of a pipeline (pipelines.rerun_of, indexed), oldest first, in the same snapshot.
  const rerunsOf = (client: Pick<typeof db, 'pipeline'>, id: string) =>
    client.pipeline.findMany({
      where: { rerunOf: id },
      select: { id: true, status: true, createdAt: true },
      orderBy: { createdAt: 'asc' },
    });
  const withStages = {
    stages: { orderBy: { position: 'asc' } },
    decisions: { orderBy: { createdAt: 'asc' } },
    clarifications: { orderBy: { createdAt: 'asc' } },
  } as const;

  return {
    async findByIdempotencyKey(submitter, key) {
      // Every submission with a key asks, and almost every answer is "none": one indexed probe
      // on the pool answers that, where Prisma's snapshot (a transaction, its query compiled per
      // call) cost ~5 ms of CPU per request. Only a replay reads the whole pipeline.
      const probe = await pool.query<{ id: string }>({
        name: 'pipeline_by_idempotency_key',
        text: 'SELECT id FROM pipelines WHERE submitter = $1 AND idempotency_key = $2',
        values: [submitter, key],
      });
      const id = probe.rows[0]?.id;
      if (id === undefined) return null;
      const row = await snapshot((client) => client.pipeline.findUnique({ where: { id }, include: withStages }));
      if (!row) return null;
      return { ...toPipelineView(row), ...children(row, []), requestHash: row.requestHash };
    },

    async getPipeline(id, options = {}) {
      const { stageLimit } = options;
      const include = stageLimit === undefined ? withStages : { ...withStages, stages: { ...withStages.stages, take: stageLimit } };
      const [row, reruns] = await db.$transaction(
        async (tx) => [await tx.pipeline.findUnique({ where: { id }, include }), await rerunsOf(tx, id)] as const,
        { isolationLevel: 'RepeatableRead' },
      );
      return row ? { ...toPipelineView(row), ...children(row, reruns) } : null;
    },

    async listStages(pipelineId, { from, limit }) {
      const rows = await db.stage.findMany({ where: { pipelineId, position: { gte: from } }, orderBy: { position: 'asc' }, take: limit });
      if (rows.length > 0) return rows.map(toStageView);
      // An empty page past the end, or no such pipeline.
      const exists = await db.pipeline.findUnique({ where: { id: pipelineId }, select: { id: true } });
      return exists ? [] : null;
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
  };
}
