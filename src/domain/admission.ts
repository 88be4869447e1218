// Admission control, pure: whether a pipeline may start now, which queued pipelines start when
// slots free up (the most urgent first, after aging, taking turns across submitters within a
// priority), and when the backlog is too long to accept more. The submitter is the authenticated caller's identity id (src/domain/identity.ts).
import { TooManyRequestsError } from './errors.js';
import { DEFAULT_PRIORITY, effectiveRank, type PipelinePriority } from './pipeline-priority.js';

/** Seconds a client is told to wait (Retry-After) when the backlog is full. */
export const BACKLOG_RETRY_AFTER_SECONDS = 30;

/** Running-pipeline limits; 0 means no limit. */
export interface AdmissionLimits {
  /** Pipelines running at once, all submitters together (MAX_RUNNING_PIPELINES). */
  maxRunning: number;
  /** Pipelines running at once per submitter (MAX_RUNNING_PIPELINES_PER_SUBMITTER). */
  maxRunningPerSubmitter: number;
  /**
   * Not a limit: the aging step (PRIORITY_AGING_MS) by which a queued pipeline's wait lifts its
   * priority when slots are handed out (domain/pipeline-priority.ts). Absent or 0: no aging.
   */
  agingStepMs?: number;
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
  /** Default normal. */
  priority?: PipelinePriority;
  /** When it was submitted (its wait, for aging); absent: no aging. */
  createdAt?: Date;
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
 * The queued pipelines to start now, the most urgent first and fairly across submitters within a
 * priority: each free slot goes to the most urgent effective rank waiting (its priority, lifted
 * by aging: `effectiveRank`), and among the submitters whose next pipeline has that rank, to the
 * one with the fewest pipelines running (counting those this call starts), ties to the one whose
 * next pipeline was submitted first. Each submitter's own pipelines start most urgent first, then
 * oldest first. So one submitter's thousand queued pipelines take turns with another's one
 * instead of all going first, and an urgent pipeline passes every normal one. `queued` must be
 * oldest first. A submitter at its own limit is passed over; selection stops when the global
 * limit is reached or nobody waiting can start. `now`: the clock aging reads.
 */
export function selectToStart(
  limits: AdmissionLimits,
  load: RunningLoad,
  queued: readonly QueuedPipeline[],
  now: Date = new Date(),
): string[] {
  const bySubmitter = new Map(load.bySubmitter);
  const waiting = waitingBySubmitter(queued, (pipeline) =>
    effectiveRank(
      pipeline.priority ?? DEFAULT_PRIORITY,
      pipeline.createdAt ? now.getTime() - pipeline.createdAt.getTime() : 0,
      limits.agingStepMs ?? 0,
    ),
  );
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

interface WaitingPipeline {
  id: string;
  /** Its place in `queued` (oldest first). */
  position: number;
  /** Its effective rank: 1 urgent … 4 low, after aging. */
  rank: number;
}

/** Each submitter's queued pipelines, most urgent then oldest first, with the submitters in order of their oldest. */
function waitingBySubmitter(
  queued: readonly QueuedPipeline[],
  rankOf: (pipeline: QueuedPipeline) => number,
): Map<string, WaitingPipeline[]> {
  const waiting = new Map<string, WaitingPipeline[]>();
  queued.forEach((pipeline, position) => {
    const entry = { id: pipeline.id, position, rank: rankOf(pipeline) };
    const line = waiting.get(pipeline.submitter);
    if (line) line.push(entry);
    else waiting.set(pipeline.submitter, [entry]);
  });
  for (const line of waiting.values()) line.sort((a, b) => a.rank - b.rank || a.position - b.position);
  return waiting;
}

/**
 * The submitter whose turn it is: allowed to start one more, whose next pipeline has the most
 * urgent rank, then fewest running, then oldest next pipeline.
 */
function nextSubmitter(
  limits: AdmissionLimits,
  load: RunningLoad,
  waiting: ReadonlyMap<string, readonly WaitingPipeline[]>,
): string | undefined {
  let best: { submitter: string; rank: number; running: number; position: number } | undefined;
  for (const [submitter, line] of waiting) {
    if (!canStart(limits, load, submitter)) continue;
    const running = load.bySubmitter.get(submitter) ?? 0;
    const { position, rank } = line[0]!;
    if (
      !best ||
      rank < best.rank ||
      (rank === best.rank && (running < best.running || (running === best.running && position < best.position)))
    )
      best = { submitter, rank, running, position };
  }
  return best?.submitter;
}

/** True when `queued` pipelines reach the high-water mark (0: never). */
export function backlogFull(highWater: number, queued: number): boolean {
  return highWater > 0 && queued >= highWater;
}
