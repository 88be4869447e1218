// Changing a running pipeline's priority (POST /api/v1/pipelines/:id/priority): the pipeline row,
// which every statement that queues one of its stages reads, and the jobs of its stages waiting
// in their agent queues now, which the caller re-prioritises in BullMQ.
import type { PipelineRepository, PriorityChange } from '../../services/pipeline.ports.js';
import { audited } from './audit.repository.js';
import { inTransaction, type Database } from './database.js';
import { terminalPipelineGuard } from './lifecycle-sql.js';

// $1 pipeline id, $2 the new priority. Unfinished pipelines only (terminalPipelineGuard: the
// terminal statuses of domain/status.ts). Result: the status and the priority before, or nothing
// when it is finished or missing; `queued` lists the jobs of its stages that wait in a queue.
const SET_PRIORITY_SQL = `
  WITH old AS (
    SELECT id, priority FROM pipelines WHERE id = $1 FOR UPDATE
  ), moved AS (
    UPDATE pipelines p SET priority = $2::"PipelinePriority", updated_at = now()
    FROM old WHERE p.id = old.id AND NOT ${terminalPipelineGuard('p.status')}
    RETURNING p.status::text AS status, old.priority::text AS before
  )
  SELECT m.status, m.before,
         COALESCE((SELECT jsonb_agg(jsonb_build_object('agent', s.agent, 'jobId', COALESCE(s.job_id, s.id::text)))
                   FROM stages s WHERE s.pipeline_id = $1 AND s.status = 'queued'), '[]'::jsonb) AS queued
  FROM moved m`;

export function createPriorityStore({ pool }: Pick<Database, 'pool'>): Pick<PipelineRepository, 'setPriority'> {
  return {
    setPriority(id, priority, audit) {
      // The change and its audit event commit together; the jobs move after the commit.
      return inTransaction(pool, async (client) => {
        const { rows } = await client.query<PriorityChange>(SET_PRIORITY_SQL, [id, priority]);
        const changed = rows[0] ?? null;
        return changed ? audited(client, audit, changed) : null;
      });
    },
  };
}
