// Unit tests for the pipeline interpreter (src/domain/planner.ts): pure functions, no I/O.
import { expect } from 'chai';
import { planPipeline, type Plan, type PlanStage } from '../../src/domain/planner.js';
import type { StageStatus } from '../../src/domain/status.js';

function stage(key: string, status: StageStatus, dependsOn: string[] = [], continueOnFailure = false): PlanStage {
  return { key, status, dependsOn, continueOnFailure };
}

const RUN = { cancelRequested: false };
const CANCEL = { cancelRequested: true };

/** What the conductor does with a plan: dispatched stages are queued, skipped and cancelled ones recorded. */
function applyPlan(stages: readonly PlanStage[], plan: Plan): PlanStage[] {
  return stages.map((s) => {
    if (plan.dispatch.includes(s.key)) return { ...s, status: 'queued' };
    if (plan.skip.includes(s.key)) return { ...s, status: 'skipped' };
    if (plan.cancel.includes(s.key)) return { ...s, status: 'cancelled' };
    return s;
  });
}

function withStatus(stages: readonly PlanStage[], key: string, status: StageStatus): PlanStage[] {
  return stages.map((s) => (s.key === key ? { ...s, status } : s));
}

describe('planPipeline', () => {
  describe('dispatch', () => {
    it('fresh pipeline: dispatches only the root stages and stays running', () => {
      // Arrange
      const stages = [stage('a', 'pending'), stage('b', 'pending'), stage('c', 'pending', ['a', 'b'])];

      // Act
      const plan = planPipeline(stages, RUN);

      // Assert
      expect(plan).to.deep.equal({ dispatch: ['a', 'b'], skip: [], cancel: [], status: 'running', failedStages: [] });
    });

    it('fan-in with one dependency still running: does not dispatch the join stage', () => {
      const stages = [stage('a', 'succeeded'), stage('b', 'running'), stage('c', 'pending', ['a', 'b'])];

      const plan = planPipeline(stages, RUN);

      expect(plan.dispatch).to.deep.equal([]);
      expect(plan.skip).to.deep.equal([]);
      expect(plan.status).to.equal('running');
    });

    it('fan-in with every dependency succeeded: dispatches the join stage', () => {
      const stages = [stage('a', 'succeeded'), stage('b', 'succeeded'), stage('c', 'pending', ['a', 'b'])];

      const plan = planPipeline(stages, RUN);

      expect(plan.dispatch).to.deep.equal(['c']);
      expect(plan.status).to.equal('running');
    });

    it('stage already queued or running: is not dispatched again', () => {
      const stages = [stage('a', 'queued'), stage('b', 'running')];

      const plan = planPipeline(stages, RUN);

      expect(plan).to.deep.equal({ dispatch: [], skip: [], cancel: [], status: 'running', failedStages: [] });
    });

    it('every stage succeeded: reports succeeded with nothing to do', () => {
      const stages = [stage('a', 'succeeded'), stage('b', 'succeeded', ['a'])];

      const plan = planPipeline(stages, RUN);

      expect(plan).to.deep.equal({ dispatch: [], skip: [], cancel: [], status: 'succeeded', failedStages: [] });
    });
  });

  describe('failure', () => {
    it('failed stage: skips its downstream stages transitively and ends failed', () => {
      const stages = [stage('a', 'failed'), stage('b', 'pending', ['a']), stage('c', 'pending', ['b']), stage('d', 'pending', ['c'])];

      const plan = planPipeline(stages, RUN);

      expect(plan.dispatch).to.deep.equal([]);
      expect(plan.skip).to.have.members(['b', 'c', 'd']);
      expect(plan.status).to.equal('failed');
      expect(plan.failedStages).to.deep.equal(['a']);
    });

    it('failed stage with downstream listed before it: still skips transitively', () => {
      const stages = [stage('d', 'pending', ['c']), stage('c', 'pending', ['b']), stage('b', 'pending', ['a']), stage('a', 'failed')];

      const plan = planPipeline(stages, RUN);

      expect(plan.skip).to.have.members(['b', 'c', 'd']);
      expect(plan.status).to.equal('failed');
    });

    it('failed stage with continueOnFailure: lets its dependants run', () => {
      const stages = [stage('a', 'failed', [], true), stage('b', 'pending', ['a'])];

      const plan = planPipeline(stages, RUN);

      expect(plan.dispatch).to.deep.equal(['b']);
      expect(plan.skip).to.deep.equal([]);
      expect(plan.status).to.equal('running');
    });

    it('failed stage with continueOnFailure and every other stage succeeded: ends succeeded', () => {
      const stages = [stage('a', 'failed', [], true), stage('b', 'succeeded', ['a'])];

      const plan = planPipeline(stages, RUN);

      expect(plan).to.deep.equal({ dispatch: [], skip: [], cancel: [], status: 'succeeded', failedStages: [] });
    });

    it('failed stage without continueOnFailure while another still runs: stays running', () => {
      const stages = [stage('a', 'failed'), stage('b', 'running')];

      const plan = planPipeline(stages, RUN);

      expect(plan.status).to.equal('running');
    });

    it('failed stage without continueOnFailure once all stages are terminal: ends failed', () => {
      const stages = [stage('a', 'failed'), stage('b', 'succeeded')];

      const plan = planPipeline(stages, RUN);

      expect(plan).to.deep.equal({ dispatch: [], skip: [], cancel: [], status: 'failed', failedStages: ['a'] });
    });

    it('failure on one branch: the independent branch keeps being dispatched', () => {
      const stages = [
        stage('a', 'failed'),
        stage('a2', 'pending', ['a']),
        stage('b', 'succeeded'),
        stage('b2', 'pending', ['b']),
        stage('c', 'pending'),
      ];

      const plan = planPipeline(stages, RUN);

      expect(plan.skip).to.deep.equal(['a2']);
      expect(plan.dispatch).to.have.members(['b2', 'c']);
      expect(plan.status).to.equal('running');
    });

    it('fan-in with one failed dependency and one running: skips the join at once', () => {
      const stages = [stage('a', 'failed'), stage('b', 'running'), stage('c', 'pending', ['a', 'b'])];

      const plan = planPipeline(stages, RUN);

      expect(plan.skip).to.deep.equal(['c']);
      expect(plan.status).to.equal('running');
    });
  });

  describe('cancellation', () => {
    it('cancel requested: cancels pending and queued stages, dispatches nothing and stays running while a stage runs', () => {
      const stages = [
        stage('a', 'succeeded'),
        stage('b', 'running', ['a']),
        stage('c', 'queued', ['a']),
        stage('d', 'pending', ['b', 'c']),
      ];

      const plan = planPipeline(stages, CANCEL);

      expect(plan.dispatch).to.deep.equal([]);
      expect(plan.skip).to.deep.equal([]);
      expect(plan.cancel).to.have.members(['c', 'd']);
      expect(plan.status).to.equal('running');
    });

    it('cancel requested and the last running stage has stopped: ends cancelled', () => {
      const stages = [stage('a', 'succeeded'), stage('b', 'cancelled', ['a']), stage('c', 'cancelled', ['a'])];

      const plan = planPipeline(stages, CANCEL);

      expect(plan).to.deep.equal({ dispatch: [], skip: [], cancel: [], status: 'cancelled', failedStages: [] });
    });

    it('cancel requested over time: running while a stage runs, then cancelled once it ends', () => {
      // Arrange
      let stages = [stage('a', 'running'), stage('b', 'pending', ['a'])];

      // Act
      const first = planPipeline(stages, CANCEL);
      stages = withStatus(applyPlan(stages, first), 'a', 'cancelled');
      const second = planPipeline(stages, CANCEL);

      // Assert
      expect(first).to.deep.equal({ dispatch: [], skip: [], cancel: ['b'], status: 'running', failedStages: [] });
      expect(second).to.deep.equal({ dispatch: [], skip: [], cancel: [], status: 'cancelled', failedStages: [] });
    });
  });

  describe('idempotence', () => {
    it('fresh pipeline: planning again after applying the plan yields no new actions', () => {
      const stages = [stage('a', 'pending'), stage('b', 'pending'), stage('c', 'pending', ['a', 'b'])];

      const first = planPipeline(stages, RUN);
      const second = planPipeline(applyPlan(stages, first), RUN);

      expect(first.dispatch).to.have.members(['a', 'b']);
      expect(second).to.deep.equal({ dispatch: [], skip: [], cancel: [], status: 'running', failedStages: [] });
    });

    it('after a failure: planning again after applying the plan yields no new actions', () => {
      const stages = [stage('a', 'failed'), stage('b', 'pending', ['a']), stage('c', 'pending', ['b']), stage('d', 'pending')];

      const first = planPipeline(stages, RUN);
      const second = planPipeline(applyPlan(stages, first), RUN);

      expect(first.skip).to.have.members(['b', 'c']);
      expect(first.dispatch).to.deep.equal(['d']);
      expect(second).to.deep.include({ dispatch: [], skip: [], cancel: [] });
      expect(second.status).to.equal('running');
    });

    it('after a cancel: planning again after applying the plan yields no new actions', () => {
      const stages = [stage('a', 'queued'), stage('b', 'pending', ['a'])];

      const first = planPipeline(stages, CANCEL);
      const second = planPipeline(applyPlan(stages, first), CANCEL);

      expect(first.cancel).to.have.members(['a', 'b']);
      expect(first.status).to.equal('cancelled');
      expect(second).to.deep.equal({ dispatch: [], skip: [], cancel: [], status: 'cancelled', failedStages: [] });
    });
  });

  describe('waiting stages (held by a decision or a clarification)', () => {
    it('waiting root: is neither dispatched nor skipped, and its dependant stays pending', () => {
      // Arrange
      const stages = [stage('deploy', 'waiting'), stage('notify', 'pending', ['deploy'])];

      // Act
      const plan = planPipeline(stages, RUN);

      // Assert
      expect(plan).to.deep.equal({ dispatch: [], skip: [], cancel: [], status: 'running', failedStages: [] });
    });

    it('waiting stage beside a ready branch: does not block the independent branch', () => {
      const stages = [stage('build', 'succeeded'), stage('deploy', 'waiting', ['build']), stage('docs', 'pending', ['build'])];

      const plan = planPipeline(stages, RUN);

      expect(plan.dispatch).to.deep.equal(['docs']);
      expect(plan.skip).to.deep.equal([]);
      expect(plan.status).to.equal('running');
    });

    it('every other stage succeeded: the pipeline with a waiting stage stays running', () => {
      const stages = [stage('build', 'succeeded'), stage('test', 'succeeded', ['build']), stage('deploy', 'waiting', ['test'])];

      const plan = planPipeline(stages, RUN);

      expect(plan).to.deep.equal({ dispatch: [], skip: [], cancel: [], status: 'running', failedStages: [] });
    });

    it('failed sibling: the pipeline keeps running while a stage waits, and the waiting stage is not skipped', () => {
      const stages = [stage('lint', 'failed'), stage('deploy', 'waiting'), stage('after-lint', 'pending', ['lint'])];

      const plan = planPipeline(stages, RUN);

      expect(plan.skip).to.deep.equal(['after-lint']);
      expect(plan.status).to.equal('running');
      expect(plan.failedStages).to.deep.equal([]);
    });

    it('cancel requested: the waiting stage is cancelled with the pending ones, and the pipeline ends cancelled', () => {
      const stages = [stage('build', 'succeeded'), stage('deploy', 'waiting', ['build']), stage('notify', 'pending', ['deploy'])];

      const plan = planPipeline(stages, CANCEL);

      expect(plan.cancel).to.have.members(['deploy', 'notify']);
      expect(plan.dispatch).to.deep.equal([]);
      expect(plan.status).to.equal('cancelled');
    });

    it('waiting stage approved back to pending after the plan: it is dispatched on the next plan', () => {
      let stages = [stage('build', 'succeeded'), stage('deploy', 'waiting', ['build'])];
      const held = planPipeline(stages, RUN);

      stages = withStatus(applyPlan(stages, held), 'deploy', 'pending');
      const released = planPipeline(stages, RUN);

      expect(held.dispatch).to.deep.equal([]);
      expect(released.dispatch).to.deep.equal(['deploy']);
    });
  });

  describe('paused stages (a paused pipeline)', () => {
    it('only paused stages left: the pipeline is not finished, and nothing is dispatched, skipped or cancelled', () => {
      const stages = [stage('a', 'succeeded'), stage('b', 'paused', ['a']), stage('c', 'pending', ['b'])];

      const plan = planPipeline(stages, RUN);

      expect(plan).to.deep.equal({ dispatch: [], skip: [], cancel: [], status: 'running', failedStages: [] });
    });

    it('a paused dependency neither satisfies nor blocks its dependants: they stay pending', () => {
      const stages = [stage('a', 'paused'), stage('b', 'pending', ['a']), stage('c', 'failed'), stage('d', 'pending', ['c'])];

      const plan = planPipeline(stages, RUN);

      expect(plan.dispatch).to.deep.equal([]);
      expect(plan.skip).to.deep.equal(['d']);
      expect(plan.status).to.equal('running');
    });

    it('cancel requested: paused stages are cancelled with the pending ones, and the pipeline ends cancelled', () => {
      const stages = [stage('a', 'succeeded'), stage('b', 'paused', ['a']), stage('c', 'pending', ['b'])];

      const plan = planPipeline(stages, CANCEL);

      expect(plan.cancel).to.deep.equal(['b', 'c']);
      expect(plan.status).to.equal('cancelled');
    });
  });
});
