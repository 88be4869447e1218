// The simulated SDLC agents' two versions: 1.0.0 reports its defaults with `input.simulate` over
// them and ignores `simulate.next`; 1.1.0 reports the same with `simulate.next` over that, so a
// rollout or a shadow run can make the versions disagree on purpose. Misspelt keys are refused.
import { expect } from 'chai';
import type { AgentRunContext, MetricValue } from '../../src/agents/define-agent.js';
import { SIMULATED_SDLC_AGENTS, simValidationAgent as validationAgent } from '../../src/agents/sdlc/sdlc-agents.js';
import { NEXT_SIMULATED_VERSION, SIMULATED_VERSION } from '../../src/agents/sdlc/simulated-agent.js';
import { UnrecoverableStageError } from '../../src/domain/errors.js';
import type { JsonObject } from '../../src/domain/json.js';
import { testRunContext } from '../support/agent-context.js';

function contextWith(reported: Record<string, MetricValue>[]): AgentRunContext {
  return testRunContext({ reportMetrics: (metrics) => void reported.push(metrics) });
}

describe('simulated SDLC agents: two versions', () => {
  const simulate = { metrics: { coverage: 70 }, confidence: 80, next: { metrics: { coverage: 40, lintErrors: 3 }, confidence: 55 } };

  it('every simulated agent registers 1.0.0 and a next version 1.1.0, under a sim_ type', () => {
    for (const agent of SIMULATED_SDLC_AGENTS) {
      expect(agent.version, agent.type).to.equal(SIMULATED_VERSION);
      expect(agent.nextVersion, agent.type).to.equal(NEXT_SIMULATED_VERSION);
    }
    expect(SIMULATED_SDLC_AGENTS.map((a) => a.type)).to.deep.equal([
      'sim_scaffold',
      'sim_validation',
      'sim_e2e_test',
      'sim_integration',
      'sim_deployment',
    ]);
    expect([SIMULATED_VERSION, NEXT_SIMULATED_VERSION]).to.deep.equal(['1.0.0', '1.1.0']);
  });

  it('both versions report the same defaults when nothing is simulated', async () => {
    const incumbent = await validationAgent.execute({}, contextWith([]));
    const candidate = await validationAgent.execute({}, contextWith([]), '1.1.0');
    expect(candidate).to.deep.equal(incumbent);
    expect(incumbent).to.deep.include({
      confidence: 95,
      metrics: { typeErrors: 0, lintErrors: 0, testsPassed: 42, testsFailed: 0, coverage: 86 },
    });
  });

  it('1.0.0 ignores simulate.next; 1.1.0 reports it over simulate', async () => {
    const incumbentMetrics: Record<string, MetricValue>[] = [];
    const candidateMetrics: Record<string, MetricValue>[] = [];
    const incumbent = await validationAgent.execute({ simulate }, contextWith(incumbentMetrics));
    const candidate = await validationAgent.execute({ simulate }, contextWith(candidateMetrics), '1.1.0');
    expect(incumbent).to.deep.include({
      confidence: 80,
      metrics: { typeErrors: 0, lintErrors: 0, testsPassed: 42, testsFailed: 0, coverage: 70 },
    });
    expect(candidate).to.deep.include({
      confidence: 55,
      metrics: { typeErrors: 0, lintErrors: 3, testsPassed: 42, testsFailed: 0, coverage: 40 },
    });
    // What the quality gates read is what each version reported.
    expect(incumbentMetrics).to.deep.equal([{ typeErrors: 0, lintErrors: 0, testsPassed: 42, testsFailed: 0, coverage: 70 }]);
    expect(candidateMetrics).to.deep.equal([{ typeErrors: 0, lintErrors: 3, testsPassed: 42, testsFailed: 0, coverage: 40 }]);
  });

  it('1.1.0 falls back to simulate for what simulate.next leaves out', async () => {
    const candidate = await validationAgent.execute(
      { simulate: { confidence: 70, next: { metrics: { coverage: 50 } } } },
      contextWith([]),
      '1.1.0',
    );
    expect(candidate).to.deep.include({
      confidence: 70,
      metrics: { typeErrors: 0, lintErrors: 0, testsPassed: 42, testsFailed: 0, coverage: 50 },
    });
  });

  it('refuses a misspelt key in simulate.next (and delayMs there: it belongs to simulate)', () => {
    const misspelt: JsonObject[] = [{ confidance: 50 }, { delayMs: 10 }];
    for (const next of misspelt) {
      const verdict = validationAgent.validateInput({ simulate: { next } });
      expect(verdict.ok, JSON.stringify(next)).to.equal(false);
    }
    expect(validationAgent.validateInput({ simulate: { next: { confidence: 50 } } }).ok).to.equal(true);
  });

  it('a version the agent does not have is a programmer error, not a stage outcome', async () => {
    let thrown: unknown;
    await validationAgent.execute({}, contextWith([]), '9.9.9').catch((error: unknown) => (thrown = error));
    expect(thrown).to.be.instanceOf(Error);
    expect(thrown).not.to.be.instanceOf(UnrecoverableStageError);
  });
});
