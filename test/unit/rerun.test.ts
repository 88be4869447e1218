// Unit tests for the re-run rule (src/domain/rerun.ts): which stages a re-run runs and which it
// reuses, over several DAG shapes, and the first status, waiting_on and confidence of each. Pure.
import { expect } from 'chai';
import {
  defaultRerunFrom,
  definitionAsItEnded,
  planRerun,
  rerunConfidence,
  rerunFromProblems,
  rerunRequestSchema,
  rerunStageStatus,
  rerunWaitingOn,
  type RerunSourceStage,
} from '../../src/domain/rerun.js';
import { planPipeline } from '../../src/domain/planner.js';
import type { StageStatus } from '../../src/domain/status.js';

const s = (key: string, status: StageStatus, dependsOn: string[] = []): RerunSourceStage => ({ key, status, dependsOn });

/** scaffold → validation ∥ e2e → integration, validation failed (integration skipped). */
const failedDiamond = [
  s('scaffold', 'succeeded'),
  s('validation', 'failed', ['scaffold']),
  s('e2e', 'succeeded', ['scaffold']),
  s('integration', 'skipped', ['validation', 'e2e']),
];

describe('re-run rule (domain/rerun.ts)', () => {
  describe('planRerun', () => {
    it('failed diamond, default from: runs the failed stage and what follows it, reuses the rest', () => {
      const plan = planRerun(failedDiamond);
      expect(plan).to.deep.equal({ from: ['validation'], run: ['validation', 'integration'], reuse: ['scaffold', 'e2e'] });
    });

    it('succeeded chain from a middle stage: the upstream is reused, the stage and everything downstream run', () => {
      const chain = [s('a', 'succeeded'), s('b', 'succeeded', ['a']), s('c', 'succeeded', ['b']), s('d', 'succeeded', ['c'])];
      expect(planRerun(chain, ['c'])).to.deep.equal({ from: ['c'], run: ['c', 'd'], reuse: ['a', 'b'] });
    });

    it('succeeded pipeline, default from: the roots, so everything runs again', () => {
      const chain = [s('a', 'succeeded'), s('b', 'succeeded', ['a'])];
      expect(defaultRerunFrom(chain)).to.deep.equal(['a']);
      expect(planRerun(chain)).to.deep.equal({ from: ['a'], run: ['a', 'b'], reuse: [] });
    });

    it('an upstream stage that did not succeed runs too, with its downstream (never reused)', () => {
      // a failed with continueOnFailure, so b ran and succeeded; re-running c still re-runs a and b.
      const stages = [s('a', 'failed'), s('b', 'succeeded', ['a']), s('c', 'succeeded', ['b']), s('x', 'succeeded')];
      expect(planRerun(stages, ['c'])).to.deep.equal({ from: ['c'], run: ['a', 'b', 'c'], reuse: ['x'] });
    });

    it('cancelled pipeline: default from is the failed and cancelled stages, their skipped dependants run', () => {
      const stages = [s('a', 'succeeded'), s('b', 'cancelled', ['a']), s('c', 'cancelled', ['a']), s('d', 'skipped', ['b'])];
      expect(defaultRerunFrom(stages)).to.deep.equal(['b', 'c']);
      expect(planRerun(stages)).to.deep.equal({ from: ['b', 'c'], run: ['b', 'c', 'd'], reuse: ['a'] });
    });

    it('two independent branches: choosing one leaves the other reused', () => {
      const stages = [s('a1', 'succeeded'), s('a2', 'succeeded', ['a1']), s('b1', 'succeeded'), s('b2', 'succeeded', ['b1'])];
      expect(planRerun(stages, ['b1'])).to.deep.equal({ from: ['b1'], run: ['b1', 'b2'], reuse: ['a1', 'a2'] });
    });

    it('wide fan-in: one failed branch re-runs only itself and the sink', () => {
      const branches = Array.from({ length: 5 }, (_, i) => s(`b${i}`, i === 3 ? 'failed' : 'succeeded', ['root']));
      const stages = [
        s('root', 'succeeded'),
        ...branches,
        s(
          'sink',
          'skipped',
          branches.map((b) => b.key),
        ),
      ];
      expect(planRerun(stages)).to.deep.equal({
        from: ['b3'],
        run: ['b3', 'sink'],
        reuse: ['root', 'b0', 'b1', 'b2', 'b4'],
      });
    });

    it('workspace stages: one that runs pulls in the workspace stages upstream of it (their files are not carried over), and what follows them', () => {
      // The sdlc shape: every stage works in the workspace; validation failed.
      const ws = (key: string, status: StageStatus, dependsOn: string[] = []) => ({ ...s(key, status, dependsOn), workspace: true });
      const sdlc = [
        s('requirements', 'succeeded'),
        ws('scaffold', 'succeeded', ['requirements']),
        ws('validation', 'failed', ['scaffold']),
        ws('e2e', 'succeeded', ['scaffold']),
        ws('integration', 'skipped', ['validation', 'e2e']),
      ];
      expect(planRerun(sdlc)).to.deep.equal({
        from: ['validation'],
        run: ['scaffold', 'validation', 'e2e', 'integration'],
        reuse: ['requirements'],
      });
      // A stage that runs without the workspace pulls nothing in.
      const mixed = [ws('files', 'succeeded'), s('report', 'failed', ['files'])];
      expect(planRerun(mixed)).to.deep.equal({ from: ['report'], run: ['report'], reuse: ['files'] });
      // Transitively, through a stage that does not use the workspace.
      const through = [ws('a', 'succeeded'), s('b', 'succeeded', ['a']), ws('c', 'succeeded', ['b'])];
      expect(planRerun(through, ['c'])).to.deep.equal({ from: ['c'], run: ['a', 'b', 'c'], reuse: [] });
    });

    it('keeps definition order and drops repeats in `from`', () => {
      const chain = [s('a', 'succeeded'), s('b', 'succeeded', ['a']), s('c', 'succeeded', ['a'])];
      expect(planRerun(chain, ['c', 'b', 'c'])).to.deep.equal({ from: ['b', 'c'], run: ['b', 'c'], reuse: ['a'] });
    });

    it('every reused stage succeeded and none has an upstream stage that runs (any shape, any from)', () => {
      const stages = [
        s('a', 'succeeded'),
        s('b', 'failed', ['a']),
        s('c', 'succeeded', ['a']),
        s('d', 'skipped', ['b', 'c']),
        s('e', 'succeeded', ['c']),
        s('f', 'succeeded'),
      ];
      const byKey = new Map(stages.map((x) => [x.key, x]));
      const upstream = (key: string): string[] => byKey.get(key)!.dependsOn.flatMap((dep) => [dep, ...upstream(dep)]);
      for (const from of [undefined, ['a'], ['c'], ['e'], ['f'], ['a', 'f']]) {
        const plan = planRerun(stages, from);
        expect([...plan.run, ...plan.reuse].sort(), `from ${from}`).to.deep.equal(stages.map((x) => x.key).sort());
        for (const key of plan.reuse) {
          expect(byKey.get(key)!.status, key).to.equal('succeeded');
          expect(
            upstream(key).filter((up) => plan.run.includes(up)),
            key,
          ).to.deep.equal([]);
        }
      }
    });
  });

  describe('the request', () => {
    it('names each unknown stage key as from[i]', () => {
      expect(rerunFromProblems(failedDiamond, ['e2e', 'nope', 'validation', 'gone'])).to.deep.equal([
        { field: 'from[1]', code: 'unknown_stage', message: 'the pipeline has no stage "nope"' },
        { field: 'from[3]', code: 'unknown_stage', message: 'the pipeline has no stage "gone"' },
      ]);
      expect(rerunFromProblems(failedDiamond, ['e2e'])).to.deep.equal([]);
    });

    it('takes an absent or listed from, and refuses an empty list or another field', () => {
      expect(rerunRequestSchema.safeParse({}).success).to.equal(true);
      expect(rerunRequestSchema.safeParse({ from: ['a'] }).success).to.equal(true);
      expect(rerunRequestSchema.safeParse({ from: [] }).success).to.equal(false);
      expect(rerunRequestSchema.safeParse({ from: 'a' }).success).to.equal(false);
      expect(rerunRequestSchema.safeParse({ form: ['a'] }).success).to.equal(false);
    });
  });

  describe('the definition a re-run submits', () => {
    it('takes the pipeline input and each stage input as they ended (answers included), the rest as stored', () => {
      const stored = {
        name: 'p',
        input: { requirements: 'maybe' },
        stages: [
          { key: 'a', agent: 'noop', input: { x: 1 }, dependsOn: [] },
          { key: 'b', agent: 'ask', input: {}, dependsOn: ['a'] },
        ],
      };
      const answered = { requirements: 'maybe', clarifications: [{ answers: [{ id: 'q', question: '?', answer: 'yes' }] }] };
      const bAnswered = { clarifications: [{ answers: [{ id: 'r', question: 'Which region?', answer: 'eu' }] }] };
      expect(definitionAsItEnded(stored, answered, new Map([['b', bAnswered]]))).to.deep.equal({
        name: 'p',
        input: answered,
        stages: [
          { key: 'a', agent: 'noop', input: { x: 1 }, dependsOn: [] },
          { key: 'b', agent: 'ask', input: bAnswered, dependsOn: ['a'] },
        ],
      });
      expect(definitionAsItEnded(null, {}, new Map())).to.deep.equal({});
    });

    it('drops the approvals a stage was given (input.decisions): the re-run asks for them again', () => {
      const approval = { key: 'llm-budget', decisionId: 'DEC-2026-00001', category: 'cost_impacting', approvedBy: 'em', comment: null };
      const answers = [{ answers: [{ id: 'r', question: 'Which region?', answer: 'eu' }] }];
      const stored = {
        name: 'p',
        input: {},
        stages: [
          { key: 'l', agent: 'llm', input: { prompt: 'hi', tokenBudget: 10 }, dependsOn: [] },
          { key: 'old', agent: 'llm', input: { prompt: 'hi', decisions: [approval] }, dependsOn: [] },
        ],
      };
      const ended = { prompt: 'hi', tokenBudget: 10, decisions: [approval], clarifications: answers };

      const definition = definitionAsItEnded(stored, {}, new Map([['l', ended]]));

      expect(definition.stages).to.deep.equal([
        { key: 'l', agent: 'llm', input: { prompt: 'hi', tokenBudget: 10, clarifications: answers }, dependsOn: [] },
        { key: 'old', agent: 'llm', input: { prompt: 'hi' }, dependsOn: [] },
      ]);
    });
  });

  describe('the new pipeline', () => {
    const reused = new Set(['scaffold', 'e2e']);
    const admitted = { admitted: true };
    const facts = { autoApproveAt: 0, confidence: null };

    it('a reused stage is created succeeded; a stage whose dependencies are all reused starts queued; the others pending', () => {
      expect(rerunStageStatus({ key: 'scaffold', dependsOn: [], ...facts }, reused, admitted)).to.equal('succeeded');
      expect(rerunStageStatus({ key: 'validation', dependsOn: ['scaffold'], ...facts }, reused, admitted)).to.equal('queued');
      expect(rerunStageStatus({ key: 'integration', dependsOn: ['validation', 'e2e'], ...facts }, reused, admitted)).to.equal('pending');
    });

    it('a ready stage the policy wants a human for, or of a pipeline admission keeps queued, starts pending', () => {
      const human = { autoApproveAt: null, confidence: null };
      expect(rerunStageStatus({ key: 'validation', dependsOn: ['scaffold'], ...human }, reused, admitted)).to.equal('pending');
      expect(rerunStageStatus({ key: 'validation', dependsOn: ['scaffold'], ...facts }, reused, { admitted: false })).to.equal('pending');
      expect(
        rerunStageStatus({ key: 'validation', dependsOn: ['scaffold'], ...facts }, reused, { admitted: true, autoApproval: false }),
      ).to.equal('pending');
    });

    it('waiting_on counts only the dependencies that run', () => {
      expect(rerunWaitingOn(['validation', 'e2e'], reused)).to.equal(1);
      expect(rerunWaitingOn(['scaffold'], reused)).to.equal(0);
      expect(rerunWaitingOn([], reused)).to.equal(0);
    });

    it('the planner then releases exactly the stages whose dependencies are reused, and not the others', () => {
      const plan = planRerun(failedDiamond);
      const statuses = failedDiamond.map((x) => ({
        key: x.key,
        dependsOn: x.dependsOn,
        continueOnFailure: false,
        status: plan.reuse.includes(x.key) ? ('succeeded' as const) : ('pending' as const),
      }));
      expect(planPipeline(statuses, { cancelRequested: false }).dispatch).to.deep.equal(['validation']);
    });

    it('confidence starts at the lowest of the input and the reused outputs report', () => {
      expect(rerunConfidence(90, [{ confidence: 70 }, { confidence: 95 }, null, 'text'])).to.equal(70);
      expect(rerunConfidence(null, [{ confidence: 80 }])).to.equal(80);
      expect(rerunConfidence(60, [{ confidence: 'high' }])).to.equal(60);
      expect(rerunConfidence(null, [])).to.equal(null);
    });
  });
});
