// Unit tests for the decision policy (src/domain/decision-policy.ts) against the shipped default
// policy file, loaded through src/infra/policy/policy-file.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  DECISION_CATEGORIES,
  DECISION_ID_PATTERN,
  autoApproveThreshold,
  categoryForStage,
  durationSchema,
  evaluateDecision,
  formatDecisionId,
  normalizeConfidence,
  parseDecisionPolicy,
  type DecisionCategory,
  type DecisionPolicy,
} from '../../src/domain/decision-policy.js';
import { ValidationError } from '../../src/domain/errors.js';
import { loadDecisionPolicy } from '../../src/infra/policy/policy-file.js';

const HOUR = 3_600_000;

function rawPolicy(): Record<string, unknown> {
  const category = { autoApproveAt: 90, deadline: '1h', onDeadline: 'reject', approvers: ['tech_lead'] };
  return {
    version: 'test',
    escalateBelow: 50,
    categories: Object.fromEntries(DECISION_CATEGORIES.map((c) => [c, { ...category }])),
    escalation: { approvers: ['director'], deadline: '2h' },
  };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('decision policy', () => {
  let policy: DecisionPolicy;
  before(() => {
    policy = loadDecisionPolicy('policies/decision-policy.yaml');
  });

  describe('default policy file', () => {
    it('loaded: has the expected version, floor and deadlines in milliseconds', () => {
      expect(policy.version).to.equal('2026-11-29.1');
      expect(policy.escalateBelow).to.equal(80);
      expect(policy.escalation).to.deep.equal({ approvers: ['engineering_director'], deadlineMs: 24 * HOUR });
      expect(policy.categories.data_migration).to.deep.equal({
        autoApproveAt: 95,
        alwaysHuman: true,
        onDeadline: 'reject',
        quorum: 2,
        approvers: ['dba', 'tech_lead'],
        deadlineMs: 8 * HOUR,
      });
    });

    // category, autoApproveAt, alwaysHuman, approvers, quorum, deadline (h), onDeadline
    const table: Array<[DecisionCategory, number, boolean, string[], number, number, 'reject' | 'escalate']> = [
      ['technical_refactor', 85, false, ['tech_lead'], 1, 24, 'escalate'],
      ['cost_impacting', 92, true, ['engineering_manager'], 1, 4, 'reject'],
      ['security_affecting', 100, true, ['security_lead'], 1, 24, 'reject'],
      ['architectural_change', 90, true, ['tech_lead'], 1, 24, 'escalate'],
      ['data_migration', 95, true, ['dba', 'tech_lead'], 2, 8, 'reject'],
    ];
    for (const [category, threshold, alwaysHuman, approvers, quorum, hours, onDeadline] of table) {
      const expected = alwaysHuman ? 'human' : 'auto_approve';

      it(`${category} at its threshold ${threshold}: ${expected}`, () => {
        const decision = evaluateDecision(policy, category, threshold);

        expect(decision).to.deep.include({
          outcome: expected,
          category,
          threshold,
          confidence: threshold,
          alwaysHuman,
          quorum,
          onDeadline,
        });
        expect(decision.approvers).to.deep.equal(approvers);
        expect(decision.deadlineMs).to.equal(hours * HOUR);
      });

      if (threshold < 100) {
        it(`${category} above its threshold: ${expected}`, () => {
          expect(evaluateDecision(policy, category, threshold + 1).outcome).to.equal(expected);
        });
      }

      it(`${category} just below its threshold (still above the floor): human`, () => {
        const decision = evaluateDecision(policy, category, threshold - 0.5);

        expect(decision.outcome).to.equal('human');
        expect(decision.approvers).to.deep.equal(approvers);
      });

      it(`${category}: autoApproveThreshold is ${alwaysHuman ? 'null' : threshold}`, () => {
        expect(autoApproveThreshold(policy, category)).to.equal(alwaysHuman ? null : threshold);
      });
    }

    it('technical_refactor below threshold: reason names confidence and threshold', () => {
      const decision = evaluateDecision(policy, 'technical_refactor', 84);

      expect(decision.reason).to.equal('confidence 84% is below the technical_refactor auto-approve threshold 85%');
    });

    it('always-human category with full confidence: still human', () => {
      const decision = evaluateDecision(policy, 'security_affecting', 100);

      expect(decision.outcome).to.equal('human');
      expect(decision.reason).to.equal('security_affecting decisions always need a human');
    });
  });

  describe('escalation', () => {
    it('confidence 79, one below the floor: escalates to the escalation approvers, rejected at deadline', () => {
      const decision = evaluateDecision(policy, 'technical_refactor', 79);

      expect(decision).to.deep.equal({
        outcome: 'escalate',
        category: 'technical_refactor',
        threshold: 85,
        confidence: 79,
        alwaysHuman: false,
        approvers: ['engineering_director'],
        quorum: 1,
        deadlineMs: 24 * HOUR,
        onDeadline: 'reject',
        reason: 'confidence 79% is below the escalation floor 80%',
      });
    });

    it('confidence 80, at the floor: does not escalate', () => {
      expect(evaluateDecision(policy, 'technical_refactor', 80).outcome).to.equal('human');
      expect(evaluateDecision(policy, 'data_migration', 80).outcome).to.equal('human');
    });

    it('low confidence on an always-human category: escalates all the same', () => {
      for (const category of DECISION_CATEGORIES) {
        expect(evaluateDecision(policy, category, 10).outcome).to.equal('escalate');
      }
    });
  });

  describe('missing confidence', () => {
    it('null on technical_refactor: counts as 100 and auto-approves', () => {
      const decision = evaluateDecision(policy, 'technical_refactor', null);

      expect(decision).to.deep.include({ outcome: 'auto_approve', confidence: 100 });
      expect(decision.reason).to.contain('not reported');
    });

    it('null on an always-human category: goes to a human', () => {
      expect(evaluateDecision(policy, 'cost_impacting', null).outcome).to.equal('human');
    });

    it('confidence out of range: throws a RangeError instead of guessing', () => {
      expect(() => evaluateDecision(policy, 'technical_refactor', 150)).to.throw(RangeError);
      expect(() => evaluateDecision(policy, 'technical_refactor', Number.NaN)).to.throw(RangeError);
    });
  });

  describe('normalizeConfidence', () => {
    it('percent in range: is returned as is', () => {
      expect([0, 0.85, 79.5, 100].map(normalizeConfidence)).to.deep.equal([0, 0.85, 79.5, 100]);
    });

    it('anything else: null', () => {
      expect([-1, 100.1, Number.NaN, Infinity, '85', null, undefined, {}].map(normalizeConfidence)).to.deep.equal(Array(8).fill(null));
    });
  });

  describe('categoryForStage', () => {
    const mapping: Array<[string, DecisionCategory]> = [
      ['scaffold', 'architectural_change'],
      ['sim_scaffold', 'architectural_change'],
      ['integration', 'architectural_change'],
      ['sim_integration', 'architectural_change'],
      ['deployment', 'cost_impacting'],
      ['sim_deployment', 'cost_impacting'],
      ['migration', 'data_migration'],
      ['validation', 'technical_refactor'],
      ['sim_validation', 'technical_refactor'],
      ['noop', 'technical_refactor'],
      ['constructor', 'technical_refactor'],
    ];
    for (const [agent, category] of mapping) {
      it(`${agent} without a declared category: ${category}`, () => {
        expect(categoryForStage(agent)).to.equal(category);
      });
    }

    it('declared category: wins over the agent type', () => {
      expect(categoryForStage('deployment', 'security_affecting')).to.equal('security_affecting');
    });
  });

  describe('durationSchema', () => {
    it('each unit: parses to milliseconds', () => {
      const parsed = ['500ms', '30s', '15m', '4h', '2d'].map((d) => durationSchema.parse(d));

      expect(parsed).to.deep.equal([500, 30_000, 900_000, 4 * HOUR, 48 * HOUR]);
    });

    it('malformed durations: are rejected with the expected format', () => {
      for (const bad of ['4', 'h', '4 h', '4H', '1.5h', '-1h', '4w', '', ' 4h']) {
        const parsed = durationSchema.safeParse(bad);

        expect(parsed.success, bad).to.equal(false);
        expect(parsed.error!.issues[0]!.message).to.contain('"4h"');
      }
    });

    it('number instead of a string: is rejected with the expected format', () => {
      expect(durationSchema.safeParse(3600).error!.issues[0]!.message).to.contain('"500ms"');
    });

    it('zero or over 30 days: is rejected', () => {
      expect(durationSchema.safeParse('0s').success).to.equal(false);
      expect(durationSchema.safeParse('31d').success).to.equal(false);
      expect(durationSchema.safeParse('30d').success).to.equal(true);
    });
  });

  describe('parseDecisionPolicy', () => {
    it('valid policy with defaults left out: fills alwaysHuman and quorum', () => {
      const parsed = parseDecisionPolicy(rawPolicy());

      expect(parsed.categories.cost_impacting).to.deep.equal({
        autoApproveAt: 90,
        alwaysHuman: false,
        onDeadline: 'reject',
        quorum: 1,
        approvers: ['tech_lead'],
        deadlineMs: HOUR,
      });
      expect(parsed.escalation.deadlineMs).to.equal(2 * HOUR);
    });

    it('several bad fields: one ValidationError naming every one', () => {
      const raw = rawPolicy();
      raw.escalateBelow = 120;
      const categories = raw.categories as Record<string, Record<string, unknown>>;
      categories.cost_impacting!.deadline = 'soon';
      categories.data_migration!.quorum = 0;
      categories.technical_refactor!.approvers = [];
      categories.technical_refactor!.colour = 'red';
      delete categories.security_affecting;
      raw.escalation = { approvers: ['director'], deadline: '2h', extra: true };

      const error = thrown(() => parseDecisionPolicy(raw));

      expect(error).to.be.instanceOf(ValidationError);
      expect((error as ValidationError).details.map((d) => d.field)).to.have.members([
        'escalateBelow',
        'categories.cost_impacting.deadline',
        'categories.data_migration.quorum',
        'categories.technical_refactor.approvers',
        'categories.technical_refactor.colour',
        'categories.security_affecting',
        'escalation.extra',
      ]);
    });

    it('auto-approve threshold under the escalation floor: ValidationError naming that autoApproveAt', () => {
      const raw = rawPolicy();
      raw.escalateBelow = 80;
      const categories = raw.categories as Record<string, Record<string, unknown>>;
      categories.technical_refactor!.autoApproveAt = 75;
      categories.cost_impacting!.autoApproveAt = 60;
      categories.cost_impacting!.alwaysHuman = true;

      const error = thrown(() => parseDecisionPolicy(raw));

      expect(error).to.be.instanceOf(ValidationError);
      expect((error as ValidationError).details.map((d) => d.field)).to.deep.equal(['categories.technical_refactor.autoApproveAt']);
    });

    it('not an object: ValidationError on the whole body', () => {
      const error = thrown(() => parseDecisionPolicy('policy'));

      expect((error as ValidationError).details.map((d) => d.field)).to.deep.equal(['(body)']);
    });
  });

  describe('loadDecisionPolicy', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'policy-'));
    });
    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it('missing file: throws naming the path', () => {
      const path = join(dir, 'absent.yaml');

      expect(() => loadDecisionPolicy(path)).to.throw(Error, `decision policy ${path} cannot be read`);
    });

    it('bad YAML: throws naming the path', () => {
      const path = join(dir, 'bad.yaml');
      writeFileSync(path, 'version: [unclosed\n');

      expect(() => loadDecisionPolicy(path)).to.throw(Error, `decision policy ${path} is not valid YAML`);
    });

    it('schema problem: rethrows a ValidationError naming the path and the field', () => {
      const path = join(dir, 'invalid.yaml');
      writeFileSync(path, 'version: x\nescalateBelow: 80\n');

      const error = thrown(() => loadDecisionPolicy(path));

      expect(error).to.be.instanceOf(ValidationError);
      expect((error as ValidationError).message)
        .to.contain(path)
        .and.to.contain('categories');
    });
  });

  describe('formatDecisionId', () => {
    it('small sequence: pads to five digits and matches the pattern', () => {
      const id = formatDecisionId(2026, 42);

      expect(id).to.equal('DEC-2026-00042');
      expect(DECISION_ID_PATTERN.test(id)).to.equal(true);
    });

    it('sequence past 99999: grows wider and still matches', () => {
      const id = formatDecisionId(2026, 123456);

      expect(id).to.equal('DEC-2026-123456');
      expect(DECISION_ID_PATTERN.test(id)).to.equal(true);
    });

    it('bad year or sequence: throws a RangeError', () => {
      expect(() => formatDecisionId(26, 1)).to.throw(RangeError);
      expect(() => formatDecisionId(2026, 0)).to.throw(RangeError);
      expect(() => formatDecisionId(2026, 1.5)).to.throw(RangeError);
    });

    it('pattern: rejects short sequences and other prefixes', () => {
      expect(DECISION_ID_PATTERN.test('DEC-2026-0042')).to.equal(false);
      expect(DECISION_ID_PATTERN.test('DEC-26-00042')).to.equal(false);
      expect(DECISION_ID_PATTERN.test('xDEC-2026-00042')).to.equal(false);
    });
  });
});
