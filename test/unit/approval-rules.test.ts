// Unit tests for src/domain/approval-rules.ts: who may answer a decision (permission, the
// policy's approvers by role or identity id, separation of duties), without I/O.
import { expect } from 'chai';
import { isApprover, refuseAnswer, type DecisionToAnswer } from '../../src/domain/approval-rules.js';
import type { DecisionPolicy } from '../../src/domain/decision-policy.js';
import type { Identity } from '../../src/domain/identity.js';

const policy: Pick<DecisionPolicy, 'separationOfDuties'> = { separationOfDuties: ['security_affecting', 'cost_impacting'] };
const who = (id: string, roles: string[], name = id): Identity => ({ id, name, kind: 'user', via: 'api_key', roles });
const decision = (over: Partial<DecisionToAnswer> = {}): DecisionToAnswer => ({
  id: 'DEC-2026-00001',
  category: 'cost_impacting',
  approvers: ['engineering_manager'],
  submitter: 'ci-bot',
  ...over,
});

describe('approval rules (unit)', () => {
  describe('isApprover', () => {
    it('a team role named by the policy: an approver', () => {
      expect(isApprover(who('alice', ['approver', 'engineering_manager']), ['engineering_manager'])).to.equal(true);
    });
    it('the identity id named by the policy: an approver', () => {
      expect(isApprover(who('jwt:42', ['approver']), ['jwt:42'])).to.equal(true);
    });
    it('only a display name equal to an approver: not an approver (a JWT name is self-chosen)', () => {
      expect(isApprover(who('jwt:mallory', ['approver'], 'engineering_manager'), ['engineering_manager'])).to.equal(false);
    });
  });

  describe('refuseAnswer', () => {
    it('a viewer: FORBIDDEN, whatever its team roles', () => {
      expect(refuseAnswer(policy, decision(), who('v', ['viewer', 'engineering_manager']))?.code).to.equal('FORBIDDEN');
    });
    it('an approver outside the approvers: NOT_AN_APPROVER, admin included', () => {
      expect(refuseAnswer(policy, decision(), who('bob', ['approver', 'tech_lead']))?.code).to.equal('NOT_AN_APPROVER');
      expect(refuseAnswer(policy, decision(), who('root', ['admin']))?.code).to.equal('NOT_AN_APPROVER');
    });
    it('the submitter on a separation-of-duties category: SELF_APPROVAL_FORBIDDEN', () => {
      expect(refuseAnswer(policy, decision(), who('ci-bot', ['submitter', 'approver', 'engineering_manager']))?.code).to.equal(
        'SELF_APPROVAL_FORBIDDEN',
      );
    });
    it('the submitter on another category: allowed', () => {
      const d = decision({ category: 'architectural_change', approvers: ['tech_lead'] });
      expect(refuseAnswer(policy, d, who('ci-bot', ['submitter', 'approver', 'tech_lead']))).to.equal(null);
    });
    it('another approver with the role: allowed', () => {
      expect(refuseAnswer(policy, decision(), who('alice', ['approver', 'engineering_manager']))).to.equal(null);
    });
  });
});
