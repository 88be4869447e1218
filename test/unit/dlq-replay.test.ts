// Unit tests for the DLQ replay rules (src/domain/dlq-replay.ts): when a failed job may be
// replayed, and which skipped stages a reopen puts back to pending.
import { expect } from 'chai';
import { planReopen, replayVerdict, type ReopenStage, type ReplayTarget } from '../../src/domain/dlq-replay.js';

const JOB = 'job-1';
const target = (overrides: Partial<ReplayTarget> = {}): ReplayTarget => ({
  stageKey: 'charge',
  stageStatus: 'failed',
  stageJobId: JOB,
  continueOnFailure: false,
  pipelineStatus: 'failed',
  cancelRequested: false,
  rerunBy: null,
  ...overrides,
});
const stage = (key: string, status: ReopenStage['status'], dependsOn: string[] = [], continueOnFailure = false): ReopenStage => ({
  key,
  status,
  dependsOn,
  continueOnFailure,
});
const codeOf = (t: ReplayTarget | null) => {
  const verdict = replayVerdict(t, JOB);
  return verdict.kind === 'blocked' ? verdict.code : verdict.kind;
};

describe('dlq replay rules', () => {
  describe('replayVerdict', () => {
    it('failed stage under this job, pipeline failed or running: reopen', () => {
      expect(codeOf(target())).to.equal('reopen');
      expect(codeOf(target({ pipelineStatus: 'running' }))).to.equal('reopen');
    });

    it('stage queued, or running under this job, in a running pipeline: resume (only the job is retried)', () => {
      expect(codeOf(target({ stageStatus: 'queued', pipelineStatus: 'running' }))).to.equal('resume');
      expect(codeOf(target({ stageStatus: 'queued', stageJobId: null, pipelineStatus: 'running' }))).to.equal('resume');
      expect(codeOf(target({ stageStatus: 'running', pipelineStatus: 'running' }))).to.equal('resume');
    });

    it('a pipeline re-run since: PIPELINE_RERUN, whatever the stage (one live attempt per lineage)', () => {
      const rerunBy = '7d9f2c1e-0000-4000-8000-000000000001';
      expect(codeOf(target({ rerunBy }))).to.equal('PIPELINE_RERUN');
      expect(codeOf(target({ rerunBy, stageStatus: 'queued', pipelineStatus: 'running' }))).to.equal('PIPELINE_RERUN');
      const verdict = replayVerdict(target({ rerunBy }), JOB);
      expect(verdict.kind === 'blocked' && verdict.message).to.include(rerunBy);
      // A cancelled pipeline says so first.
      expect(codeOf(target({ rerunBy, pipelineStatus: 'cancelled' }))).to.equal('PIPELINE_CANCELLED');
    });

    it('stage running under another job: STAGE_NOT_FAILED', () => {
      expect(codeOf(target({ stageStatus: 'running', stageJobId: 'other', pipelineStatus: 'running' }))).to.equal('STAGE_NOT_FAILED');
    });

    it('stage succeeded, skipped or pending: STAGE_NOT_FAILED', () => {
      for (const stageStatus of ['succeeded', 'skipped', 'pending'] as const) {
        expect(codeOf(target({ stageStatus, pipelineStatus: 'running' })), stageStatus).to.equal('STAGE_NOT_FAILED');
      }
    });

    it('pipeline cancelled or with a cancel request: PIPELINE_CANCELLED, whatever the stage', () => {
      expect(codeOf(target({ pipelineStatus: 'cancelled' }))).to.equal('PIPELINE_CANCELLED');
      expect(codeOf(target({ pipelineStatus: 'running', cancelRequested: true }))).to.equal('PIPELINE_CANCELLED');
      expect(codeOf(target({ stageStatus: 'succeeded', pipelineStatus: 'cancelled' }))).to.equal('PIPELINE_CANCELLED');
    });

    it('stage failed under a later job: DLQ_JOB_STALE', () => {
      expect(codeOf(target({ stageJobId: 'job-2' }))).to.equal('DLQ_JOB_STALE');
    });

    it('stage failed with continueOnFailure: CONTINUED_ON_FAILURE', () => {
      expect(codeOf(target({ continueOnFailure: true, pipelineStatus: 'succeeded' }))).to.equal('CONTINUED_ON_FAILURE');
    });

    it('no stage row: STAGE_MISSING', () => {
      expect(codeOf(null)).to.equal('STAGE_MISSING');
    });
  });

  describe('planReopen', () => {
    it('chain after the failed stage: every skipped stage restored, each waiting on its one dependency', () => {
      const stages = [
        stage('build', 'succeeded'),
        stage('charge', 'failed', ['build']),
        stage('ship', 'skipped', ['charge']),
        stage('notify', 'skipped', ['ship']),
      ];

      const plan = planReopen(stages, ['charge']);

      expect(plan.restore).to.have.deep.members([
        { key: 'ship', waitingOn: 1 },
        { key: 'notify', waitingOn: 1 },
      ]);
      expect(plan.inFlight).to.deep.equal([]);
    });

    it('fan-in with a satisfied branch: waitingOn counts only the unsatisfied dependencies', () => {
      const stages = [
        stage('a', 'succeeded'),
        stage('b', 'failed', [], true),
        stage('charge', 'failed'),
        stage('sink', 'skipped', ['a', 'b', 'charge']),
      ];

      expect(planReopen(stages, ['charge']).restore).to.deep.equal([{ key: 'sink', waitingOn: 1 }]);
    });

    it('skipped stage that another failure also blocks: stays skipped, and so does what follows it', () => {
      const stages = [
        stage('charge', 'failed'),
        stage('other', 'failed'),
        stage('ship', 'skipped', ['charge']),
        stage('join', 'skipped', ['ship', 'other']),
        stage('after', 'skipped', ['join']),
      ];

      expect(planReopen(stages, ['charge']).restore).to.deep.equal([{ key: 'ship', waitingOn: 1 }]);
    });

    it('both failures reopened together: the join is restored, waiting on both branches', () => {
      const stages = [stage('charge', 'failed'), stage('other', 'failed'), stage('join', 'skipped', ['charge', 'other'])];

      expect(planReopen(stages, ['charge', 'other']).restore).to.deep.equal([{ key: 'join', waitingOn: 2 }]);
    });

    it('restored stage that also waits on a running stage: reported in flight', () => {
      const stages = [stage('charge', 'failed'), stage('slow', 'running'), stage('join', 'skipped', ['charge', 'slow'])];

      const plan = planReopen(stages, ['charge']);

      expect(plan.restore).to.deep.equal([{ key: 'join', waitingOn: 2 }]);
      expect(plan.inFlight).to.deep.equal(['slow']);
    });

    it('skipped stages not downstream of the reopened one: untouched', () => {
      const stages = [stage('charge', 'failed'), stage('other', 'failed'), stage('ship', 'skipped', ['other'])];

      expect(planReopen(stages, ['charge']).restore).to.deep.equal([]);
    });
  });
});
