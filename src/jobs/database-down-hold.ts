// Postgres unreachable while a stage ran (its claim or finish statement failed): the run counts
// for nothing, so the agent's queue is held on every process and the job goes back without
// using an attempt. A stage whose finish did not commit is still `running` under this job, so
// the next delivery takes it over and runs it again: it is never counted done without its commit.
import type { Logger } from '../domain/logger.js';
import type { StageRunner } from '../services/stage-runner.service.js';

/** While Postgres is unreachable an agent queue is held this long, doubling per failure… */
export const DB_DOWN_HOLD_MIN_MS = 500;
/** …up to this (the longest a queue waits after Postgres is back). */
export const DB_DOWN_HOLD_MAX_MS = 5000;
/** At most one warning per this interval per agent type: an outage would otherwise flood the log. */
const WARN_EVERY_MS = 10_000;

export interface DatabaseDownHoldDeps {
  agentType: string;
  /** Holds the agent's queue for every worker process (BullMQ's queue-wide rate limit). */
  hold(ms: number): Promise<void>;
  /** Says whether `error` means "Postgres is unreachable for now" (infra/db/unavailable.ts). */
  isDatabaseUnavailable(error: unknown): boolean;
  logger: Logger;
  now?: () => number;
}

/** The hold after `failures` consecutive failed runs: 0.5 s, 1 s, 2 s, 4 s, then 5 s. */
export function databaseDownHoldMs(failures: number): number {
  return Math.min(DB_DOWN_HOLD_MAX_MS, DB_DOWN_HOLD_MIN_MS * 2 ** Math.min(failures, 10));
}

/** Wraps `runner`: a run that failed on an unreachable Postgres holds the queue and ends `interrupted`. */
export function holdWhileDatabaseDown(runner: StageRunner, deps: DatabaseDownHoldDeps): StageRunner {
  const now = deps.now ?? Date.now;
  let failures = 0;
  let lastWarned = Number.NEGATIVE_INFINITY;
  return {
    async run(delivery) {
      try {
        const outcome = await runner.run(delivery);
        failures = 0;
        return outcome;
      } catch (error) {
        if (!deps.isDatabaseUnavailable(error)) throw error;
        const holdMs = databaseDownHoldMs(failures);
        failures++;
        if (now() - lastWarned > WARN_EVERY_MS) {
          lastWarned = now();
          deps.logger.warn('postgres unreachable: holding the agent queue, the job goes back without using an attempt', {
            agentType: deps.agentType,
            holdMs,
            error: (error as Error).message,
          });
        }
        await deps.hold(holdMs);
        return { kind: 'interrupted' };
      }
    },
  };
}
