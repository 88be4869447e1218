// Quality gates end to end: rules over the metrics a stage reports decide whether its result
// flows downstream. A blocking failure fails the stage at once (no retry), a warning is recorded.
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness.js';
import { request, waitForPipeline, type JsonResponse, type Loose } from '../support/http.js';

const PIPELINES = '/api/v1/pipelines';
const fastRetry = (attempts: number) => ({ attempts, backoff: { type: 'fixed', delayMs: 20, jitter: 0 } });
const stageOf = (p: Loose, key: string): Loose => (p.stages as Loose[]).find((s) => s.key === key)!;

/** The gate results of a run, by metric (one rule per metric in these tests). */
const gatesByMetric = (run: Loose): Record<string, Loose> => Object.fromEntries((run.gates as Loose[]).map((g) => [g.metric, g]));

function expectValidationError(res: JsonResponse<Loose>, field: string): Loose {
  expect(res.status, JSON.stringify(res.body)).to.equal(400);
  expect(res.body.error.code).to.equal('VALIDATION_FAILED');
  const detail = (res.body.error.details as Loose[]).find((d) => d.field === field);
  expect(detail, `no detail for ${field} in ${JSON.stringify(res.body.error.details)}`).to.not.equal(undefined);
  return detail!;
}

describe('quality gates (e2e)', () => {
  let h: Harness;
  const submit = async (definition: unknown): Promise<Loose> => {
    const res = await request(h.baseUrl, 'POST', PIPELINES, definition);
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    return res.body;
  };
  const runsOf = async (id: string, key: string): Promise<Loose[]> =>
    ((await request(h.baseUrl, 'GET', `${PIPELINES}/${id}/runs`)).body.items as Loose[]).filter((r) => r.stageKey === key);

  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  describe('default gates', () => {
    it('validation with coverage 70: fails GATE_FAILED after one attempt, downstream skipped, pipeline failed', async () => {
      // Arrange
      const definition = {
        name: 'gate-coverage-70',
        stages: [
          { key: 'validate', agent: 'sim_validation', input: { simulate: { metrics: { coverage: 70 } } }, retry: fastRetry(3) },
          { key: 'ship', agent: 'noop', dependsOn: ['validate'] },
        ],
      };

      // Act
      const created = await submit(definition);
      const done = await waitForPipeline(h.baseUrl, created.id);

      // Assert
      expect(done.status).to.equal('failed');
      const validate = stageOf(done, 'validate');
      expect(validate.status).to.equal('failed');
      expect(validate.attempts).to.equal(1);
      expect(validate.error).to.include({ code: 'GATE_FAILED', retryable: false });
      expect(validate.error.message).to.contain('coverage 70 is not >= 80');
      expect(validate.error.gates).to.deep.equal([
        { metric: 'coverage', operator: '>=', threshold: 80, value: 70, reason: 'coverage 70 is not >= 80' },
      ]);
      expect(stageOf(done, 'ship').status).to.equal('skipped');
      expect(done.error).to.include({ code: 'STAGES_FAILED' });
      expect(done.error.failedStages).to.deep.equal(['validate']);

      const runs = await runsOf(created.id, 'validate');
      expect(runs).to.have.length(1);
      expect(runs[0]!.status).to.equal('failed');
      const gates = gatesByMetric(runs[0]!);
      expect(Object.keys(gates)).to.have.members(['typeErrors', 'lintErrors', 'testsFailed', 'coverage']);
      expect(gates.typeErrors).to.include({ operator: '==', threshold: 0, value: 0, severity: 'blocking', verdict: 'passed' });
      expect(gates.lintErrors).to.include({ operator: '==', threshold: 0, value: 0, severity: 'blocking', verdict: 'passed' });
      expect(gates.coverage).to.include({ operator: '>=', threshold: 80, value: 70, severity: 'blocking', verdict: 'failed' });
      expect(await runsOf(created.id, 'ship')).to.deep.equal([]);
    });

    it('validation with its default metrics: every default gate passes and the pipeline succeeds', async () => {
      const created = await submit({ name: 'gate-defaults-pass', stages: [{ key: 'validate', agent: 'sim_validation' }] });

      const done = await waitForPipeline(h.baseUrl, created.id);

      expect(done.status).to.equal('succeeded');
      const [run] = await runsOf(created.id, 'validate');
      expect((run!.gates as Loose[]).map((g) => [g.metric, g.verdict])).to.deep.equal([
        ['typeErrors', 'passed'],
        ['lintErrors', 'passed'],
        ['testsFailed', 'passed'],
        ['coverage', 'passed'],
      ]);
      expect(run!.metrics).to.include({ typeErrors: 0, lintErrors: 0, testsFailed: 0, coverage: 86 });
    });

    it('e2e_test with 3 failed tests: its default gate (failed == 0) fails the stage without a retry', async () => {
      const created = await submit({
        name: 'gate-e2e-failed',
        stages: [{ key: 'e2e', agent: 'sim_e2e_test', input: { simulate: { metrics: { failed: 3 } } }, retry: fastRetry(4) }],
      });

      const done = await waitForPipeline(h.baseUrl, created.id);

      expect(done.status).to.equal('failed');
      expect(stageOf(done, 'e2e').error).to.include({ code: 'GATE_FAILED' });
      // The value against the threshold, then why: the stage output's own summary.
      expect(stageOf(done, 'e2e').error.message).to.equal(
        "quality gate(s) failed: failed 3 is not == 0 (the stage's output says: end-to-end tests finished)",
      );
      const runs = await runsOf(created.id, 'e2e');
      expect(runs).to.have.length(1);
      expect(runs[0]!.gates).to.have.length(1);
      expect(runs[0]!.gates[0]).to.include({ metric: 'failed', operator: '==', threshold: 0, value: 3, verdict: 'failed' });
    });

    it('noop stage: has no default gates, so its runs record none', async () => {
      const created = await submit({ name: 'gate-none', stages: [{ key: 'plain', agent: 'noop', input: { metrics: { coverage: 1 } } }] });

      const done = await waitForPipeline(h.baseUrl, created.id);

      expect(done.status).to.equal('succeeded');
      expect(stageOf(done, 'plain').gates).to.deep.equal([]);
      const [run] = await runsOf(created.id, 'plain');
      expect(run!.gates).to.deep.equal([]);
    });
  });

  describe('warnings', () => {
    it('warning rule not met: recorded as warned and the pipeline succeeds', async () => {
      // Arrange: coverage 86 (the default) against a 90 warning.
      const definition = {
        name: 'gate-warning',
        stages: [
          { key: 'validate', agent: 'sim_validation', gates: [{ metric: 'coverage', operator: '>=', threshold: 90, severity: 'warning' }] },
          { key: 'ship', agent: 'noop', dependsOn: ['validate'] },
        ],
      };

      // Act
      const created = await submit(definition);
      const done = await waitForPipeline(h.baseUrl, created.id);

      // Assert
      expect(done.status).to.equal('succeeded');
      expect(stageOf(done, 'validate').status).to.equal('succeeded');
      expect(stageOf(done, 'validate').error).to.equal(null);
      expect(stageOf(done, 'ship').status).to.equal('succeeded');
      const [run] = await runsOf(created.id, 'validate');
      expect(run!.gates).to.have.length(1);
      expect(run!.gates[0]).to.deep.equal({
        metric: 'coverage',
        operator: '>=',
        threshold: 90,
        severity: 'warning',
        value: 86,
        verdict: 'warned',
        reason: 'coverage 86 is not >= 90',
      });
    });

    it('warning on a missing metric beside a passing blocking rule: warned, the stage succeeds', async () => {
      const created = await submit({
        name: 'gate-warning-missing',
        stages: [
          {
            key: 'validate',
            agent: 'sim_validation',
            gates: [
              { metric: 'coverage', operator: '>=', threshold: 80 },
              { metric: 'mutationScore', operator: '>=', threshold: 60, severity: 'warning' },
            ],
          },
        ],
      });

      const done = await waitForPipeline(h.baseUrl, created.id);

      expect(done.status).to.equal('succeeded');
      const gates = gatesByMetric((await runsOf(created.id, 'validate'))[0]!);
      expect(gates.coverage).to.include({ severity: 'blocking', verdict: 'passed' });
      expect(gates.mutationScore).to.include({
        severity: 'warning',
        verdict: 'warned',
        value: null,
        reason: 'metric "mutationScore" was not reported',
      });
    });
  });

  describe('operators through a custom gates list', () => {
    const metrics = { coverage: 86, lintErrors: 0, healthCheck: 'ok', flaky: false, score: '85.5' };

    it('every operator where its rule holds: all seven pass and the stage succeeds', async () => {
      // Arrange
      const gates = [
        { metric: 'coverage', operator: '>=', threshold: 86 },
        { metric: 'score', operator: '>', threshold: 85 },
        { metric: 'lintErrors', operator: '<=', threshold: 0 },
        { metric: 'typeErrors', operator: '<', threshold: 1 },
        { metric: 'healthCheck', operator: '==', threshold: 'ok' },
        { metric: 'flaky', operator: '!=', threshold: true },
        { metric: 'coverage', operator: 'exists' },
      ];

      // Act
      const created = await submit({
        name: 'gate-ops-pass',
        stages: [{ key: 'check', agent: 'sim_validation', input: { simulate: { metrics } }, gates }],
      });
      const done = await waitForPipeline(h.baseUrl, created.id);

      // Assert
      expect(done.status).to.equal('succeeded');
      const [run] = await runsOf(created.id, 'check');
      expect((run!.gates as Loose[]).map((g) => [g.metric, g.operator, g.verdict])).to.deep.equal([
        ['coverage', '>=', 'passed'],
        ['score', '>', 'passed'],
        ['lintErrors', '<=', 'passed'],
        ['typeErrors', '<', 'passed'],
        ['healthCheck', '==', 'passed'],
        ['flaky', '!=', 'passed'],
        ['coverage', 'exists', 'passed'],
      ]);
      expect(run!.gates[1]).to.include({ value: '85.5', threshold: 85 });
      expect(run!.gates[5]).to.include({ value: false, threshold: true });
    });

    it('every operator where its rule does not hold: the stage fails once with all seven failures in its error', async () => {
      const gates = [
        { metric: 'coverage', operator: '>=', threshold: 87 },
        { metric: 'coverage', operator: '>', threshold: 86 },
        { metric: 'lintErrors', operator: '<=', threshold: -1 },
        { metric: 'lintErrors', operator: '<', threshold: 0 },
        { metric: 'healthCheck', operator: '==', threshold: 'degraded' },
        { metric: 'healthCheck', operator: '!=', threshold: 'ok' },
        { metric: 'bundleSize', operator: 'exists' },
      ];

      const created = await submit({
        name: 'gate-ops-fail',
        stages: [{ key: 'check', agent: 'sim_validation', input: { simulate: { metrics } }, gates, retry: fastRetry(3) }],
      });
      const done = await waitForPipeline(h.baseUrl, created.id);

      expect(done.status).to.equal('failed');
      const check = stageOf(done, 'check');
      expect(check.error.code).to.equal('GATE_FAILED');
      expect((check.error.gates as Loose[]).map((g) => g.operator)).to.deep.equal(['>=', '>', '<=', '<', '==', '!=', 'exists']);
      const runs = await runsOf(created.id, 'check');
      expect(runs).to.have.length(1);
      expect((runs[0]!.gates as Loose[]).every((g) => g.verdict === 'failed')).to.equal(true);
      expect(runs[0]!.gates.map((g: Loose) => g.reason)).to.deep.equal([
        'coverage 86 is not >= 87',
        'coverage 86 is not > 86',
        'lintErrors 0 is not <= -1',
        'lintErrors 0 is not < 0',
        'healthCheck "ok" is not == "degraded"',
        'healthCheck "ok" is not != "ok"',
        'metric "bundleSize" was not reported',
      ]);
    });

    it('exists on a metric that was never reported: blocking failure with a null value', async () => {
      const created = await submit({
        name: 'gate-exists-missing',
        stages: [
          { key: 'check', agent: 'sim_e2e_test', gates: [{ metric: 'screenshots', operator: 'exists' }] },
          { key: 'after', agent: 'noop', dependsOn: ['check'] },
        ],
      });

      const done = await waitForPipeline(h.baseUrl, created.id);

      expect(done.status).to.equal('failed');
      expect(stageOf(done, 'check').error.gates).to.deep.equal([
        { metric: 'screenshots', operator: 'exists', threshold: null, value: null, reason: 'metric "screenshots" was not reported' },
      ]);
      expect(stageOf(done, 'after').status).to.equal('skipped');
    });

    it('ordering operator on a string metric that is not a number: fails, saying it cannot be compared', async () => {
      const created = await submit({
        name: 'gate-ordering-string',
        stages: [
          {
            key: 'check',
            agent: 'sim_validation',
            input: { simulate: { metrics: { coverage: 'n/a' } } },
            gates: [{ metric: 'coverage', operator: '>=', threshold: 80 }],
          },
        ],
      });

      const done = await waitForPipeline(h.baseUrl, created.id);

      expect(done.status).to.equal('failed');
      expect(stageOf(done, 'check').error.gates[0]).to.include({
        value: 'n/a',
        reason: 'coverage "n/a" is not a number, so it cannot be compared with >=',
      });
    });

    it('noop stage whose output carries metrics: its gates read output.metrics', async () => {
      const created = await submit({
        name: 'gate-output-metrics',
        stages: [
          {
            key: 'plain',
            agent: 'noop',
            input: { metrics: { score: 7, label: 'x' } },
            gates: [{ metric: 'score', operator: '>=', threshold: 5 }],
          },
        ],
      });

      const done = await waitForPipeline(h.baseUrl, created.id);

      expect(done.status).to.equal('succeeded');
      const [run] = await runsOf(created.id, 'plain');
      expect(run!.gates).to.have.length(1);
      expect(run!.gates[0]).to.include({ metric: 'score', value: 7, verdict: 'passed' });
    });
  });

  describe('overrides', () => {
    it('gates: [] on a validation stage: the defaults are off, so coverage 10 passes and no gate is recorded', async () => {
      const created = await submit({
        name: 'gate-disabled',
        stages: [
          { key: 'validate', agent: 'sim_validation', input: { simulate: { metrics: { coverage: 10, lintErrors: 12 } } }, gates: [] },
        ],
      });

      const done = await waitForPipeline(h.baseUrl, created.id);

      expect(done.status).to.equal('succeeded');
      expect(stageOf(done, 'validate').gates).to.deep.equal([]);
      const [run] = await runsOf(created.id, 'validate');
      expect(run!.gates).to.deep.equal([]);
      expect(run!.metrics).to.include({ coverage: 10, lintErrors: 12 });
    });

    it('custom gates on a validation stage: replace the defaults instead of adding to them', async () => {
      const created = await submit({
        name: 'gate-replaced',
        stages: [
          {
            key: 'validate',
            agent: 'sim_validation',
            input: { simulate: { metrics: { coverage: 50 } } },
            gates: [{ metric: 'typeErrors', operator: '==', threshold: 0 }],
          },
        ],
      });

      const done = await waitForPipeline(h.baseUrl, created.id);

      expect(done.status).to.equal('succeeded');
      const [run] = await runsOf(created.id, 'validate');
      expect((run!.gates as Loose[]).map((g) => g.metric)).to.deep.equal(['typeErrors']);
    });

    it('continueOnFailure with a failed blocking gate: the stage fails, its dependant runs and the pipeline succeeds', async () => {
      // Arrange
      const definition = {
        name: 'gate-continue',
        stages: [
          { key: 'validate', agent: 'sim_validation', input: { simulate: { metrics: { coverage: 70 } } }, continueOnFailure: true },
          { key: 'ship', agent: 'noop', dependsOn: ['validate'] },
        ],
      };

      // Act
      const created = await submit(definition);
      const done = await waitForPipeline(h.baseUrl, created.id);

      // Assert
      expect(done.status).to.equal('succeeded');
      expect(stageOf(done, 'validate').status).to.equal('failed');
      expect(stageOf(done, 'validate').error.code).to.equal('GATE_FAILED');
      expect(stageOf(done, 'ship').status).to.equal('succeeded');
      expect(await runsOf(created.id, 'validate')).to.have.length(1);
    });
  });

  describe('invalid gates in a definition', () => {
    it('unknown operator "~=": 400 naming stages[0].gates[0].operator', async () => {
      const res = await request(h.baseUrl, 'POST', PIPELINES, {
        name: 'bad-operator',
        stages: [{ key: 'v', agent: 'sim_validation', gates: [{ metric: 'coverage', operator: '~=', threshold: 80 }] }],
      });

      expectValidationError(res, 'stages[0].gates[0].operator');
    });

    it('">" with a string threshold: 400 naming stages[0].gates[0].threshold', async () => {
      const res = await request(h.baseUrl, 'POST', PIPELINES, {
        name: 'bad-threshold',
        stages: [{ key: 'v', agent: 'sim_validation', gates: [{ metric: 'coverage', operator: '>', threshold: 'eighty' }] }],
      });

      const detail = expectValidationError(res, 'stages[0].gates[0].threshold');
      expect(detail.message).to.contain('numeric threshold');
    });

    it('"==" without a threshold on the second stage\'s second rule: 400 naming stages[1].gates[1].threshold', async () => {
      const res = await request(h.baseUrl, 'POST', PIPELINES, {
        name: 'missing-threshold',
        stages: [
          { key: 'a', agent: 'noop' },
          {
            key: 'v',
            agent: 'sim_validation',
            dependsOn: ['a'],
            gates: [
              { metric: 'coverage', operator: 'exists' },
              { metric: 'lintErrors', operator: '==' },
            ],
          },
        ],
      });

      expectValidationError(res, 'stages[1].gates[1].threshold');
    });

    it('bad severity and an unknown rule property: 400 naming both fields', async () => {
      const res = await request(h.baseUrl, 'POST', PIPELINES, {
        name: 'bad-severity',
        stages: [
          {
            key: 'v',
            agent: 'sim_validation',
            gates: [{ metric: 'coverage', operator: '>=', threshold: 80, severity: 'fatal', colour: 'red' }],
          },
        ],
      });

      expectValidationError(res, 'stages[0].gates[0].severity');
      expectValidationError(res, 'stages[0].gates[0].colour');
    });

    it('empty metric name: 400 naming stages[0].gates[0].metric, and no pipeline is created', async () => {
      const name = `bad-metric-${Date.now()}`;
      const res = await request(h.baseUrl, 'POST', PIPELINES, {
        name,
        stages: [{ key: 'v', agent: 'sim_validation', gates: [{ metric: '', operator: 'exists' }] }],
      });

      expectValidationError(res, 'stages[0].gates[0].metric');
      const listed = await request(h.baseUrl, 'GET', `${PIPELINES}?name=${encodeURIComponent(name)}`);
      expect(listed.body.items).to.deep.equal([]);
    });
  });
});
