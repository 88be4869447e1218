// The agreement rules of shadow runs (src/domain/shadow-agreement.ts): when a candidate agrees
// with the incumbent, the reason given for each disagreement, and output equality, which is
// reported but never decides.
import { expect } from 'chai';
import type { GateResult } from '../../src/domain/gates.js';
import { compareShadow, jsonEqual, statusOfOutput, type ShadowSide } from '../../src/domain/shadow-agreement.js';

const gate = (metric: string, verdict: GateResult['verdict'], extra: Partial<GateResult> = {}): GateResult => ({
  metric,
  operator: '>=',
  threshold: 80,
  severity: verdict === 'warned' ? 'warning' : 'blocking',
  value: verdict === 'passed' ? 90 : 70,
  verdict,
  reason: `${metric} ${verdict}`,
  ...extra,
});

const ran = (gates: GateResult[], output: ShadowSide['output'] = { ok: true }): ShadowSide => ({
  status: statusOfOutput(gates),
  gates,
  errorCode: null,
  output,
});
const failed = (code: string): ShadowSide => ({ status: 'failed', gates: [], errorCode: code, output: null });
const asked: ShadowSide = { status: 'asked_clarification', gates: [], errorCode: null, output: null };

describe('shadow agreement (unit)', () => {
  describe('statusOfOutput', () => {
    it('an output whose blocking gates all hold (warnings allowed) succeeded; one with a failed gate gate_failed', () => {
      expect(statusOfOutput([])).to.equal('succeeded');
      expect(statusOfOutput([gate('coverage', 'passed'), gate('lint', 'warned')])).to.equal('succeeded');
      expect(statusOfOutput([gate('coverage', 'failed'), gate('lint', 'passed')])).to.equal('gate_failed');
    });
  });

  describe('compareShadow', () => {
    it('both produced outputs with the same verdict on every rule: agreed, no reasons', () => {
      const gates = [gate('coverage', 'passed'), gate('lintErrors', 'warned')];

      const result = compareShadow(ran(gates), ran(gates.map((g) => ({ ...g, value: 99 }))));

      expect(result).to.deep.equal({ agreed: true, disagreements: [], outputsEqual: true });
    });

    it('both failed the same gate: agreed (the same verdicts, the same overall fail)', () => {
      const result = compareShadow(ran([gate('coverage', 'failed')]), ran([gate('coverage', 'failed', { value: 10 })]));

      expect(result.agreed).to.equal(true);
    });

    it('a gate the incumbent passes and the candidate fails: disagreed, naming the rule and the overall verdict', () => {
      const result = compareShadow(
        ran([gate('typeErrors', 'passed'), gate('coverage', 'passed')]),
        ran([gate('typeErrors', 'passed'), gate('coverage', 'failed')]),
      );

      expect(result.agreed).to.equal(false);
      expect(result.disagreements).to.deep.equal([
        'gate coverage: incumbent pass, candidate fail',
        'gates overall: incumbent pass, candidate fail',
      ]);
    });

    it('a warning rule that passes on one side only: disagreed on that rule, the overall verdict the same', () => {
      const result = compareShadow(ran([gate('lint', 'warned')]), ran([gate('lint', 'passed', { severity: 'warning' })]));

      expect(result.agreed).to.equal(false);
      expect(result.disagreements).to.deep.equal(['gate lint: incumbent warn, candidate pass']);
    });

    it('two rules over one metric: each named with its operator and threshold', () => {
      const low = (verdict: GateResult['verdict']) => gate('coverage', verdict, { threshold: 50 });
      const result = compareShadow(ran([low('passed'), gate('coverage', 'passed')]), ran([low('passed'), gate('coverage', 'failed')]));

      expect(result.disagreements[0]).to.equal('gate coverage >= 80: incumbent pass, candidate fail');
    });

    it('rules evaluated on one side only are named (the sides never should differ in rules, but a record says so if they do)', () => {
      const result = compareShadow(ran([gate('coverage', 'passed')]), ran([gate('lint', 'passed')]));

      expect(result.disagreements).to.deep.equal([
        'gate coverage: incumbent pass, candidate not evaluated',
        'gate lint: incumbent not evaluated, candidate pass',
      ]);
    });

    it('the candidate failed where the incumbent produced an output: disagreed, naming its code', () => {
      const result = compareShadow(ran([gate('coverage', 'passed')]), failed('AGENT_OUTPUT_INVALID'));

      expect(result).to.deep.equal({ agreed: false, disagreements: ['candidate failed: AGENT_OUTPUT_INVALID'], outputsEqual: false });
    });

    it('the incumbent failed where the candidate produced an output: disagreed, naming the incumbent’s code', () => {
      const result = compareShadow(failed('STAGE_TIMEOUT'), ran([]));

      expect(result.disagreements).to.deep.equal(['incumbent failed: STAGE_TIMEOUT']);
    });

    it('both failed with the same code: agreed; with different codes: disagreed, naming both', () => {
      expect(compareShadow(failed('AGENT_ERROR'), failed('AGENT_ERROR'))).to.deep.equal({
        agreed: true,
        disagreements: [],
        outputsEqual: false,
      });
      expect(compareShadow(failed('AGENT_ERROR'), failed('DOWNSTREAM_ERROR')).disagreements).to.deep.equal([
        'error code: incumbent AGENT_ERROR, candidate DOWNSTREAM_ERROR',
      ]);
    });

    it('both asked for clarification: agreed; one side asking: disagreed, saying which', () => {
      expect(compareShadow(asked, asked).agreed).to.equal(true);
      expect(compareShadow(ran([]), asked).disagreements).to.deep.equal(['candidate asked for clarification']);
      expect(compareShadow(asked, failed('AGENT_ERROR')).disagreements).to.deep.equal([
        'candidate failed: AGENT_ERROR',
        'incumbent asked for clarification',
      ]);
    });

    it('different outputs with the same verdicts: agreed, outputsEqual false (outputs never decide)', () => {
      const gates = [gate('coverage', 'passed')];

      const result = compareShadow(ran(gates, { summary: 'all good', coverage: 90 }), ran(gates, { summary: 'fine', coverage: 91 }));

      expect(result).to.deep.equal({ agreed: true, disagreements: [], outputsEqual: false });
    });

    it('equal outputs with different verdicts: disagreed, outputsEqual true', () => {
      const result = compareShadow(ran([gate('coverage', 'passed')], { a: 1 }), ran([gate('coverage', 'failed')], { a: 1 }));

      expect(result.agreed).to.equal(false);
      expect(result.outputsEqual).to.equal(true);
    });
  });

  describe('jsonEqual', () => {
    it('ignores object key order, at every depth', () => {
      expect(jsonEqual({ a: 1, b: { c: [1, { d: true, e: null }] } }, { b: { c: [1, { e: null, d: true }] }, a: 1 })).to.equal(true);
    });

    it('keeps array order, and tells apart missing keys, extra keys, types and null', () => {
      expect(jsonEqual([1, 2], [2, 1])).to.equal(false);
      expect(jsonEqual({ a: 1 }, { a: 1, b: 2 })).to.equal(false);
      expect(jsonEqual({ a: 1, b: 2 }, { a: 1, c: 2 })).to.equal(false);
      expect(jsonEqual({ a: 1 }, { a: '1' })).to.equal(false);
      expect(jsonEqual({ a: null }, { a: {} })).to.equal(false);
      expect(jsonEqual([], {})).to.equal(false);
      expect(jsonEqual(null, null)).to.equal(true);
      expect(jsonEqual('x', 'x')).to.equal(true);
    });
  });
});
