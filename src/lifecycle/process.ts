// Process plumbing shared by the entries: print boot errors without a stack (and without URL
// credentials), stop cleanly on SIGTERM/SIGINT (once, however many signals arrive).
import { ConfigError } from '../config.js';
import { BootError } from '../domain/boot-error.js';
import { redactText } from '../domain/redact.js';

/** Runs an entry's main; a BootError or ConfigError prints its message and exits 1. */
export function runMain(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    // Written before (or without) a logger, so redacted here: a driver's message may hold a URL.
    if (error instanceof BootError || error instanceof ConfigError) {
      process.stderr.write(`\n${redactText(error.message)}\n\n`);
    } else {
      process.stderr.write(`fatal: ${redactText(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`);
    }
    process.exit(1);
  });
}

/**
 * Calls `stop` on the first SIGTERM/SIGINT, then exits 0 (1 if stopping failed). A signal that
 * arrives while stopping is logged and ignored: the shutdown runs once.
 */
export function onShutdownSignal(stop: () => Promise<void>, log: (message: string) => void): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      log(`${signal} received again: already shutting down, signal ignored`);
      return;
    }
    stopping = true;
    log(`${signal} received: shutting down`);
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log(`shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
