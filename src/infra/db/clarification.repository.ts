// Clarifications in Postgres. An answer locks the clarification row, stores the answers and
// moves what waited on it (the asking stage back to queued, or the pipeline's roots back to
// pending) in one commit.
import type { ClarificationRepository } from '../../services/clarification.ports.js';
import type { DispatchedStage } from '../../services/queue.ports.js';
import { audited } from './audit.repository.js';
import { inTransaction, retryOnDeadlock, type Database } from './database.js';
import { beforeCursor, STAGE_PIPELINE_PRIORITY_SQL, toClarificationView, toDispatched } from './mappers.js';
import { statusGuard, targetStatus } from './lifecycle-sql.js';
import { eventData } from '../../domain/event-payloads.js';

// Answers accumulate under `clarifications` in the stage's (or pipeline's) input, so a handler
// sees every round of questions and answers.
const MERGE = `jsonb_set(COALESCE(input, '{}'::jsonb), '{clarifications}', COALESCE(input->'clarifications', '[]'::jsonb) || $2::jsonb)`;

export function createClarificationRepository({ prisma: db, pool }: Database): ClarificationRepository {
  const get = async (id: string) => {
    const row = await db.clarification.findUnique({ where: { id } });
    return row ? toClarificationView(row) : null;
  };

  return {
    get,

    async list({ status, pipelineId, limit, cursor }) {
      const rows = await db.clarification.findMany({
        where: {
          ...(status ? { status } : {}),
          ...(pipelineId ? { pipelineId } : {}),
          ...beforeCursor(cursor),
        },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: limit,
      });
      return rows.map(toClarificationView);
    },

    async answer({ id, actor, answers, merged }, audit) {
      const outcome = await retryOnDeadlock(() =>
        inTransaction(pool, async (client) => {
          const found = await client.query<{ pipeline_id: string; stage_id: string | null; stage_key: string | null; status: string }>(
            'SELECT pipeline_id, stage_id, stage_key, status FROM clarifications WHERE id = $1 FOR UPDATE',
            [id],
          );
          const c = found.rows[0];
          if (!c) return { kind: 'not_found' as const };
          if (c.status !== 'open') return { kind: 'closed' as const, status: c.status };
          await client.query(
            `UPDATE clarifications SET status = 'answered', answers = $2::jsonb, answered_by = $3, answered_at = now() WHERE id = $1`,
            [id, JSON.stringify(answers), actor],
          );
          let released: DispatchedStage | null = null;
          let rootsReleased = false;
          if (c.stage_id) {
            const stage = await client.query<Parameters<typeof toDispatched>[0]>(
              // The re-run gets a job id of its own: the job that asked may still be finishing
              // under the stage's id (adding an existing id is a no-op), and a redispatch finds
              // this one in job_id.
              `UPDATE stages SET input = ${MERGE}, status = ${targetStatus('answer')}, queued_at = now(), finished_at = NULL,
                      job_id = id::text || '-' || $3
               WHERE id = $1 AND ${statusGuard('status', 'answer')}
               RETURNING id, key, agent, retry_attempts, retry_backoff, job_id, contract_version, ${STAGE_PIPELINE_PRIORITY_SQL}`,
              [c.stage_id, JSON.stringify([merged]), id],
            );
            released = stage.rows[0] ? toDispatched(stage.rows[0]) : null;
          } else {
            await client.query(`UPDATE pipelines SET input = ${MERGE}, updated_at = now() WHERE id = $1`, [
              c.pipeline_id,
              JSON.stringify([merged]),
            ]);
            const roots = await client.query(
              `UPDATE stages SET status = ${targetStatus('answerRoots')} WHERE pipeline_id = $1 AND ${statusGuard('status', 'answerRoots')} AND cardinality(depends_on) = 0`,
              [c.pipeline_id],
            );
            rootsReleased = (roots.rowCount ?? 0) > 0;
          }
          await client.query(
            `INSERT INTO pipeline_events (pipeline_id, type, stage_key, actor, data) VALUES ($1, 'clarification.resolved', $2, $3, $4::jsonb)`,
            [
              c.pipeline_id,
              c.stage_key,
              actor,
              JSON.stringify(
                eventData('clarification.resolved', {
                  clarificationId: id,
                  status: 'answered',
                  answers,
                  before: { status: 'open' },
                  after: { status: 'answered' },
                }),
              ),
            ],
          );
          return audited(client, audit, { kind: 'answered' as const, released, rootsReleased });
        }),
      );
      if (outcome.kind !== 'answered') return outcome;
      return { ...outcome, clarification: (await get(id))! };
    },
  };
}
