// The `code` label of agentic_stage_failures_total stays bounded (src/infra/telemetry/
// failure-code-label.ts, docs/observability.md "Metrics"): an agent module that puts an id in its
// error code fails with a new code each time, and each one used to be a series of its own.
// Catalogue codes are always themselves; an agent type's first MAX_AGENT_FAILURE_CODES other codes
// too; later ones, and overlong ones, count as `other`; one agent's flood leaves another's alone.
import { expect } from 'chai';
import { ERROR_CODES } from '../../src/domain/error-codes.js';
import { MAX_AGENT_FAILURE_CODES, MAX_FAILURE_CODE_LENGTH, OTHER_FAILURE_CODE } from '../../src/infra/telemetry/failure-code-label.js';
import { createWorkerMetrics, METRIC_NAMES, type WorkerMetrics } from '../../src/infra/telemetry/metrics.js';

/** One failed attempt of `agent` with `code`. */
const fail = (metrics: WorkerMetrics, agent: string, code: string): void =>
  metrics.stageRun({ agent, status: 'failed', seconds: 0.01, failureCode: code, version: '1.0.0', variant: 'none' });

/** The failures counter's series as `agent/code` → count. */
async function failureSeries(metrics: WorkerMetrics): Promise<Map<string, number>> {
  const counter = metrics.registry.getSingleMetric(METRIC_NAMES.stageFailures);
  if (!counter) throw new Error('no failures counter');
  const { values } = await counter.get();
  return new Map(values.map((v) => [`${String(v.labels.agent)}/${String(v.labels.code)}`, v.value]));
}

describe('stage failure code label (unit)', () => {
  it('an agent failing with 1,000 distinct codes: its first 50 are series of their own, the other 950 one `other` series', async () => {
    // Arrange
    const metrics = createWorkerMetrics({ processMetrics: false });

    // Act: an id in every code, as a buggy module would.
    for (let i = 0; i < 1000; i += 1) fail(metrics, 'hostile', `FAILED_FOR_${i}`);

    // Assert
    const series = await failureSeries(metrics);
    expect(series.size).to.equal(MAX_AGENT_FAILURE_CODES + 1);
    expect(series.get(`hostile/${OTHER_FAILURE_CODE}`)).to.equal(1000 - MAX_AGENT_FAILURE_CODES);
    expect(series.get('hostile/FAILED_FOR_0')).to.equal(1);
    expect(series.get(`hostile/FAILED_FOR_${MAX_AGENT_FAILURE_CODES - 1}`)).to.equal(1);
    expect(series.has(`hostile/FAILED_FOR_${MAX_AGENT_FAILURE_CODES}`)).to.equal(false);
  });

  it('past the cap: every catalogue code and the codes already seen still count as themselves', async () => {
    // Arrange: the cap reached.
    const metrics = createWorkerMetrics({ processMetrics: false });
    for (let i = 0; i < MAX_AGENT_FAILURE_CODES + 10; i += 1) fail(metrics, 'hostile', `FAILED_FOR_${i}`);

    // Act
    for (const code of Object.keys(ERROR_CODES)) fail(metrics, 'hostile', code);
    fail(metrics, 'hostile', 'FAILED_FOR_7');

    // Assert
    const series = await failureSeries(metrics);
    for (const code of Object.keys(ERROR_CODES)) expect(series.get(`hostile/${code}`), code).to.equal(1);
    expect(series.get('hostile/FAILED_FOR_7')).to.equal(2);
    expect(series.get(`hostile/${OTHER_FAILURE_CODE}`)).to.equal(10);
  });

  it("one agent type's flood leaves another agent's own codes as themselves; an overlong code is `other`", async () => {
    // Arrange
    const metrics = createWorkerMetrics({ processMetrics: false });
    for (let i = 0; i < 500; i += 1) fail(metrics, 'hostile', `FAILED_FOR_${i}`);

    // Act
    fail(metrics, 'deployer', 'ROLLOUT_HALTED');
    fail(metrics, 'deployer', 'X'.repeat(MAX_FAILURE_CODE_LENGTH + 1));
    fail(metrics, 'deployer', 'Y'.repeat(MAX_FAILURE_CODE_LENGTH));

    // Assert
    const series = await failureSeries(metrics);
    expect(series.get('deployer/ROLLOUT_HALTED')).to.equal(1);
    expect(series.get(`deployer/${OTHER_FAILURE_CODE}`)).to.equal(1);
    expect(series.get(`deployer/${'Y'.repeat(MAX_FAILURE_CODE_LENGTH)}`)).to.equal(1);
    expect([...series.keys()].filter((k) => k.startsWith('hostile/'))).to.have.length(MAX_AGENT_FAILURE_CODES + 1);
  });
});
