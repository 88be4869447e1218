// A stage's deadline: the instant its `timeoutMs` runs out, counted from the start of the attempt.
// The runner aborts the handler's signal then (STAGE_TIMEOUT). Agents get it as `ctx.deadline`, and
// a workspace bounds every program's timeout by it, so that a program that would run past it is
// killed by its own timeout first and the agent fails the stage saying which program and why,
// instead of the stage ending as a bare STAGE_TIMEOUT.

/**
 * Kept back before the deadline for a program killed by its bounded timeout to end (SIGTERM, then
 * SIGKILL 2 s later) and for the agent to report it, before the stage's signal aborts.
 */
export const DEADLINE_RESERVE_MS = 3000;

/** The stage's signal (cancel, shutdown) joined with its timeout, and the deadline that timeout fires at. */
export interface StageTimeout {
  signal: AbortSignal;
  /** Epoch milliseconds at which `timeoutMs` runs out; null when the stage has none. */
  deadline: number | null;
  /** True once the timeout (not the delivery's signal) fired. */
  timedOut(): boolean;
}

/** Starts the clock of a stage's `timeoutMs` (none when it is null, undefined or 0). */
export function startStageTimeout(delivery: AbortSignal, timeoutMs: number | null | undefined, now = Date.now()): StageTimeout {
  if (!timeoutMs) return { signal: delivery, deadline: null, timedOut: () => false };
  const timeout = AbortSignal.timeout(timeoutMs);
  return { signal: AbortSignal.any([delivery, timeout]), deadline: now + timeoutMs, timedOut: () => timeout.aborted };
}

/**
 * `wantedMs` bounded by what the deadline leaves, less DEADLINE_RESERVE_MS (at most half of what
 * is left, so a short stage still gets a program the larger part); `bounded` says whether the
 * deadline cut it. Never below 1 ms.
 */
export function boundByDeadline(
  wantedMs: number,
  deadline: number | null | undefined,
  now = Date.now(),
): { timeoutMs: number; bounded: boolean } {
  if (deadline === null || deadline === undefined) return { timeoutMs: wantedMs, bounded: false };
  const left = deadline - now;
  const allowed = Math.max(1, Math.floor(left - Math.min(DEADLINE_RESERVE_MS, left / 2)));
  return allowed < wantedMs ? { timeoutMs: allowed, bounded: true } : { timeoutMs: wantedMs, bounded: false };
}
