// Humans answer decisions here (REST), and deadlines resolve the unanswered ones (a delayed
// control job). Postgres decides who wins; the queue work follows the commit.
import { refuseAnswer, type DecisionToAnswer } from '../domain/approval-rules.js';
import { ConflictError, ForbiddenError, NotFoundError, UnavailableError } from '../domain/errors.js';
import type { DecisionPolicy } from '../domain/decision-policy.js';
import type { Actor } from '../domain/identity.js';
import { afterCommitWith } from './release.js';
import type { Logger } from '../domain/logger.js';
import type { DecisionListQuery, DecisionRepository, DecisionSummary, DecisionView } from './decision.ports.js';
import type { AgentQueues, ControlQueue } from './queue.ports.js';

export interface DecisionServiceDeps {
  repo: DecisionRepository;
  agentQueues: AgentQueues;
  control: ControlQueue;
  policy: DecisionPolicy;
  logger: Logger;
}

export interface DecisionAnswer {
  comment?: string;
}

/**
 * The answer is committed before its queue work: if Redis refuses that work, the client learns
 * the answer stands (a retry would get 409) and what is left to do.
 */
export async function recordedThenQueued(what: string, dispatch: () => Promise<void>): Promise<void> {
  try {
    await dispatch();
  } catch {
    throw new UnavailableError(
      'QUEUE_UNAVAILABLE',
      `The answer to ${what} is recorded, but the work it releases could not be queued (Redis unreachable); it is queued when the pipeline is redispatched (repeat its POST with the same Idempotency-Key).`,
    );
  }
}

export function createDecisionService({ repo, agentQueues, control, policy, logger }: DecisionServiceDeps) {
  const afterCommit = afterCommitWith({ agentQueues, control });
  /**
   * The caller is checked against the decision's approvers and the policy's separation of
   * duties before its vote is recorded; the vote is counted under its identity id, so a quorum
   * needs that many distinct identities.
   */
  async function answer(id: string, verdict: 'approve' | 'reject', { comment }: DecisionAnswer, by: Actor): Promise<DecisionView> {
    const { requestId } = by;
    const actor = by.identity.id;
    // Judged on the decision as the vote's transaction locked it: an escalation committed after
    // the caller last read it has changed its approvers.
    const refuse = (decision: DecisionToAnswer) => refuseAnswer(policy, decision, by.identity);
    const result = await repo.answer({ id, actor, verdict, comment: comment ?? null, refuse }, (vote) => ({
      action: verdict === 'approve' ? 'decision.approved' : 'decision.rejected',
      actor: by,
      targetType: 'decision',
      targetId: id,
      pipelineId: vote.pipelineId,
      data: { category: vote.category, comment: comment ?? null, resolved: vote.resolved },
    }));
    switch (result.kind) {
      case 'not_found':
        throw new NotFoundError('DECISION_NOT_FOUND', `No decision ${id}.`);
      case 'refused':
        throw new ForbiddenError(result.refusal.code, result.refusal.message);
      case 'closed':
        throw new ConflictError('DECISION_CLOSED', `Decision ${id} is already ${result.status}.`, {
          details: [{ field: 'id', message: `status is ${result.status}` }],
        });
      case 'already_voted':
        throw new ConflictError('DECISION_ALREADY_ANSWERED', `${by.identity.name} already answered decision ${id}.`, {
          details: [{ field: 'actor', message: 'one answer per identity' }],
        });
      case 'recorded':
        break;
    }
    await recordedThenQueued(id, async () => {
      await afterCommit(
        {
          pipelineId: result.pipelineId,
          stages: result.released ? [result.released] : [],
          advance: result.resolved === 'rejected' && 'advance',
        },
        { requestId },
      );
      // A rejection failed the stage: the conductor skips what depended on it and ends the pipeline.
    });
    return result.decision;
  }

  return {
    list: (query: DecisionListQuery): Promise<DecisionSummary[]> => repo.list(query),

    async get(id: string): Promise<DecisionView> {
      const decision = await repo.get(id);
      if (!decision) throw new NotFoundError('DECISION_NOT_FOUND', `No decision ${id}.`);
      return decision;
    },

    approve: (id: string, body: DecisionAnswer, by: Actor) => answer(id, 'approve', body, by),
    reject: (id: string, body: DecisionAnswer, by: Actor) => answer(id, 'reject', body, by),

    /** Runs when a decision's deadline job fires: the policy's default action applies. */
    async applyDeadline(id: string): Promise<void> {
      const result = await repo.applyDeadline({ id, escalation: policy.escalation });
      // Early (clocks of two hosts disagree): again a second after the deadline, under a new job id.
      if (result.kind === 'not_yet') await control.scheduleDeadline(id, new Date(result.deadlineAt.getTime() + 1000));
      if (result.kind === 'escalated') await control.scheduleDeadline(id, result.deadlineAt);
      if (result.kind === 'expired') await afterCommit({ pipelineId: result.pipelineId, advance: 'advance' });
      if (result.kind === 'escalated' || result.kind === 'expired')
        logger.info(`decision ${result.kind} at its deadline`, { decisionId: id });
    },
  };
}

export type DecisionService = ReturnType<typeof createDecisionService>;
