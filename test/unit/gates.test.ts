// Unit tests for quality gates (src/domain/gates.ts): rule validation, evaluation, defaults.
import { expect } from 'chai';
import {
  DEFAULT_GATES,
  collectMetrics,
  evaluateGates,
  gateFailureMessage,
  gateRuleSchema,
  gateRulesSchema,
  resolveGates,
  type GateRule,
} from '../../src/domain/gates.js';

function rule(
  metric: string,
  operator: GateRule['operator'],
  threshold?: GateRule['threshold'],
  severity: GateRule['severity'] = 'blocking',
): GateRule {
  return { metric, operator, threshold, severity };
}

function verdictOf(r: GateRule, metrics: Record<string, unknown>) {
  return evaluateGates([r], metrics).results[0]!;
}

describe('gates', () => {
  describe('gateRuleSchema', () => {
    it('rule without severity: defaults to blocking', () => {
      const parsed = gateRuleSchema.parse({ metric: 'coverage', operator: '>=', threshold: 80 });

      expect(parsed).to.deep.equal({ metric: 'coverage', operator: '>=', threshold: 80, severity: 'blocking' });
    });

    it('exists without threshold: is valid', () => {
      const parsed = gateRuleSchema.safeParse({ metric: 'coverage', operator: 'exists' });

      expect(parsed.success).to.equal(true);
    });

    it('== without threshold: is rejected on the threshold field', () => {
      const parsed = gateRuleSchema.safeParse({ metric: 'coverage', operator: '==' });

      expect(parsed.success).to.equal(false);
      expect(parsed.error!.issues.map((i) => i.path)).to.deep.equal([['threshold']]);
    });

    for (const operator of ['>', '>=', '<', '<='] as const) {
      it(`${operator} with a string threshold: is rejected`, () => {
        const parsed = gateRuleSchema.safeParse({ metric: 'coverage', operator, threshold: '80' });

        expect(parsed.success).to.equal(false);
        expect(parsed.error!.issues[0]!.message).to.contain('numeric threshold');
      });
    }

    it('unknown property, unknown operator or empty metric: is rejected', () => {
      expect(gateRuleSchema.safeParse({ metric: 'c', operator: '==', threshold: 1, colour: 'red' }).success).to.equal(false);
      expect(gateRuleSchema.safeParse({ metric: 'c', operator: '=~', threshold: 1 }).success).to.equal(false);
      expect(gateRuleSchema.safeParse({ metric: '', operator: '==', threshold: 1 }).success).to.equal(false);
      expect(gateRuleSchema.safeParse({ metric: 'x'.repeat(101), operator: '==', threshold: 1 }).success).to.equal(false);
    });

    it('more than 50 rules: is rejected', () => {
      const rules = Array.from({ length: 51 }, (_, i) => ({ metric: `m${i}`, operator: 'exists' }));

      expect(gateRulesSchema.safeParse(rules).success).to.equal(false);
      expect(gateRulesSchema.safeParse(rules.slice(0, 50)).success).to.equal(true);
    });
  });

  describe('evaluateGates operators', () => {
    const cases: Array<[GateRule['operator'], number, number, number]> = [
      // operator, threshold, a value that holds, a value that does not
      ['>=', 80, 80, 79],
      ['>', 80, 81, 80],
      ['<=', 5, 5, 6],
      ['<', 5, 4, 5],
      ['==', 0, 0, 1],
      ['!=', 0, 1, 0],
    ];
    for (const [operator, threshold, good, bad] of cases) {
      it(`${operator} ${threshold} with ${good}: passes`, () => {
        const result = verdictOf(rule('m', operator, threshold), { m: good });

        expect(result.verdict).to.equal('passed');
        expect(result.value).to.equal(good);
      });

      it(`${operator} ${threshold} with ${bad}: fails with a readable reason`, () => {
        const result = verdictOf(rule('m', operator, threshold), { m: bad });

        expect(result.verdict).to.equal('failed');
        expect(result.reason).to.equal(`m ${bad} is not ${operator} ${threshold}`);
      });
    }

    it('exists with the metric reported: passes', () => {
      const result = verdictOf(rule('coverage', 'exists'), { coverage: 0 });

      expect(result.verdict).to.equal('passed');
      expect(result.threshold).to.equal(null);
    });

    it('exists with the metric missing: fails', () => {
      const result = verdictOf(rule('coverage', 'exists'), {});

      expect(result).to.deep.include({ verdict: 'failed', value: null, reason: 'metric "coverage" was not reported' });
    });
  });

  describe('evaluateGates values', () => {
    it('coverage below the threshold: reason names value and threshold', () => {
      const result = verdictOf(rule('coverage', '>=', 80), { coverage: 72 });

      expect(result.reason).to.equal('coverage 72 is not >= 80');
    });

    it('missing metric on an ordering rule: fails, naming the metric', () => {
      const result = verdictOf(rule('coverage', '>=', 80), { lintErrors: 0 });

      expect(result).to.deep.include({ verdict: 'failed', value: null, reason: 'metric "coverage" was not reported' });
    });

    it('metric that is an object, null or NaN: counts as missing', () => {
      for (const value of [{ lines: 90 }, null, Number.NaN, [90]]) {
        expect(verdictOf(rule('coverage', '>=', 80), { coverage: value }).reason).to.equal('metric "coverage" was not reported');
      }
    });

    it('metric named like an Object.prototype member: counts as missing', () => {
      const result = verdictOf(rule('toString', '!=', 'x'), {});

      expect(result.verdict).to.equal('failed');
    });

    it('numeric string metric on an ordering rule: compares as a number', () => {
      expect(verdictOf(rule('coverage', '>=', 80), { coverage: '85' }).verdict).to.equal('passed');
      expect(verdictOf(rule('coverage', '>=', 80), { coverage: ' 79.5 ' }).verdict).to.equal('failed');
      expect(verdictOf(rule('coverage', '>', 9), { coverage: '10' }).verdict).to.equal('passed');
    });

    it('non-numeric value on an ordering rule: fails with a reason', () => {
      const result = verdictOf(rule('coverage', '>=', 80), { coverage: 'high' });

      expect(result.verdict).to.equal('failed');
      expect(result.reason).to.equal('coverage "high" is not a number, so it cannot be compared with >=');
    });

    it('boolean value on an ordering rule: fails', () => {
      expect(verdictOf(rule('coverage', '>=', 0), { coverage: true }).verdict).to.equal('failed');
    });

    it('== between a number and a numeric string: compares numerically', () => {
      expect(verdictOf(rule('typeErrors', '==', 0), { typeErrors: '0' }).verdict).to.equal('passed');
      expect(verdictOf(rule('ratio', '==', '0.50'), { ratio: 0.5 }).verdict).to.equal('passed');
      expect(verdictOf(rule('typeErrors', '!=', 0), { typeErrors: '0.0' }).verdict).to.equal('failed');
    });

    it('== on strings and booleans: compares strictly', () => {
      expect(verdictOf(rule('healthCheck', '==', 'ok'), { healthCheck: 'ok' }).verdict).to.equal('passed');
      expect(verdictOf(rule('healthCheck', '==', 'ok'), { healthCheck: 'OK' }).verdict).to.equal('failed');
      expect(verdictOf(rule('deployed', '==', true), { deployed: true }).verdict).to.equal('passed');
      expect(verdictOf(rule('deployed', '==', true), { deployed: 'true' }).verdict).to.equal('failed');
      expect(verdictOf(rule('deployed', '!=', false), { deployed: true }).verdict).to.equal('passed');
    });

    it('string mismatch: reason quotes both strings', () => {
      const result = verdictOf(rule('healthCheck', '==', 'ok'), { healthCheck: 'degraded' });

      expect(result.reason).to.equal('healthCheck "degraded" is not == "ok"');
    });
  });

  describe('evaluateGates severity', () => {
    it('warning rule that does not hold: is warned, not a blocking failure', () => {
      const evaluation = evaluateGates([rule('coverage', '>=', 80, 'warning')], { coverage: 60 });

      expect(evaluation.results[0]!.verdict).to.equal('warned');
      expect(evaluation.warnings).to.have.length(1);
      expect(evaluation.blockingFailures).to.deep.equal([]);
    });

    it('warning rule over a missing metric: is warned', () => {
      const evaluation = evaluateGates([rule('coverage', '>=', 80, 'warning')], {});

      expect(evaluation.warnings.map((r) => r.reason)).to.deep.equal(['metric "coverage" was not reported']);
    });

    it('mixed rules: splits blocking failures and warnings, keeps every result in order', () => {
      const rules = [
        rule('typeErrors', '==', 0),
        rule('lintErrors', '==', 0),
        rule('coverage', '>=', 80, 'warning'),
        rule('docs', 'exists', undefined, 'warning'),
      ];

      const evaluation = evaluateGates(rules, { typeErrors: 0, lintErrors: 3, coverage: 70, docs: 'yes' });

      expect(evaluation.results.map((r) => r.verdict)).to.deep.equal(['passed', 'failed', 'warned', 'passed']);
      expect(evaluation.blockingFailures.map((r) => r.metric)).to.deep.equal(['lintErrors']);
      expect(evaluation.warnings.map((r) => r.metric)).to.deep.equal(['coverage']);
    });

    it('no rules: nothing fails', () => {
      expect(evaluateGates([], { coverage: 1 })).to.deep.equal({ results: [], blockingFailures: [], warnings: [] });
    });
  });

  describe('resolveGates', () => {
    it('validation stage without override: gets type, lint, failed tests and coverage gates', () => {
      const gates = resolveGates('validation', undefined);

      expect(gates).to.deep.equal([
        { metric: 'typeErrors', operator: '==', threshold: 0, severity: 'blocking' },
        { metric: 'lintErrors', operator: '==', threshold: 0, severity: 'blocking' },
        { metric: 'testsFailed', operator: '==', threshold: 0, severity: 'blocking' },
        { metric: 'coverage', operator: '>=', threshold: 80, severity: 'blocking' },
      ]);
    });

    it('e2e_test, integration and deployment stages without override: get their defaults', () => {
      expect(resolveGates('e2e_test', undefined)).to.deep.equal([{ metric: 'failed', operator: '==', threshold: 0, severity: 'blocking' }]);
      const integration = resolveGates('integration', undefined);
      expect(integration).to.deep.equal([{ metric: 'conflicts', operator: '==', threshold: 0, severity: 'blocking' }]);
      expect(resolveGates('sim_integration', undefined)).to.deep.equal(integration);
      expect(evaluateGates(integration, { conflicts: 2 }).blockingFailures.map((r) => r.reason)).to.deep.equal(['conflicts 2 is not == 0']);
      expect(resolveGates('deployment', undefined)).to.deep.equal([
        { metric: 'healthCheck', operator: '==', threshold: 'ok', severity: 'blocking' },
      ]);
    });

    it('simulated stand-ins (sim_*) without override: get the same defaults as the real agents', () => {
      for (const type of ['validation', 'e2e_test', 'deployment']) {
        expect(resolveGates(`sim_${type}`, undefined), type).to.deep.equal(resolveGates(type, undefined));
      }
    });

    it('agent type without defaults: gets no gates', () => {
      expect(resolveGates('noop', undefined)).to.deep.equal([]);
      expect(resolveGates('constructor', undefined)).to.deep.equal([]);
    });

    it('override: replaces the defaults', () => {
      const override = [rule('coverage', '>=', 60)];

      expect(resolveGates('validation', override)).to.deep.equal(override);
    });

    it('empty override: disables the defaults', () => {
      expect(resolveGates('validation', [])).to.deep.equal([]);
    });

    it('returned defaults: can be changed without changing DEFAULT_GATES', () => {
      const gates = resolveGates('deployment', undefined);

      gates.push(rule('x', 'exists'));

      expect(DEFAULT_GATES.deployment).to.have.length(1);
    });

    it('default validation gates: pass a clean run, block a failed test and a low coverage', () => {
      const gates = resolveGates('validation', undefined);
      const clean = { typeErrors: 0, lintErrors: 0, testsFailed: 0 };

      expect(evaluateGates(gates, { ...clean, coverage: 91.2 }).blockingFailures).to.deep.equal([]);
      expect(evaluateGates(gates, { ...clean, coverage: 72 }).blockingFailures.map((r) => r.reason)).to.deep.equal([
        'coverage 72 is not >= 80',
      ]);
      expect(evaluateGates(gates, { ...clean, testsFailed: 1, coverage: 91.2 }).blockingFailures.map((r) => r.reason)).to.deep.equal([
        'testsFailed 1 is not == 0',
      ]);
    });
  });

  describe('collectMetrics', () => {
    it('output with metrics and reported metrics: reported ones win', () => {
      const output = { summary: 'done', metrics: { coverage: 70, lintErrors: 0 } };

      const metrics = collectMetrics(output, { coverage: 85 });

      expect(metrics).to.deep.equal({ coverage: 85, lintErrors: 0 });
    });

    it('output metrics with non-scalar values: keeps only numbers, strings and booleans', () => {
      const output = { metrics: { coverage: 80, health: 'ok', green: false, nested: { a: 1 }, list: [1], none: null } };

      expect(collectMetrics(output, {})).to.deep.equal({ coverage: 80, health: 'ok', green: false });
    });

    it('output that is not an object or has no metrics object: only the reported ones', () => {
      for (const output of [null, 'text', 42, [1], { metrics: [1, 2] }, { metrics: 'high' }, {}]) {
        expect(collectMetrics(output, { failed: 0 })).to.deep.equal({ failed: 0 });
      }
    });
  });
});

describe('gateFailureMessage (unit)', () => {
  const failure = evaluateGates([{ metric: 'coverage', operator: '>=', threshold: 80, severity: 'blocking' }], {
    coverage: 72.5,
  }).blockingFailures;

  it("gives the value against the threshold, then the output's summary, which says why", () => {
    expect(gateFailureMessage(failure, { summary: 'test failed (coverage 72.5)' })).to.equal(
      "quality gate(s) failed: coverage 72.5 is not >= 80 (the stage's output says: test failed (coverage 72.5))",
    );
  });

  it('without a string summary: the reasons only; a long summary is cut at 500 characters', () => {
    expect(gateFailureMessage(failure, { metrics: {} })).to.equal('quality gate(s) failed: coverage 72.5 is not >= 80');
    expect(gateFailureMessage(failure, null)).to.equal('quality gate(s) failed: coverage 72.5 is not >= 80');
    expect(gateFailureMessage(failure, { summary: 'x'.repeat(600) })).to.have.string(`${'x'.repeat(500)}…)`);
  });
});
