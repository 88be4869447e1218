// Last-resort cleanup for chaos resources: mocha runs with `exit: true`, and a failed or
// interrupted run must not leave private servers or worker processes behind.

const hooks = new Set<() => void>();
let installed = false;

function runHooks(): void {
  for (const hook of [...hooks]) {
    try {
      hook();
    } catch {
      // Best effort: the process is going away.
    }
  }
  hooks.clear();
}

/**
 * Runs `hook` (synchronously) when this process exits or gets SIGINT/SIGTERM; returns a
 * function that unregisters it (call it after a normal cleanup).
 */
export function onProcessExit(hook: () => void): () => void {
  if (!installed) {
    installed = true;
    process.on('exit', runHooks);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        runHooks();
        process.exit(130);
      });
    }
  }
  hooks.add(hook);
  return () => hooks.delete(hook);
}
