// Decisions in Postgres. Answers and deadlines lock the decision row first, so of two racing
// answers exactly one sees it open, and an answer is judged on the approvers the row holds then
// (an escalation may have changed them); the stage it holds moves in the same commit.
import type pg from 'pg';
import type { DecisionRepository, DecisionView, DecisionVote } from '../../services/decision.ports.js';
import type { DispatchedStage } from '../../services/queue.ports.js';
import { recordAuditIn } from './audit.repository.js';
import { inTransaction, retryOnDeadlock, type Database } from './database.js';
import { beforeCursor, STAGE_PIPELINE_PRIORITY_SQL, toDecisionSummary, toDecisionView, toDispatched } from './mappers.js';
import { statusGuard, targetStatus } from './lifecycle-sql.js';
import { EVENT_PAYLOADS, eventData } from '../../domain/event-payloads.js';
import type { DecisionCategory } from '../../domain/decision-policy.js';

type DecisionEventType = 'decision.voted' | 'decision.escalated' | 'decision.resolved';

interface LockedDecision {
  id: string;
  pipeline_id: string;
  stage_id: string;
  stage_key: string;
  status: string;
  quorum: number;
  on_deadline: string;
  deadline_at: Date;
  category: string;
  approvers: string[];
  /** The identity that submitted the decision's pipeline. */
  submitter: string;
  /** Set on a decision an agent asked for (ctx.requestDecision): its key, for the re-run's input. */
  ask_key: string | null;
}

const OPEN = new Set(['pending', 'escalated']);

// The `reject` and `approve` transitions of the stage a decision holds (domain/stage-lifecycle.ts).
const REJECT_STAGE_SQL = `UPDATE stages SET status = ${targetStatus('reject')}, error = $2::jsonb, finished_at = now()
                          WHERE id = $1 AND ${statusGuard('status', 'reject')}`;
const APPROVE_STAGE_SQL = `UPDATE stages SET status = ${targetStatus('approve')}, approved_at = now(), queued_at = now()
                           WHERE id = $1 AND ${statusGuard('status', 'approve')}
                           RETURNING id, key, agent, retry_attempts, retry_backoff, contract_version, ${STAGE_PIPELINE_PRIORITY_SQL}`;
// A stage whose agent asked (ctx.requestDecision) runs again with the approval appended to
// `input.decisions`, under a job id of its own: the job that asked may still be finishing under
// the previous one (adding an existing id is a no-op), and a redispatch finds this one in job_id.
const APPROVE_ASKING_STAGE_SQL = `UPDATE stages SET status = ${targetStatus('approve')}, approved_at = now(), queued_at = now(),
                                    finished_at = NULL, job_id = id::text || '-' || $3,
                                    input = jsonb_set(COALESCE(input, '{}'::jsonb), '{decisions}',
                                                      COALESCE(input->'decisions', '[]'::jsonb) || $2::jsonb)
                                  WHERE id = $1 AND ${statusGuard('status', 'approve')}
                                  RETURNING id, key, agent, retry_attempts, retry_backoff, job_id, contract_version,
                                            ${STAGE_PIPELINE_PRIORITY_SQL}`;

async function lock(client: pg.PoolClient, id: string): Promise<LockedDecision | undefined> {
  const { rows } = await client.query<LockedDecision>(
    `SELECT d.id, d.pipeline_id, d.stage_id, d.stage_key, d.status, d.quorum, d.on_deadline, d.deadline_at, d.category,
            d.approvers, p.submitter,
            CASE WHEN d.evidence->>'requestedBy' LIKE 'agent:%' THEN d.evidence->>'key' END AS ask_key
     FROM decisions d JOIN pipelines p ON p.id = d.pipeline_id WHERE d.id = $1 FOR UPDATE OF d`,
    [id],
  );
  return rows[0];
}

/** Writes an event of the decision, its payload checked against its schema (domain/event-payloads.ts). */
async function event(
  client: pg.PoolClient,
  d: LockedDecision,
  type: DecisionEventType,
  actor: string,
  data: Record<string, unknown>,
): Promise<void> {
  await client.query('INSERT INTO pipeline_events (pipeline_id, type, stage_key, actor, data) VALUES ($1, $2, $3, $4, $5::jsonb)', [
    d.pipeline_id,
    type,
    d.stage_key,
    actor,
    JSON.stringify(EVENT_PAYLOADS[type].parse({ decisionId: d.id, ...JSON.parse(JSON.stringify(data)) })),
  ]);
}

/** Closes a decision and fails the stage it held (rejected or expired). */
async function closeAndFail(
  client: pg.PoolClient,
  d: LockedDecision,
  status: 'rejected' | 'expired',
  actor: string,
  comment: string | null,
  error: { code: string; message: string },
): Promise<void> {
  await client.query(
    `UPDATE decisions SET status = $2::"DecisionStatus", resolved_at = now(), resolved_by = $3, comment = $4, updated_at = now() WHERE id = $1`,
    [d.id, status, actor, comment],
  );
  await client.query(REJECT_STAGE_SQL, [d.stage_id, JSON.stringify({ ...error, retryable: false, decisionId: d.id })]);
  await event(client, d, 'decision.resolved', actor, { status, comment, before: { status: d.status }, after: { status } });
  await client.query(`INSERT INTO pipeline_events (pipeline_id, type, stage_key, data) VALUES ($1, 'stage.finished', $2, $3::jsonb)`, [
    d.pipeline_id,
    d.stage_key,
    JSON.stringify(eventData('stage.finished', { status: 'failed', error })),
  ]);
}

/** One vote in the caller's transaction: recorded, and the decision resolved when it settles it. */
async function vote(client: pg.PoolClient, { id, actor, verdict, comment, refuse }: DecisionVote) {
  const d = await lock(client, id);
  if (!d) return { kind: 'not_found' as const };
  // Judged on the locked row: an escalation committed since the caller's read has changed who approves.
  const refusal = refuse?.({ id, category: d.category as DecisionCategory, approvers: d.approvers, submitter: d.submitter }) ?? null;
  if (refusal) return { kind: 'refused' as const, refusal };
  if (!OPEN.has(d.status)) return { kind: 'closed' as const, status: d.status };
  const inserted = await client.query(
    `INSERT INTO decision_votes (decision_id, actor, verdict, comment) VALUES ($1, $2, $3, $4)
     ON CONFLICT (decision_id, actor) DO NOTHING RETURNING id`,
    [id, actor, verdict, comment],
  );
  if (inserted.rowCount === 0) return { kind: 'already_voted' as const };
  if (verdict === 'reject') {
    await closeAndFail(client, d, 'rejected', actor, comment, {
      code: 'DECISION_REJECTED',
      message: `rejected by ${actor}${comment ? `: ${comment}` : ''}`,
    });
    return {
      kind: 'recorded' as const,
      resolved: 'rejected' as const,
      released: null,
      pipelineId: d.pipeline_id,
      category: d.category as DecisionCategory,
    };
  }
  const { rows } = await client.query<{ approvals: number }>(
    "SELECT count(*)::int AS approvals FROM decision_votes WHERE decision_id = $1 AND verdict = 'approve'",
    [id],
  );
  const approvals = rows[0]!.approvals;
  if (approvals < d.quorum) {
    await event(client, d, 'decision.voted', actor, { verdict, comment, approvals, quorum: d.quorum });
    return {
      kind: 'recorded' as const,
      resolved: null,
      released: null,
      pipelineId: d.pipeline_id,
      category: d.category as DecisionCategory,
    };
  }
  await client.query(
    `UPDATE decisions SET status = 'approved', resolved_at = now(), resolved_by = $2, comment = $3, updated_at = now() WHERE id = $1`,
    [id, actor, comment],
  );
  const approval = { key: d.ask_key, decisionId: d.id, category: d.category, approvedBy: actor, comment: comment ?? null };
  const stage =
    d.ask_key === null
      ? await client.query<Parameters<typeof toDispatched>[0]>(APPROVE_STAGE_SQL, [d.stage_id])
      : await client.query<Parameters<typeof toDispatched>[0]>(APPROVE_ASKING_STAGE_SQL, [d.stage_id, JSON.stringify([approval]), d.id]);
  await event(client, d, 'decision.resolved', actor, {
    status: 'approved',
    comment,
    approvals,
    quorum: d.quorum,
    before: { status: d.status },
    after: { status: 'approved' },
  });
  const released: DispatchedStage | null = stage.rows[0] ? toDispatched(stage.rows[0]) : null;
  return {
    kind: 'recorded' as const,
    resolved: 'approved' as const,
    released,
    pipelineId: d.pipeline_id,
    category: d.category as DecisionCategory,
  };
}

export function createDecisionRepository({ prisma: db, pool }: Database): DecisionRepository {
  const get = async (id: string): Promise<DecisionView | null> => {
    const row = await db.decision.findUnique({
      where: { id },
      include: { votes: { orderBy: { id: 'asc' } }, pipeline: { select: { submitter: true } } },
    });
    return row ? toDecisionView(row) : null;
  };

  return {
    get,

    async list({ status, category, pipelineId, limit, cursor }) {
      const rows = await db.decision.findMany({
        where: {
          ...(status ? { status } : {}),
          ...(category ? { category } : {}),
          ...(pipelineId ? { pipelineId } : {}),
          ...beforeCursor(cursor),
        },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: limit,
      });
      return rows.map(toDecisionSummary);
    },

    async answer(args, audit) {
      const outcome = await retryOnDeadlock(() =>
        inTransaction(pool, async (client) => {
          const done = await vote(client, args);
          if (done.kind === 'recorded') await recordAuditIn(client, audit?.(done) ?? null);
          return done;
        }),
      );
      if (outcome.kind !== 'recorded') return outcome;
      return { ...outcome, decision: (await get(args.id))! };
    },

    async applyDeadline({ id, escalation }) {
      return retryOnDeadlock(() =>
        inTransaction(pool, async (client) => {
          const d = await lock(client, id);
          if (!d || !OPEN.has(d.status)) return { kind: 'closed' as const };
          // A deadline job that ran early (clock skew between hosts): try again at the deadline.
          if (d.deadline_at.getTime() > Date.now()) return { kind: 'not_yet' as const, deadlineAt: d.deadline_at };
          if (d.status === 'pending' && d.on_deadline === 'escalate') {
            const { rows } = await client.query<{ deadline_at: Date }>(
              // An escalation is settled by one of the escalation approvers (the policy's rule).
              `UPDATE decisions SET status = 'escalated', approvers = $2, on_deadline = 'reject', quorum = 1, updated_at = now(),
                      deadline_at = now() + make_interval(secs => $3::bigint / 1000.0)
               WHERE id = $1 RETURNING deadline_at`,
              [id, escalation.approvers, escalation.deadlineMs],
            );
            const deadlineAt = rows[0]!.deadline_at;
            await event(client, d, 'decision.escalated', 'policy', {
              reason: 'deadline passed',
              approvers: escalation.approvers,
              deadlineAt,
              before: { status: d.status },
              after: { status: 'escalated' },
            });
            return { kind: 'escalated' as const, deadlineAt, pipelineId: d.pipeline_id };
          }
          await closeAndFail(client, d, 'expired', 'policy', null, {
            code: 'DECISION_EXPIRED',
            message: `decision ${id} was not answered before its deadline`,
          });
          return { kind: 'expired' as const, pipelineId: d.pipeline_id };
        }),
      );
    },
  };
}
