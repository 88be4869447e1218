// Stage logs in Postgres (`stage_logs`): chunks written by workers, read back in pages by the
// API in (attempt, run, seq) order; and the retention sweep's question about finished pipelines.
import type { StageLogChunk, StageLogReader, StageLogStore, WorkspaceRetentionStore } from '../../services/workspace.ports.js';
import type { Database } from './database.js';

const APPEND_SQL = `
  INSERT INTO stage_logs (stage_id, run_id, attempt, seq, bytes, text)
  VALUES ($1, $2, $3, $4, $5, $6)
  ON CONFLICT DO NOTHING`;

const BYTES_KEPT_SQL = 'SELECT COALESCE(SUM(bytes), 0)::bigint AS bytes FROM stage_logs WHERE stage_id = $1';

// The pipeline row, and its stage of that key when there is one: one round trip tells both 404s apart.
const FIND_STAGE_SQL = `
  SELECT p.id AS pipeline_id, s.id AS stage_id
  FROM pipelines p LEFT JOIN stages s ON s.pipeline_id = p.id AND s.key = $2
  WHERE p.id = $1`;

// Keyset over the primary key (stage_id, attempt, run_id, seq); $2 NULL: every attempt.
const PAGE_SQL = `
  SELECT run_id, attempt, seq, text FROM stage_logs
  WHERE stage_id = $1 AND ($2::int IS NULL OR attempt = $2)
    AND ($3::int IS NULL OR (attempt, run_id, seq) > ($3, $4::uuid, $5))
  ORDER BY attempt, run_id, seq
  LIMIT $6`;

// Ids given that are gone from Postgres, or whose pipeline finished before $2.
const EXPIRED_SQL = `
  SELECT given.id::text AS id FROM unnest($1::uuid[]) AS given(id)
  LEFT JOIN pipelines p ON p.id = given.id
  WHERE p.id IS NULL OR (p.status IN ('succeeded', 'failed', 'cancelled') AND p.finished_at < $2)`;

interface ChunkRow {
  run_id: string;
  attempt: number;
  seq: number;
  text: string;
}

export function createStageLogRepository({ pool }: Pick<Database, 'pool'>): StageLogStore & StageLogReader & WorkspaceRetentionStore {
  return {
    async bytesKept(stageId) {
      const { rows } = await pool.query<{ bytes: string }>({ name: 'stage_log_bytes', text: BYTES_KEPT_SQL, values: [stageId] });
      return Number(rows[0]?.bytes ?? 0);
    },

    async append({ stageId, runId, attempt, seq, text }: StageLogChunk) {
      await pool.query({
        name: 'stage_log_append',
        text: APPEND_SQL,
        values: [stageId, runId, attempt, seq, Buffer.byteLength(text, 'utf8'), text],
      });
    },

    async findStage(pipelineId, stageKey) {
      const { rows } = await pool.query<{ pipeline_id: string; stage_id: string | null }>({
        name: 'stage_log_find_stage',
        text: FIND_STAGE_SQL,
        values: [pipelineId, stageKey],
      });
      if (rows.length === 0) return undefined;
      return rows[0]!.stage_id;
    },

    async page(stageId, { attempt, after, limit }) {
      const { rows } = await pool.query<ChunkRow>({
        name: 'stage_log_page',
        text: PAGE_SQL,
        values: [stageId, attempt ?? null, after?.attempt ?? null, after?.runId ?? null, after?.seq ?? null, limit],
      });
      return rows.map((row) => ({ stageId, runId: row.run_id, attempt: row.attempt, seq: row.seq, text: row.text }));
    },

    async expired(pipelineIds, before) {
      if (pipelineIds.length === 0) return [];
      const { rows } = await pool.query<{ id: string }>({
        name: 'workspace_expired',
        text: EXPIRED_SQL,
        values: [[...pipelineIds], before],
      });
      return rows.map((row) => row.id);
    },
  };
}
