// Unit tests for the switches read from feature flags (src/services/flag-switches.ts), the
// auto-approval switch in the domain (autoApproved, initialStageStatus, admitStages), and the
// worker hold (src/jobs/switch-hold.ts), over a fake flag source and a fake worker.
import { expect } from 'chai';
import { DelayedError } from 'bullmq';
import { autoApproveThreshold } from '../../src/domain/decision-policy.js';
import type { FlagContext } from '../../src/domain/feature-flags.js';
import { planPipeline } from '../../src/domain/planner.js';
import { admitStages, type PolicyStage } from '../../src/domain/stage-admission.js';
import { autoApproved, initialStageStatus } from '../../src/domain/stage-lifecycle.js';
import { loadDecisionPolicy } from '../../src/infra/policy/policy-file.js';
import { followSwitch, holdJob } from '../../src/jobs/switch-hold.js';
import {
  agentSwitchedOff,
  platformSwitchOn,
  platformSwitchStates,
  stageWaiting,
  switchedOffAgents,
  watchSwitches,
} from '../../src/services/flag-switches.js';
import type { FeatureFlags } from '../../src/services/flags.ports.js';

/** A flag source whose flags a test sets; `change()` tells the listeners, like a refresh would. */
function fakeFlags(initial: Record<string, boolean> = {}) {
  const flags = new Map(Object.entries(initial));
  const listeners = new Set<() => void>();
  const asked: { name: string; context: FlagContext }[] = [];
  const source: FeatureFlags = {
    isEnabled(name, context, fallback) {
      asked.push({ name, context });
      return flags.get(name) ?? fallback;
    },
    variant: () => null,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return {
    source,
    asked,
    set(name: string, on: boolean | undefined) {
      if (on === undefined) flags.delete(name);
      else flags.set(name, on);
    },
    change: () => listeners.forEach((l) => l()),
    listeners,
  };
}

describe('flag switches', () => {
  describe('kill switch per agent type', () => {
    it('agent.<type>.kill on: that type is switched off, evaluated with the agent type as context; undefined: not', () => {
      const flags = fakeFlags({ 'agent.validation.kill': true });
      expect(agentSwitchedOff(flags.source, 'validation')).to.equal(true);
      expect(agentSwitchedOff(flags.source, 'noop')).to.equal(false);
      expect(flags.asked[0]).to.deep.equal({ name: 'agent.validation.kill', context: { agentType: 'validation' } });
      expect(switchedOffAgents(flags.source, ['noop', 'validation', 'deployment'])).to.deep.equal(['validation']);
    });

    it('stageWaiting: only a queued stage of a switched-off agent waits for the switch', () => {
      const flags = fakeFlags({ 'agent.validation.kill': true });
      expect(stageWaiting(flags.source, { status: 'queued', agent: 'validation' })).to.deep.equal({
        reason: 'agent_switched_off',
        flag: 'agent.validation.kill',
      });
      for (const status of ['pending', 'running', 'waiting', 'succeeded', 'failed', 'skipped', 'cancelled'] as const) {
        expect(stageWaiting(flags.source, { status, agent: 'validation' }), status).to.equal(null);
      }
      expect(stageWaiting(flags.source, { status: 'queued', agent: 'noop' })).to.equal(null);
    });
  });

  describe('platform switches', () => {
    it('on by default when no source defines them; off when a flag says so', () => {
      const flags = fakeFlags();
      expect(platformSwitchOn(flags.source, 'webhooks')).to.equal(true);
      expect(platformSwitchOn(flags.source, 'autoApproval')).to.equal(true);
      flags.set('platform.auto-approval', false);
      expect(platformSwitchStates(flags.source)).to.deep.equal({ 'platform.webhooks': true, 'platform.auto-approval': false });
    });
  });

  describe('watchSwitches', () => {
    it('calls back once per switch that changed, not for a refresh that changed nothing; stops when asked', () => {
      const flags = fakeFlags();
      const calls: [string, boolean][] = [];
      const stop = watchSwitches(
        flags.source,
        ['noop', 'validation'],
        (type) => agentSwitchedOff(flags.source, type),
        (type, off) => calls.push([type, off]),
      );
      flags.change();
      expect(calls).to.deep.equal([]);
      flags.set('agent.validation.kill', true);
      flags.change();
      flags.change();
      flags.set('agent.validation.kill', false);
      flags.set('agent.noop.kill', true);
      flags.change();
      expect(calls).to.deep.equal([
        ['validation', true],
        ['noop', true],
        ['validation', false],
      ]);
      stop();
      expect(flags.listeners.size).to.equal(0);
    });
  });

  describe('auto-approval switch in the domain', () => {
    const policy = loadDecisionPolicy('policies/decision-policy.yaml');
    const stage = (key: string, overrides: Partial<PolicyStage> = {}): PolicyStage => ({
      key,
      status: 'pending',
      dependsOn: [],
      continueOnFailure: false,
      category: 'technical_refactor',
      autoApproveAt: autoApproveThreshold(policy, 'technical_refactor'),
      confidence: 95,
      approved: false,
      ...overrides,
    });

    it('autoApproved: off, only a human approval counts', () => {
      expect(autoApproved({ approved: false, autoApproveAt: 85, confidence: 95 }, false)).to.equal(false);
      expect(autoApproved({ approved: true, autoApproveAt: 85, confidence: 95 }, false)).to.equal(true);
      expect(autoApproved({ approved: false, autoApproveAt: 85, confidence: 95 })).to.equal(true);
    });

    it('initialStageStatus: off, a root above its threshold starts pending (for its decision)', () => {
      const root = { root: true, autoApproveAt: 85, confidence: null };
      expect(initialStageStatus(root, { clarifying: false, admitted: true, autoApproval: false })).to.equal('pending');
      expect(initialStageStatus(root, { clarifying: false, admitted: true, autoApproval: true })).to.equal('queued');
    });

    it('admitStages: off, a stage above its threshold is held with the usual approvers and a reason naming the switch', () => {
      const stages = [stage('a'), stage('b', { approved: true })];
      const plan = admitStages(planPipeline(stages, { cancelRequested: false }), stages, policy, { autoApproval: false });
      expect(plan.dispatch).to.deep.equal(['b']);
      expect(plan.hold).to.have.length(1);
      expect(plan.hold[0]).to.include({ key: 'a', status: 'pending', category: 'technical_refactor', confidence: 95 });
      expect(plan.hold[0]!.approvers).to.deep.equal(['tech_lead']);
      expect(plan.hold[0]!.reason).to.match(/^auto-approval is switched off \(platform\.auto-approval\): confidence 95% reaches/);
      // Below the threshold the reason is the policy's own, switch or not.
      const low = [stage('c', { confidence: 82 })];
      const lowPlan = admitStages(planPipeline(low, { cancelRequested: false }), low, policy, { autoApproval: false });
      expect(lowPlan.hold[0]!.reason).to.match(/^confidence 82% is below/);
    });
  });

  describe('worker hold', () => {
    it('holdJob: moves the job to delayed by holdMs with its token and returns a DelayedError', async () => {
      const moves: [number, string | undefined][] = [];
      const before = Date.now();
      const error = await holdJob({ moveToDelayed: async (timestamp, token) => void moves.push([timestamp, token]) }, 'tok', 500);
      expect(error).to.be.instanceOf(DelayedError);
      expect(moves).to.have.length(1);
      expect(moves[0]![1]).to.equal('tok');
      expect(moves[0]![0]).to.be.at.least(before + 500);
    });

    it('followSwitch: pauses without waiting for running jobs, resumes, and ends in the state of the last change', async () => {
      let paused = false;
      const calls: string[] = [];
      const worker = {
        isPaused: () => paused,
        pause: async (doNotWaitActive?: boolean) => {
          calls.push(`pause(${doNotWaitActive})`);
          paused = true;
        },
        resume: async () => {
          calls.push('resume');
          paused = false;
        },
      };
      const errors: Error[] = [];
      const sw = followSwitch(worker, (e) => errors.push(e));
      await sw.set(false);
      expect(calls).to.deep.equal(['pause(true)']);
      // Quick flips: applied one at a time; only the latest wanted state is acted on.
      await Promise.all([sw.set(true), sw.set(false), sw.set(true)]);
      expect(paused).to.equal(false);
      expect(calls).to.deep.equal(['pause(true)', 'resume']);
      await sw.set(true);
      expect(calls).to.have.length(2);
      expect(errors).to.deep.equal([]);
    });

    it('followSwitch: a failing pause is reported and the next change tries again', async () => {
      let paused = false;
      let fail = true;
      const worker = {
        isPaused: () => paused,
        pause: async () => {
          if (fail) throw new Error('redis away');
          paused = true;
        },
        resume: async () => {
          paused = false;
        },
      };
      const errors: Error[] = [];
      const sw = followSwitch(worker, (e) => errors.push(e));
      await sw.set(false);
      expect(errors.map((e) => e.message)).to.deep.equal(['redis away']);
      expect(paused).to.equal(false);
      fail = false;
      await sw.set(false);
      expect(paused).to.equal(true);
    });
  });
});
