// Old finished pipelines out of Postgres, for `pipelines prune`: the candidates (keyset pages,
// oldest first), the rows they hold, and the batch deletion, which locks, checks again, archives,
// deletes every row of the pipeline children first, and audits, in one transaction.
//
// "Finished" is the domain's: the terminal pipeline statuses (terminalPipelineGuard, from
// TERMINAL_PIPELINE_STATUSES) and no stage in a status that may still change
// (PRUNE_BLOCKING_STAGE_STATUSES). The audit events are written by the deleting transaction itself,
// not after it as other changes are: a deletion must never commit without its record.
import type pg from 'pg';
import { PRUNE_BLOCKING_STAGE_STATUSES } from '../../domain/pipeline-prune.js';
import type { PipelineStatus } from '../../domain/status.js';
import type {
  ArchivedPipeline,
  PipelinePruneStore,
  PruneCandidate,
  PrunedRows,
  PrunedTable,
  PruneSelection,
} from '../../services/pipeline-prune.ports.js';
import { inTransaction, retryOnDeadlock, type Database } from './database.js';
import { terminalPipelineGuard } from './lifecycle-sql.js';
import { loadSql } from './sql/load.js';

const ARCHIVE_SQL = loadSql('pipeline-archive.sql');

/**
 * The selection, on `pipelines p`: $1 statuses, $2 cutoff, $3 the stage statuses that block.
 * created_at < cutoff is implied by finished before it, and lets the planner use the
 * (created_at, id) index the keyset pages walk.
 */
const SELECTED = `
  ${terminalPipelineGuard('p.status')}
  AND p.status = ANY($1::"PipelineStatus"[])
  AND p.created_at < $2 AND COALESCE(p.finished_at, p.updated_at) < $2
  AND NOT EXISTS (SELECT 1 FROM stages s WHERE s.pipeline_id = p.id AND s.status = ANY($3::"StageStatus"[]))`;

const CANDIDATES_SQL = `
  SELECT p.id::text AS id, p.status::text AS status, p.created_at
  FROM pipelines p
  WHERE ${SELECTED} AND (p.created_at, p.id) > ($4::timestamptz, $5::uuid)
  ORDER BY p.created_at, p.id
  LIMIT $6`;

/** Stages first, in id order, as the finish, the cancel and the replay lock them: no deadlock with those. */
const LOCK_STAGES_SQL = 'SELECT 1 FROM stages WHERE pipeline_id = ANY($1::uuid[]) ORDER BY id FOR UPDATE';
const LOCK_PIPELINES_SQL = `
  SELECT p.id::text AS id, p.status::text AS status
  FROM pipelines p
  WHERE ${SELECTED} AND p.id = ANY($4::uuid[])
  ORDER BY p.id
  FOR UPDATE OF p`;

/** Which rows of each table belong to the pipelines $1, as the deletes and the counts find them. */
const ROWS_OF: Record<PrunedTable, string> = {
  stage_logs: 'stage_logs WHERE stage_id IN (SELECT id FROM stages WHERE pipeline_id = ANY($1::uuid[]))',
  shadow_runs: 'shadow_runs WHERE run_id IN (SELECT id FROM stage_runs WHERE pipeline_id = ANY($1::uuid[]))',
  gate_results: 'gate_results WHERE pipeline_id = ANY($1::uuid[])',
  stage_runs: 'stage_runs WHERE pipeline_id = ANY($1::uuid[])',
  decision_votes: 'decision_votes WHERE decision_id IN (SELECT id FROM decisions WHERE pipeline_id = ANY($1::uuid[]))',
  decisions: 'decisions WHERE pipeline_id = ANY($1::uuid[])',
  clarifications: 'clarifications WHERE pipeline_id = ANY($1::uuid[])',
  pipeline_events: 'pipeline_events WHERE pipeline_id = ANY($1::uuid[])',
  stages: 'stages WHERE pipeline_id = ANY($1::uuid[])',
  pipelines: 'pipelines WHERE id = ANY($1::uuid[])',
};
const TABLES = Object.keys(ROWS_OF) as PrunedTable[];

const COUNT_SQL = `SELECT ${TABLES.map((t) => `(SELECT count(*) FROM ${ROWS_OF[t]})::int AS ${t}`).join(', ')}`;

/** One event per pipeline, from its row before it goes. $1 ids, $2…$6 the identity, $7 the request's data. */
const AUDIT_SQL = `
  INSERT INTO audit_events (action, identity_id, identity_name, identity_kind, via, roles, target_type, target_id, pipeline_id, data)
  SELECT 'pipeline.pruned', $2, $3, $4, $5, $6, 'pipeline', p.id::text, p.id,
         $7::jsonb || jsonb_build_object('name', p.name, 'status', p.status, 'submitter', p.submitter,
                                         'createdAt', p.created_at, 'finishedAt', p.finished_at)
  FROM pipelines p WHERE p.id = ANY($1::uuid[])`;

function selectionValues(selection: PruneSelection): unknown[] {
  return [[...selection.statuses], selection.cutoff, [...PRUNE_BLOCKING_STAGE_STATUSES]];
}

export function createPipelinePruneRepository({ pool }: Pick<Database, 'pool'>): PipelinePruneStore {
  return {
    async candidates(selection, after, limit) {
      const { rows } = await pool.query<{ id: string; status: PipelineStatus; created_at: Date }>(CANDIDATES_SQL, [
        ...selectionValues(selection),
        after?.createdAt ?? new Date(0),
        after?.id ?? '00000000-0000-0000-0000-000000000000',
        limit,
      ]);
      return rows.map((r): PruneCandidate => ({ id: r.id, status: r.status, createdAt: r.created_at }));
    },

    async countRows(ids) {
      const { rows } = await pool.query<PrunedRows>(COUNT_SQL, [[...ids]]);
      return rows[0]!;
    },

    deleteBatch(ids, { selection, actor, auditData, archive }) {
      return retryOnDeadlock(() =>
        inTransaction(pool, async (client: pg.PoolClient) => {
          await client.query(LOCK_STAGES_SQL, [[...ids]]);
          const locked = await client.query<{ id: string; status: PipelineStatus }>(LOCK_PIPELINES_SQL, [
            ...selectionValues(selection),
            [...ids],
          ]);
          const kept = locked.rows.map((r) => r.id);
          const rows = Object.fromEntries(TABLES.map((t) => [t, 0])) as PrunedRows;
          if (kept.length === 0) return { deleted: [], rows };
          if (archive) {
            const documents = await client.query<ArchivedPipeline>(ARCHIVE_SQL, [kept]);
            await archive(documents.rows);
          }
          const { identity } = actor;
          await client.query(AUDIT_SQL, [
            kept,
            identity.id,
            identity.name,
            identity.kind,
            identity.via,
            [...identity.roles],
            JSON.stringify(auditData),
          ]);
          for (const table of TABLES) rows[table] = (await client.query(`DELETE FROM ${ROWS_OF[table]}`, [kept])).rowCount ?? 0;
          return { deleted: locked.rows, rows };
        }),
      );
    },
  };
}
