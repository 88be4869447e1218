// Who may answer a decision: a caller with the `decide` permission that is among the decision's
// approvers by role or identity id (the policy's, or the escalation's once escalated), and, in
// the policy's separation-of-duties categories, not the pipeline's submitter. No role bypasses the
// approvers list, admin included: the policy names who approves. Quorum counts distinct
// identities (one vote per identity id, enforced by the store).
import type { DecisionCategory, DecisionPolicy } from './decision-policy.js';
import { can, type Identity } from './identity.js';

export type AnswerRefusal = { code: 'FORBIDDEN' | 'NOT_AN_APPROVER' | 'SELF_APPROVAL_FORBIDDEN'; message: string };

export interface DecisionToAnswer {
  id: string;
  category: DecisionCategory;
  approvers: readonly string[];
  /** The identity id that submitted the decision's pipeline. */
  submitter: string;
}

/**
 * True when the identity is one of the approvers, by role or by identity id. Never by display
 * name: a JWT's `preferred_username` is often chosen by its holder.
 */
export function isApprover(identity: Pick<Identity, 'id' | 'roles'>, approvers: readonly string[]): boolean {
  return approvers.some((a) => identity.roles.includes(a) || a === identity.id);
}

/** Null when the identity may answer the decision; else why not. */
export function refuseAnswer(
  policy: Pick<DecisionPolicy, 'separationOfDuties'>,
  decision: DecisionToAnswer,
  identity: Identity,
): AnswerRefusal | null {
  if (!can(identity, 'decide')) {
    return { code: 'FORBIDDEN', message: 'Answering decisions needs the approver role.' };
  }
  if (!isApprover(identity, decision.approvers)) {
    return {
      code: 'NOT_AN_APPROVER',
      message: `${identity.name} is not an approver of ${decision.id}: the policy names ${decision.approvers.join(', ')} (by role or identity id).`,
    };
  }
  if (policy.separationOfDuties.includes(decision.category) && decision.submitter === identity.id) {
    return {
      code: 'SELF_APPROVAL_FORBIDDEN',
      message: `${identity.name} submitted this pipeline and cannot answer its ${decision.category} decision ${decision.id} (separation of duties).`,
    };
  }
  return null;
}
