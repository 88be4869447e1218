// What still holds the event loop (process.getActiveResourcesInfo(), stdio left out): the end of
// a shutdown names it on its "process stopped" line, since process.exit would otherwise hide a
// timer or connection that a close() forgot; the test suite's leak guard reads it the same way.

/** stdin, stdout and stderr: a TTY or a pipe each, held by Node itself. */
const STDIO_TYPES = new Set(['TTYWrap', 'PipeWrap']);
const MAX_STDIO = 3;

/** Counts by type, e.g. `{ TCPSocketWrap: 2, Timeout: 1 }`, in name order (two counts compare as JSON). */
export function countByType(types: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of [...types].sort()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/** The active handles, timers and requests other than the stdio handles, by type (`{}` when none). */
export function openHandles(active: readonly string[] = process.getActiveResourcesInfo()): Record<string, number> {
  let stdio = 0;
  return countByType(
    active.filter((type) => {
      if (STDIO_TYPES.has(type) && stdio < MAX_STDIO) {
        stdio += 1;
        return false;
      }
      return true;
    }),
  );
}

/**
 * Waits up to `withinMs` for the open handles to go (a socket closes a tick after its end, a child
 * a moment after its exit) and returns what is left, `{}` when nothing is.
 */
export async function openHandlesAfter(withinMs: number): Promise<Record<string, number>> {
  const deadline = Date.now() + withinMs;
  // Read right after each wait's timer fired, so that timer is not among them.
  while (Object.keys(openHandles()).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  return openHandles();
}
