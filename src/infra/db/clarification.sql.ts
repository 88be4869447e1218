// Opening a clarification: the row and its `clarification.requested` event, on the caller's
// transaction (a stage or a pipeline's roots move to `waiting` in the same commit).
import type pg from 'pg';
import type { NewClarification } from '../../services/clarification.ports.js';

export async function insertClarification(client: pg.PoolClient, c: NewClarification & { stageId?: string | null }): Promise<void> {
  await client.query(
    `WITH opened AS (
       INSERT INTO clarifications (id, pipeline_id, stage_id, stage_key, questions, asked_by)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6)
       RETURNING id, pipeline_id, stage_key, questions, asked_by
     )
     INSERT INTO pipeline_events (pipeline_id, type, stage_key, actor, data)
     SELECT pipeline_id, 'clarification.requested', stage_key, asked_by,
            jsonb_build_object('clarificationId', id, 'questions', questions, 'after', jsonb_build_object('status', 'open'))
     FROM opened`,
    [c.id, c.pipelineId, c.stageId ?? null, c.stageKey, JSON.stringify(c.questions), c.askedBy],
  );
}
