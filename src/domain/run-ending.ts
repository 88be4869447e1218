// How a program a stage ran ended, in the words every message about it uses (the agents' errors,
// a failed clone).

/** The fields of a finished run (a ToolRun) that say how it ended. */
export interface RunEnding {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** The timeout it ran under (null: none). */
  timeoutMs: number | null;
  /** True when the stage's deadline cut the timeout asked for. */
  cutByDeadline: boolean;
}

/**
 * How a run ended, for a message: `timed out after N ms` (and why N, when the stage's deadline cut
 * it), `exited with 2`, `was killed by SIGKILL`, or `could not start`.
 */
export function describeEnding(run: RunEnding): string {
  if (run.timedOut) {
    return `timed out after ${run.timeoutMs} ms${run.cutByDeadline ? " (all that was left of the stage's timeoutMs)" : ''}`;
  }
  if (run.exitCode !== null) return `exited with ${run.exitCode}`;
  return run.signal ? `was killed by ${run.signal}` : 'could not start';
}
