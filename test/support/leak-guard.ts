// After a whole mocha run: what still keeps the process alive. Mocha runs without `exit: true`,
// so a timer, socket or child process a test or the product forgot would hang the run; this
// names it instead, fails the run, and ends a hang after 30 s. LEAK_TRACE=1 adds where each
// leftover resource was created (async_hooks; slows the run, so only when asked).
import { createHook } from 'node:async_hooks';
import { openHandles } from '../../src/lifecycle/open-handles.js';

/** How long teardown waits for closing sockets and exiting children to go (they take a tick or two). */
const SETTLE_MS = 5_000;
/** After this the process exits non-zero, whatever holds it: a leak must not eat CI's time. */
const HANG_LIMIT_MS = 30_000;
/** What keeps the loop alive besides stdio (the same reading as the entries' "process stopped" line). */
export function resourcesLeftOpen(): Record<string, number> {
  return openHandles();
}

const nothingLeft = (counts: Record<string, number>) => Object.keys(counts).length === 0;

interface Traced {
  type: string;
  stack: string;
  resource: { hasRef?: () => boolean };
}
const traced = new Map<number, Traced>();

/** With LEAK_TRACE set: remembers where each handle and timer was created, until it is destroyed. */
export function traceResourcesIfAsked(): void {
  if (!process.env.LEAK_TRACE) return;
  createHook({
    init(asyncId, type, _trigger, resource) {
      if (type === 'PROMISE' || type.endsWith('REQUEST') || type === 'TickObject' || type === 'Immediate') return;
      const stack = (new Error().stack ?? '').split('\n').slice(2, 14).join('\n');
      traced.set(asyncId, { type, stack, resource: resource as Traced['resource'] });
    },
    destroy(asyncId) {
      traced.delete(asyncId);
    },
  }).enable();
}

function tracedStillHeld(): string {
  // The guard's own wait timers are destroyed a tick after they fire: not a leak.
  const held = [...traced.values()].filter(
    (t) => (typeof t.resource.hasRef !== 'function' || t.resource.hasRef()) && !t.stack.includes('leak-guard.ts'),
  );
  return held.map((t) => `  ${t.type}\n${t.stack}`).join('\n');
}

/**
 * Waits up to SETTLE_MS for every resource but stdio to go, and throws naming what is left;
 * arms an unref'd timer that exits the process with code 1 if it is still alive HANG_LIMIT_MS later.
 */
export async function assertNothingLeftOpen(): Promise<void> {
  const watchdog = setTimeout(() => {
    process.stderr.write(
      `\n[leak-guard] the process is still alive ${HANG_LIMIT_MS / 1000} s after the run: ` +
        `${JSON.stringify(resourcesLeftOpen())}; exiting with code 1\n`,
    );
    process.exit(1);
  }, HANG_LIMIT_MS);
  watchdog.unref();
  const deadline = Date.now() + SETTLE_MS;
  // Checked right after each wait's timer fired, so that timer is not among the resources.
  while (!nothingLeft(resourcesLeftOpen()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  const left = resourcesLeftOpen();
  if (nothingLeft(left)) return;
  const where = process.env.LEAK_TRACE ? `\n${tracedStillHeld()}` : ' (LEAK_TRACE=1 shows where each was created)';
  throw new Error(`resources left open after the run: ${JSON.stringify(left)}${where}`);
}
