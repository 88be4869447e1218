// Admission control, pure: whether a pipeline may start now, which queued pipelines start when
// slots free up, and when the backlog is too long to accept more. The submitter is the
// authenticated caller's identity id (src/domain/identity.ts).
import { TooManyRequestsError } from './errors.js';

/** Seconds a client is told to wait (Retry-After) when the backlog is full. */
export const BACKLOG_RETRY_AFTER_SECONDS = 30;

/** Running-pipeline limits; 0 means no limit. */
export interface AdmissionLimits {
  /** Pipelines running at once, all submitters together (MAX_RUNNING_PIPELINES). */
  maxRunning: number;
  /** Pipelines running at once per submitter (MAX_RUNNING_PIPELINES_PER_SUBMITTER). */
  maxRunningPerSubmitter: number;
}

/** What is running now: in total, and for the submitters that matter to the decision. */
export interface RunningLoad {
  total: number;
  bySubmitter: ReadonlyMap<string, number>;
}

/** A pipeline that admission control keeps `queued`. */
export interface QueuedPipeline {
  id: string;
  submitter: string;
}

/** 429 BACKLOG_FULL: too many pipelines wait already; nothing was recorded. */
export function backlogFullError(queued: number, highWater: number, retryAfterSeconds = BACKLOG_RETRY_AFTER_SECONDS): TooManyRequestsError {
  return new TooManyRequestsError(
    'BACKLOG_FULL',
    `${queued} pipelines are queued, not yet started (BACKLOG_HIGH_WATER is ${highWater}); nothing was recorded. Retry after ${retryAfterSeconds} s.`,
    { retryAfterSeconds },
  );
}

/** True when either limit is set: submissions then go through admission. */
export function limitsEnabled(limits: AdmissionLimits): boolean {
  return limits.maxRunning > 0 || limits.maxRunningPerSubmitter > 0;
}

/** Whether one more pipeline of `submitter` may start, given what runs now. */
export function canStart(limits: AdmissionLimits, load: RunningLoad, submitter: string): boolean {
  if (limits.maxRunning > 0 && load.total >= limits.maxRunning) return false;
  if (limits.maxRunningPerSubmitter > 0 && (load.bySubmitter.get(submitter) ?? 0) >= limits.maxRunningPerSubmitter) return false;
  return true;
}

/**
 * The queued pipelines to start now, in submission order: `queued` must be oldest first. A
 * pipeline whose submitter is at its limit is passed over (it does not hold up the others);
 * selection stops when the global limit is reached.
 */
export function selectToStart(limits: AdmissionLimits, load: RunningLoad, queued: readonly QueuedPipeline[]): string[] {
  const bySubmitter = new Map(load.bySubmitter);
  let total = load.total;
  const start: string[] = [];
  for (const pipeline of queued) {
    if (limits.maxRunning > 0 && total >= limits.maxRunning) break;
    if (!canStart(limits, { total, bySubmitter }, pipeline.submitter)) continue;
    start.push(pipeline.id);
    total += 1;
    bySubmitter.set(pipeline.submitter, (bySubmitter.get(pipeline.submitter) ?? 0) + 1);
  }
  return start;
}

/** True when `queued` pipelines reach the high-water mark (0: never). */
export function backlogFull(highWater: number, queued: number): boolean {
  return highWater > 0 && queued >= highWater;
}
