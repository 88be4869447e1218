// Admission control, pure: whether a pipeline may start now, which queued pipelines start when
// slots free up (taking turns across submitters), and when the backlog is too long to accept
// more. The submitter is the authenticated caller's identity id (src/domain/identity.ts).
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
 * The queued pipelines to start now, fairly across submitters: each free slot goes to the waiting
 * submitter with the fewest pipelines running (counting those this call starts), ties to the one
 * whose next pipeline was submitted first, and each submitter's own pipelines start oldest first.
 * So one submitter's thousand queued pipelines take turns with another's one instead of all going
 * first. `queued` must be oldest first. A submitter at its own limit is passed over; selection
 * stops when the global limit is reached or nobody waiting can start.
 */
export function selectToStart(limits: AdmissionLimits, load: RunningLoad, queued: readonly QueuedPipeline[]): string[] {
  const bySubmitter = new Map(load.bySubmitter);
  const waiting = waitingBySubmitter(queued);
  let total = load.total;
  const start: string[] = [];
  for (;;) {
    if (limits.maxRunning > 0 && total >= limits.maxRunning) break;
    const next = nextSubmitter(limits, { total, bySubmitter }, waiting);
    if (next === undefined) break;
    const line = waiting.get(next)!;
    start.push(line.shift()!.id);
    if (line.length === 0) waiting.delete(next);
    total += 1;
    bySubmitter.set(next, (bySubmitter.get(next) ?? 0) + 1);
  }
  return start;
}

/** Each submitter's queued pipelines, oldest first, with the submitters in order of their oldest. */
function waitingBySubmitter(queued: readonly QueuedPipeline[]): Map<string, { id: string; position: number }[]> {
  const waiting = new Map<string, { id: string; position: number }[]>();
  queued.forEach((pipeline, position) => {
    const line = waiting.get(pipeline.submitter);
    if (line) line.push({ id: pipeline.id, position });
    else waiting.set(pipeline.submitter, [{ id: pipeline.id, position }]);
  });
  return waiting;
}

/** The submitter whose turn it is: allowed to start one more, fewest running, then oldest next pipeline. */
function nextSubmitter(
  limits: AdmissionLimits,
  load: RunningLoad,
  waiting: ReadonlyMap<string, readonly { position: number }[]>,
): string | undefined {
  let best: { submitter: string; running: number; position: number } | undefined;
  for (const [submitter, line] of waiting) {
    if (!canStart(limits, load, submitter)) continue;
    const running = load.bySubmitter.get(submitter) ?? 0;
    const position = line[0]!.position;
    if (!best || running < best.running || (running === best.running && position < best.position)) best = { submitter, running, position };
  }
  return best?.submitter;
}

/** True when `queued` pipelines reach the high-water mark (0: never). */
export function backlogFull(highWater: number, queued: number): boolean {
  return highWater > 0 && queued >= highWater;
}
