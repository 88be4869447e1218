// Unit tests for stage admission (src/domain/stage-admission.ts): which ready stages the default
// decision policy lets start and which it holds for a human, and with what decision.
import { expect } from 'chai';
import { autoApproveThreshold, type DecisionCategory, type DecisionPolicy } from '../../src/domain/decision-policy.js';
import { planPipeline } from '../../src/domain/planner.js';
import type { StageStatus } from '../../src/domain/status.js';
import { admitStages, type PolicyStage } from '../../src/domain/stage-admission.js';
import { loadDecisionPolicy } from '../../src/infra/policy/policy-file.js';

const HOUR = 3_600_000;
const RUN = { cancelRequested: false };

describe('admitStages', () => {
  let policy: DecisionPolicy;
  before(() => {
    policy = loadDecisionPolicy('policies/decision-policy.yaml');
  });

  /** A stage as the conductor reads it: its threshold fixed from the policy at submission. */
  function stage(
    key: string,
    {
      status = 'pending',
      dependsOn = [],
      category = 'technical_refactor',
      confidence = null,
      approved = false,
    }: { status?: StageStatus; dependsOn?: string[]; category?: DecisionCategory; confidence?: number | null; approved?: boolean } = {},
  ): PolicyStage {
    return {
      key,
      status,
      dependsOn,
      continueOnFailure: false,
      category,
      autoApproveAt: autoApproveThreshold(policy, category),
      confidence,
      approved,
    };
  }

  /** Plans like the conductor does: the planner first, then the policy. */
  function admit(stages: PolicyStage[], options = RUN) {
    return admitStages(planPipeline(stages, options), stages, policy);
  }

  describe('technical_refactor (auto-approves at 85)', () => {
    it('confidence exactly 85: dispatched without a decision', () => {
      // Arrange
      const stages = [stage('refactor', { confidence: 85 })];

      // Act
      const plan = admit(stages);

      // Assert
      expect(plan.dispatch).to.deep.equal(['refactor']);
      expect(plan.hold).to.deep.equal([]);
    });

    it('confidence 84.9: held for a pending decision by the tech lead', () => {
      const stages = [stage('refactor', { confidence: 84.9 })];

      const plan = admit(stages);

      expect(plan.dispatch).to.deep.equal([]);
      expect(plan.hold).to.have.length(1);
      const [hold] = plan.hold;
      expect(hold).to.deep.include({
        key: 'refactor',
        category: 'technical_refactor',
        status: 'pending',
        confidence: 84.9,
        threshold: 85,
        quorum: 1,
        onDeadline: 'escalate',
        deadlineMs: 24 * HOUR,
      });
      expect(hold!.approvers).to.deep.equal(['tech_lead']);
      expect(hold!.reason).to.contain('84.9');
    });

    it('no confidence reported (null): counts as 100 and is dispatched', () => {
      const stages = [stage('refactor', { confidence: null })];

      const plan = admit(stages);

      expect(plan.dispatch).to.deep.equal(['refactor']);
      expect(plan.hold).to.deep.equal([]);
    });
  });

  describe('escalation floor (80)', () => {
    it('confidence 79: held with an escalated decision for the engineering director', () => {
      const stages = [stage('refactor', { confidence: 79 })];

      const plan = admit(stages);

      expect(plan.dispatch).to.deep.equal([]);
      expect(plan.hold).to.have.length(1);
      const [hold] = plan.hold;
      expect(hold).to.deep.include({
        key: 'refactor',
        status: 'escalated',
        confidence: 79,
        quorum: 1,
        onDeadline: 'reject',
        deadlineMs: 24 * HOUR,
      });
      expect(hold!.approvers).to.deep.equal(['engineering_director']);
      expect(hold!.reason).to.contain('escalation floor');
    });

    it('confidence exactly 80: held with a pending decision for the category approvers, not escalated', () => {
      const stages = [stage('refactor', { confidence: 80 })];

      const plan = admit(stages);

      expect(plan.hold).to.have.length(1);
      expect(plan.hold[0]).to.deep.include({ status: 'pending', confidence: 80, onDeadline: 'escalate' });
      expect(plan.hold[0]!.approvers).to.deep.equal(['tech_lead']);
    });

    it('always-human category at confidence 79: escalated, not pending for its own approvers', () => {
      const stages = [stage('deploy', { category: 'cost_impacting', confidence: 79 })];

      const plan = admit(stages);

      expect(plan.hold).to.have.length(1);
      expect(plan.hold[0]).to.deep.include({
        key: 'deploy',
        category: 'cost_impacting',
        status: 'escalated',
        quorum: 1,
        onDeadline: 'reject',
      });
      expect(plan.hold[0]!.approvers).to.deep.equal(['engineering_director']);
    });
  });

  describe('always-human categories', () => {
    // category, approvers, quorum, deadline (h), onDeadline: as in policies/decision-policy.yaml
    const table: Array<[DecisionCategory, string[], number, number, 'reject' | 'escalate']> = [
      ['cost_impacting', ['engineering_manager'], 1, 4, 'reject'],
      ['security_affecting', ['security_lead'], 1, 24, 'reject'],
      ['architectural_change', ['tech_lead'], 1, 24, 'escalate'],
      ['data_migration', ['dba', 'tech_lead'], 2, 8, 'reject'],
    ];
    for (const [category, approvers, quorum, hours, onDeadline] of table) {
      it(`${category} at confidence 100: held with a pending decision (quorum ${quorum}, ${onDeadline} after ${hours}h)`, () => {
        const stages = [stage('s', { category, confidence: 100 })];

        const plan = admit(stages);

        expect(plan.dispatch).to.deep.equal([]);
        expect(plan.hold).to.have.length(1);
        expect(plan.hold[0]).to.deep.include({
          key: 's',
          category,
          status: 'pending',
          confidence: 100,
          quorum,
          onDeadline,
          deadlineMs: hours * HOUR,
        });
        expect(plan.hold[0]!.approvers).to.deep.equal(approvers);
        expect(plan.hold[0]!.reason).to.contain('always need a human');
      });
    }

    it('always-human stage with no confidence reported: still held', () => {
      const stages = [stage('migrate', { category: 'data_migration', confidence: null })];

      const plan = admit(stages);

      expect(plan.dispatch).to.deep.equal([]);
      expect(plan.hold.map((h) => h.key)).to.deep.equal(['migrate']);
    });
  });

  describe('approved stages', () => {
    it('always-human stage a human approved: dispatched without asking the policy again', () => {
      const stages = [stage('deploy', { category: 'cost_impacting', confidence: 100, approved: true })];

      const plan = admit(stages);

      expect(plan.dispatch).to.deep.equal(['deploy']);
      expect(plan.hold).to.deep.equal([]);
    });

    it('approved stage below the escalation floor: dispatched', () => {
      const stages = [stage('refactor', { confidence: 10, approved: true })];

      const plan = admit(stages);

      expect(plan.dispatch).to.deep.equal(['refactor']);
      expect(plan.hold).to.deep.equal([]);
    });
  });

  describe('stages the planner does not dispatch', () => {
    it('mixed pipeline: only ready stages are admitted; running, waiting and blocked ones are neither dispatched nor held', () => {
      // Arrange: 'deploy' waits behind 'build', which still runs; 'review' already waits for a decision.
      const stages = [
        stage('build', { status: 'running' }),
        stage('deploy', { category: 'cost_impacting', dependsOn: ['build'] }),
        stage('review', { status: 'waiting', category: 'security_affecting' }),
        stage('lint', { confidence: 90 }),
        stage('migrate', { category: 'data_migration' }),
      ];

      // Act
      const plan = admit(stages);

      // Assert
      expect(plan.dispatch).to.deep.equal(['lint']);
      expect(plan.hold.map((h) => h.key)).to.deep.equal(['migrate']);
      expect(plan.status).to.equal('running');
    });

    it('skips after a failure: passed through untouched, the skipped stage gets no decision', () => {
      const stages = [stage('build', { status: 'failed' }), stage('deploy', { category: 'cost_impacting', dependsOn: ['build'] })];

      const plan = admit(stages);

      expect(plan.skip).to.deep.equal(['deploy']);
      expect(plan.hold).to.deep.equal([]);
      expect(plan.dispatch).to.deep.equal([]);
      expect(plan.status).to.equal('failed');
      expect(plan.failedStages).to.deep.equal(['build']);
    });

    it('cancel requested: pending and waiting stages are cancelled and none is held', () => {
      const stages = [
        stage('deploy', { category: 'cost_impacting' }),
        stage('review', { status: 'waiting', category: 'security_affecting' }),
      ];

      const plan = admit(stages, { cancelRequested: true });

      expect(plan.cancel).to.have.members(['deploy', 'review']);
      expect(plan.hold).to.deep.equal([]);
      expect(plan.dispatch).to.deep.equal([]);
      expect(plan.status).to.equal('cancelled');
    });

    it('plan fields besides dispatch: returned exactly as the planner computed them', () => {
      const stages = [
        stage('a', { status: 'succeeded' }),
        stage('b', { dependsOn: ['a'], category: 'cost_impacting' }),
        stage('c', { dependsOn: ['a'] }),
      ];
      const planned = planPipeline(stages, RUN);

      const plan = admitStages(planned, stages, policy);

      expect(planned.dispatch).to.have.members(['b', 'c']);
      expect(plan).to.deep.include({
        skip: planned.skip,
        cancel: planned.cancel,
        status: planned.status,
        failedStages: planned.failedStages,
      });
      expect(plan.dispatch).to.deep.equal(['c']);
      expect(plan.hold.map((h) => h.key)).to.deep.equal(['b']);
    });
  });

  describe('threshold fixed at submission', () => {
    it('stage whose submitted autoApproveAt is stricter than the current policy: held, since the stage keeps its own threshold', () => {
      // Arrange: submitted when technical_refactor auto-approved at 95; the policy now says 85.
      const stages = [{ ...stage('refactor', { confidence: 90 }), autoApproveAt: 95 }];

      // Act
      const plan = admit(stages);

      // Assert
      expect(plan.dispatch).to.deep.equal([]);
      expect(plan.hold.map((h) => [h.key, h.status])).to.deep.equal([['refactor', 'pending']]);
    });
  });
});
