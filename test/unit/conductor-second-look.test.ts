// The conductor looks again after a plan that ended stages (skips, cancels): its read may predate
// a stage finishing meanwhile whose own settled check ran before the skip committed, and then
// nobody would finish the pipeline (seen once in CI: a failed diamond stayed running with every
// stage ended). Driven here by a repository whose reads are the two sides of that race.
import { expect } from 'chai';
import { createConductor } from '../../src/services/conductor.service.js';
import { parseDecisionPolicy, DECISION_CATEGORIES } from '../../src/domain/decision-policy.js';
import type { ConductorDeps } from '../../src/services/conductor.service.js';
import type { AdvanceResult, PipelineState, StateStage } from '../../src/services/conductor.ports.js';
import type { ConductorPlan } from '../../src/domain/stage-admission.js';
import type { StageStatus } from '../../src/domain/status.js';
import { captureLogger } from '../support/capture-logger.js';

const policy = parseDecisionPolicy({
  version: 'test',
  escalateBelow: 50,
  categories: Object.fromEntries(
    DECISION_CATEGORIES.map((c) => [c, { autoApproveAt: 60, deadline: '1h', onDeadline: 'reject', approvers: ['lead'] }]),
  ),
  escalation: { approvers: ['director'], deadline: '2h' },
});

function stage(key: string, status: StageStatus, dependsOn: string[] = []): StateStage {
  return {
    id: `id-${key}`,
    key,
    status,
    dependsOn,
    continueOnFailure: false,
    category: 'technical_refactor',
    autoApproveAt: 0,
    confidence: null,
    approved: false,
    errorMessage: null,
  };
}

function diamond(e2e: StageStatus, integration: StageStatus): PipelineState {
  return {
    pipelineId: 'p1',
    status: 'running',
    cancelRequested: false,
    policyVersion: 'test',
    stages: [
      stage('scaffold', 'succeeded'),
      stage('validation', 'failed', ['scaffold']),
      stage('e2e', e2e, ['scaffold']),
      stage('integration', integration, ['validation', 'e2e']),
    ],
  };
}

/** A repository whose reads come from `reads` in turn; applyPlan records each plan and applies nothing. */
function scriptedRepo(reads: PipelineState[]) {
  const plans: ConductorPlan[] = [];
  const repo: ConductorDeps['repo'] = {
    async readState() {
      return reads.shift() ?? null;
    },
    async applyPlan(expected, plan): Promise<AdvanceResult> {
      plans.push(plan);
      return {
        pipelineId: expected.pipelineId,
        status: plan.status,
        dispatched: [],
        skipped: plan.skip.map((key) => `id-${key}`),
        cancelled: plan.cancel.map((key) => `id-${key}`),
        finished: plan.status !== 'running',
        decisions: [],
      };
    },
    async startQueued() {
      return [];
    },
  };
  return { repo, plans };
}

function conductor(repo: ConductorDeps['repo'], finished: AdvanceResult[]) {
  return createConductor({
    repo,
    agentQueues: { dispatch: async () => {}, workersOnline: async () => 1, reprioritize: async () => 0 },
    control: { requestAdvance: async () => {}, scheduleDeadline: async () => {}, schedulePipelineDeadline: async () => {} },
    policy,
    logger: captureLogger([]),
    onFinished: (r) => finished.push(r),
  });
}

describe('conductor: a second look after ending stages', () => {
  it('a skip planned from a read in which a sibling still ran: the second read finds it done and finishes the pipeline', async () => {
    // First read: e2e running (its finish not yet committed); second: e2e succeeded, the skip applied.
    const { repo, plans } = scriptedRepo([diamond('running', 'pending'), diamond('succeeded', 'skipped')]);
    const finished: AdvanceResult[] = [];

    const result = await conductor(repo, finished).advance('p1');

    expect(plans.map((p) => [p.skip, p.status])).to.deep.equal([
      [['integration'], 'running'],
      [[], 'failed'],
    ]);
    expect(result).to.include({ status: 'failed', finished: true });
    expect(result!.skipped).to.deep.equal(['id-integration']);
    expect(finished).to.have.length(1);
  });

  it('a plan that ends nothing is not read twice', async () => {
    const { repo, plans } = scriptedRepo([diamond('running', 'skipped'), diamond('succeeded', 'skipped')]);

    const result = await conductor(repo, []).advance('p1');

    expect(plans).to.have.length(1);
    expect(result).to.include({ status: 'running', finished: false });
  });

  it('a plan that ended stages and finished the pipeline is not read twice', async () => {
    const { repo, plans } = scriptedRepo([diamond('succeeded', 'pending'), diamond('succeeded', 'skipped')]);

    const result = await conductor(repo, []).advance('p1');

    expect(plans).to.have.length(1);
    expect(result).to.include({ status: 'failed', finished: true });
  });
});
