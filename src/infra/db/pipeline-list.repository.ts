// Listing pipelines newest first with keyset pagination and filters: status, a case-insensitive
// substring of the name, the exact submitter, and labels by jsonb containment (the GIN index on
// pipelines.labels serves `labels @> …`). Hand-written: Prisma has no jsonb containment filter.
import type { PipelineRepository } from '../../services/pipeline.ports.js';
import { toPipelineView, type PipelineRow } from './mappers.js';
import type { Database } from './database.js';

const COLUMNS = `id, name, status::text AS status, template, input, error, created_at AS "createdAt", updated_at AS "updatedAt",
  started_at AS "startedAt", finished_at AS "finishedAt", cancel_requested_at AS "cancelRequestedAt",
  policy_version AS "policyVersion", submitter, labels, trace_id AS "traceId", paused_at AS "pausedAt", paused_by AS "pausedBy",
  pause_reason AS "pauseReason", priority::text AS priority,
  deadline_at AS "deadlineAt", cancel_reason AS "cancelReason", schedule_id AS "scheduleId",
  scheduled_for AS "scheduledFor"`;

export function createPipelineLister({ pool }: Pick<Database, 'pool'>): Pick<PipelineRepository, 'listPipelines'> {
  return {
    async listPipelines({ status, name, submitter, labels, priority, limit, cursor }) {
      const values: unknown[] = [];
      const conditions: string[] = [];
      const param = (value: unknown) => `$${values.push(value)}`;
      if (status) conditions.push(`status = ${param(status)}::"PipelineStatus"`);
      // strpos, not ILIKE: the search text needs no escaping of % and _.
      if (name) conditions.push(`strpos(lower(name), lower(${param(name)})) > 0`);
      if (submitter) conditions.push(`submitter = ${param(submitter)}`);
      if (priority) conditions.push(`priority = ${param(priority)}::"PipelinePriority"`);
      // One containment per pair: two values asked for one key match nothing, as they should.
      for (const [key, value] of labels ?? []) conditions.push(`labels @> ${param(JSON.stringify({ [key]: value }))}::jsonb`);
      // The row comparison matches the order: newest first, ties by id.
      if (cursor) conditions.push(`(created_at, id) < (${param(cursor.createdAt)}::timestamptz, ${param(cursor.id)}::uuid)`);
      const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
      const { rows } = await pool.query<PipelineRow>(
        `SELECT ${COLUMNS} FROM pipelines ${where} ORDER BY created_at DESC, id DESC LIMIT ${param(limit)}`,
        values,
      );
      return rows.map(toPipelineView);
    },
  };
}
