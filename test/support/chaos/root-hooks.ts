// Mocha root hooks for `npm run test:chaos`: prints each case's and the suite's duration, and
// stops the private Postgres cluster the cases shared (each case closes its own Redis and
// processes).
import { closeSharedPostgres } from './chaos-stack.js';
import { turnRateLimitsOffInEnv } from '../rate-limits-off.js';
import { assertNothingLeftOpen } from '../leak-guard.js';

// The API processes of the stacks inherit process.env: their polling must not meet a rate limit.
turnRateLimitsOffInEnv();
// …nor read a developer's .env: ENV_FILE names a file that does not exist.
process.env.ENV_FILE = 'test/support/no-env-file-in-tests.env';

let started = 0;

export const mochaHooks = {
  beforeAll() {
    started = Date.now();
  },
  afterEach(this: Mocha.Context) {
    const test = this.currentTest;
    if (test?.duration !== undefined) process.stdout.write(`      [chaos] case duration: ${(test.duration / 1000).toFixed(1)} s\n`);
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await closeSharedPostgres();
    process.stdout.write(`\n  [chaos] suite duration: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  },
};

// Mocha runs without `exit: true` here too: a Redis, Postgres or entry process a case forgot
// fails the run, named, instead of hanging it.
export const mochaGlobalTeardown = assertNothingLeftOpen;
