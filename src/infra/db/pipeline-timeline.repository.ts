// What a pipeline's timeline is built from (services/timeline.service.ts): the pipeline row and
// its whole event log, read in one snapshot so a `pipeline.finished` event and the status agree.
import { parseEventRow, type StoredEventRow } from '../../domain/event-payloads.js';
import type { PipelineRepository } from '../../services/pipeline.ports.js';
import { toPipelineView, type PipelineRow } from './mappers.js';
import { inTransaction, type Database } from './database.js';

const PIPELINE_SQL = `SELECT id, name, status::text AS status, template, input, error, created_at AS "createdAt",
  updated_at AS "updatedAt", started_at AS "startedAt", finished_at AS "finishedAt",
  cancel_requested_at AS "cancelRequestedAt", policy_version AS "policyVersion", submitter, labels, trace_id AS "traceId",
  paused_at AS "pausedAt", paused_by AS "pausedBy", pause_reason AS "pauseReason", priority::text AS priority, deadline_at AS "deadlineAt", cancel_reason AS "cancelReason"
  FROM pipelines WHERE id = $1::uuid`;

// Walks the (pipeline_id, id) index. ORDER BY names `e.id`: a bare `id` would be the text alias.
const EVENTS_SQL = `SELECT id::text AS id, pipeline_id, type, stage_key, actor, data, created_at
  FROM pipeline_events e WHERE pipeline_id = $1::uuid ORDER BY e.id`;

export function createTimelineStore({ pool }: Pick<Database, 'pool'>): Pick<PipelineRepository, 'readTimeline'> {
  return {
    readTimeline(pipelineId) {
      return inTransaction(pool, async (client) => {
        await client.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
        const pipeline = await client.query<PipelineRow>(PIPELINE_SQL, [pipelineId]);
        const row = pipeline.rows[0];
        if (!row) return null;
        const events = await client.query<StoredEventRow>(EVENTS_SQL, [pipelineId]);
        return { pipeline: toPipelineView(row), events: events.rows.map(parseEventRow) };
      });
    },
  };
}
