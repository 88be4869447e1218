// Process plumbing shared by the entries: print boot errors without a stack (and without URL
// credentials), stop cleanly on SIGTERM/SIGINT (once; a second Ctrl-C, a second later, stops at once).
import { ConfigError } from '../config.js';
import { BootError } from '../domain/boot-error.js';
import { redactText } from '../domain/redact.js';
import { UsageError } from './entry-args.js';
import { openHandlesAfter } from './open-handles.js';

/** Runs an entry's main; a BootError or ConfigError prints its message and exits 1, a UsageError (bad flags) exits 2. */
export function runMain(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    // Written before (or without) a logger, so redacted here: a driver's message may hold a URL.
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    if (error instanceof BootError || error instanceof ConfigError) {
      process.stderr.write(`\n${redactText(error.message)}\n\n`);
    } else {
      process.stderr.write(`fatal: ${redactText(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`);
    }
    process.exit(1);
  });
}

/** How long a finished stop waits for its last sockets to close before naming what is still open. */
const LEFT_OPEN_WAIT_MS = 500;

/**
 * A terminal's Ctrl-C reaches every process of the job, and npm and tsx each pass it on to their
 * child as well, so one press can arrive two or three times within milliseconds. A SIGINT this
 * soon after the first is taken as the same press; a person pressing again to force the stop
 * is slower than that.
 */
export const REPEATED_SIGINT_MS = 1000;

/** Exit code of a shutdown forced by a second Ctrl-C (128 + SIGINT, as shells report it). */
export const FORCED_EXIT_CODE = 130;

export interface ShutdownOptions {
  /** Stops everything in order; resolves when done. */
  stop: () => Promise<void>;
  /** Where the shutdown's lines go (the process logger's info). */
  log: (message: string, meta?: Record<string, unknown>) => void;
  /** How long the stop lets running work finish (SHUTDOWN_GRACE_MS). */
  graceMs: number;
  /** What the stop waits for, read when the first signal arrives: "2 running stages and in-flight HTTP requests". */
  waitingFor: () => string;
}

/** `1500` → "1.5 s", `30000` → "30 s". */
export function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/**
 * Calls `stop` on the first SIGTERM/SIGINT, saying what it waits for and for how long, then
 * exits 0 (1 if stopping failed) after a final "process stopped" line, which names any handle
 * still open after a clean stop (`leftOpen`: a leak). A second SIGINT (a person pressing Ctrl-C
 * again, at least REPEATED_SIGINT_MS later) exits at once with FORCED_EXIT_CODE: running stages
 * are not finished and their jobs run again elsewhere once their lock lapses. A second SIGTERM is logged and ignored:
 * an orchestrator sends it once more before its own kill, and the shutdown runs once.
 */
export function onShutdownSignal(options: ShutdownOptions): void {
  const { stop, log, graceMs, waitingFor } = options;
  let startedAt: number | undefined;
  let repeatLogged = false;
  const finish = (exitCode: number, leftOpen: Record<string, number> = {}) => {
    log('process stopped', {
      exitCode,
      shutdownMs: startedAt === undefined ? 0 : Date.now() - startedAt,
      // A clean stop leaves nothing open; what a close() forgot is named here before exit hides it.
      ...(Object.keys(leftOpen).length > 0 ? { leftOpen } : {}),
    });
    process.exit(exitCode);
  };
  const handler = (signal: NodeJS.Signals) => {
    if (startedAt !== undefined) {
      if (signal === 'SIGINT' && Date.now() - startedAt < REPEATED_SIGINT_MS) {
        if (!repeatLogged)
          log(
            `SIGINT repeated within ${seconds(REPEATED_SIGINT_MS)}: taken as the same Ctrl-C (npm passes it on too); Ctrl-C again to stop now`,
          );
        repeatLogged = true;
        return;
      }
      if (signal === 'SIGINT') {
        log('SIGINT received again: stopping now without waiting; interrupted stages run again elsewhere once their lock lapses');
        finish(FORCED_EXIT_CODE);
        return;
      }
      log(`${signal} received again: already shutting down, signal ignored (SIGINT stops at once)`);
      return;
    }
    startedAt = Date.now();
    const again = signal === 'SIGINT' ? 'Ctrl-C again to stop now' : 'SIGINT to stop now';
    log(`${signal} received: shutting down; waiting up to ${seconds(graceMs)} for ${waitingFor()} (${again})`);
    stop().then(
      async () => finish(0, await openHandlesAfter(LEFT_OPEN_WAIT_MS)),
      (error: unknown) => {
        log(`shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
        finish(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
