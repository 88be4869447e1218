// What a replay of a dead-lettered stage job may do (pure): whether the stage can be reopened,
// and which skipped stages downstream of it go back to pending, with how many dependencies
// each still waits on. The replay repository applies the result in one transaction.
import { TERMINAL_STAGE_STATUSES, type PipelineStatus, type StageStatus } from './status.js';
import { satisfiesDependants } from './stage-lifecycle.js';

/** Why a failed job cannot be replayed now; each is a stable 409 code. */
export const REPLAY_BLOCKS = [
  'DLQ_JOB_MALFORMED',
  'STAGE_MISSING',
  'STAGE_NOT_FAILED',
  'DLQ_JOB_STALE',
  'CONTINUED_ON_FAILURE',
  'PIPELINE_CANCELLED',
  'PIPELINE_RERUN',
  'PIPELINE_NOT_FAILED',
  'STAGES_IN_FLIGHT',
] as const;
export type ReplayBlock = (typeof REPLAY_BLOCKS)[number];

/** The stage a dead-lettered job ran, and its pipeline, as Postgres has them now. */
export interface ReplayTarget {
  stageKey: string;
  stageStatus: StageStatus;
  /** The job of the stage's latest claim (null if it was never claimed). */
  stageJobId: string | null;
  continueOnFailure: boolean;
  pipelineStatus: PipelineStatus;
  cancelRequested: boolean;
  /** The first re-run of the pipeline (pipelines.rerun_of), null when there is none. */
  rerunBy: string | null;
}

export type ReplayVerdict =
  /** The stage failed: back to queued, its skipped dependants to pending, the pipeline to running. */
  | { kind: 'reopen' }
  /**
   * Postgres already expects this job to run (a replay whose job retry did not happen, or a job
   * BullMQ failed on its own, e.g. stalled too often): only the job is retried.
   */
  | { kind: 'resume' }
  | { kind: 'blocked'; code: ReplayBlock; message: string };

const blocked = (code: ReplayBlock, message: string): ReplayVerdict => ({ kind: 'blocked', code, message });

/** Decides from the stage and pipeline rows whether the failed job `jobId` may be replayed. */
export function replayVerdict(target: ReplayTarget | null, jobId: string): ReplayVerdict {
  if (!target) return blocked('STAGE_MISSING', 'the stage this job ran is not in Postgres (its pipeline was deleted)');
  const { stageKey, stageStatus, stageJobId, pipelineStatus } = target;
  if (pipelineStatus === 'cancelled' || target.cancelRequested) {
    return blocked('PIPELINE_CANCELLED', `the pipeline of stage "${stageKey}" was cancelled`);
  }
  // One live attempt per lineage: once re-run, the old pipeline is not revived beside it.
  if (target.rerunBy) {
    return blocked(
      'PIPELINE_RERUN',
      `the pipeline of stage "${stageKey}" was re-run as ${target.rerunBy}: replay that pipeline's failures instead`,
    );
  }
  const ownJob = stageJobId === null || stageJobId === jobId;
  if (stageStatus === 'failed') {
    if (!ownJob) return blocked('DLQ_JOB_STALE', `stage "${stageKey}" last ran under job ${stageJobId}, not this one`);
    if (target.continueOnFailure) {
      return blocked(
        'CONTINUED_ON_FAILURE',
        `stage "${stageKey}" has continueOnFailure: its failure did not stop the pipeline, and its dependants ran`,
      );
    }
    if (pipelineStatus !== 'failed' && pipelineStatus !== 'running') {
      return blocked('PIPELINE_NOT_FAILED', `the pipeline of stage "${stageKey}" is ${pipelineStatus}`);
    }
    return { kind: 'reopen' };
  }
  const expectsThisJob = (stageStatus === 'queued' && ownJob) || (stageStatus === 'running' && stageJobId === jobId);
  if (expectsThisJob && pipelineStatus === 'running') return { kind: 'resume' };
  return blocked('STAGE_NOT_FAILED', `stage "${stageKey}" is ${stageStatus}, not failed`);
}

export interface ReopenStage {
  key: string;
  status: StageStatus;
  dependsOn: readonly string[];
  continueOnFailure: boolean;
}

export interface ReopenPlan {
  /** Skipped stages downstream of the reopened ones that go back to pending. */
  restore: { key: string; waitingOn: number }[];
  /**
   * Running stages that a restored stage depends on. Non-empty: the reopen must wait, because
   * such a stage's finish statement, if it started before the reopen committed, would not see
   * the restored stage pending and would leave it waiting forever. (A queued stage is not a
   * risk: its claim waits for the reopen's row locks, so its finish sees the reopen.)
   */
  inFlight: string[];
}

/** The lifecycle's rule (domain/stage-lifecycle.ts): succeeded, or failed with continueOnFailure. */
const satisfies = (stage: ReopenStage): boolean => satisfiesDependants(stage);

/**
 * Plans reopening the failed stages `reopened` (keys): every skipped stage downstream of them
 * whose dependencies are each satisfied, reopened, restored or still to finish goes back to
 * pending (a skipped stage that another failure still blocks stays skipped), with `waitingOn` =
 * its dependencies not satisfied.
 */
export function planReopen(stages: readonly ReopenStage[], reopened: readonly string[]): ReopenPlan {
  const byKey = new Map(stages.map((s) => [s.key, s]));
  const dependants = new Map<string, string[]>();
  for (const stage of stages) {
    for (const dep of stage.dependsOn) dependants.set(dep, [...(dependants.get(dep) ?? []), stage.key]);
  }
  const targets = new Set(reopened);

  // Skipped stages reachable downstream of a reopened stage.
  const candidates = new Set<string>();
  const frontier = [...targets];
  while (frontier.length > 0) {
    for (const key of dependants.get(frontier.pop()!) ?? []) {
      if (!candidates.has(key) && byKey.get(key)?.status === 'skipped') {
        candidates.add(key);
        frontier.push(key);
      }
    }
  }

  // Largest set whose every dependency is satisfied, reopened, in the set, or not finished yet.
  const blocks = (dep: string, set: ReadonlySet<string>): boolean => {
    const stage = byKey.get(dep);
    if (!stage) return true;
    if (targets.has(dep) || set.has(dep) || satisfies(stage)) return false;
    return TERMINAL_STAGE_STATUSES.has(stage.status);
  };
  let changed = true;
  while (changed) {
    changed = false;
    for (const key of candidates) {
      if (byKey.get(key)!.dependsOn.some((dep) => blocks(dep, candidates))) {
        candidates.delete(key);
        changed = true;
      }
    }
  }

  const inFlight = new Set<string>();
  const restore = [...candidates].map((key) => {
    const deps = byKey.get(key)!.dependsOn.map((dep) => byKey.get(dep)!);
    for (const dep of deps) if (dep.status === 'running') inFlight.add(dep.key);
    return { key, waitingOn: deps.filter((dep) => targets.has(dep.key) || !satisfies(dep)).length };
  });
  return { restore, inFlight: [...inFlight].sort() };
}
