// holdWhileDatabaseDown over a fake runner: an unreachable Postgres holds the queue with a growing
// hold and hands the job back as `interrupted`; any other error passes through; a success resets.
import { expect } from 'chai';
import type { Logger } from '../../src/domain/logger.js';
import { databaseDownHoldMs, DB_DOWN_HOLD_MAX_MS, DB_DOWN_HOLD_MIN_MS, holdWhileDatabaseDown } from '../../src/jobs/database-down-hold.js';
import type { RunOutcome, StageDelivery, StageRunner } from '../../src/services/stage-runner.service.js';

const DOWN = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
const delivery: StageDelivery = {
  stageId: 's',
  pipelineId: 'p',
  jobId: 's',
  attemptsMade: 0,
  maxAttempts: 3,
  signal: new AbortController().signal,
  agentType: 'noop',
};

function scriptedRunner(steps: Array<RunOutcome | Error>): StageRunner {
  let i = 0;
  return {
    async run() {
      const step = steps[i++]!;
      if (step instanceof Error) throw step;
      return step;
    },
  };
}

function recordingLogger(): Logger & { warnings: Array<Record<string, unknown> | undefined> } {
  const warnings: Array<Record<string, unknown> | undefined> = [];
  const noop = () => undefined;
  return { warnings, debug: noop, info: noop, error: noop, warn: (_m, meta) => void warnings.push(meta) };
}

describe('database-down hold', () => {
  it('doubles the hold from the minimum up to the maximum', () => {
    expect([0, 1, 2, 3, 4, 5, 50].map(databaseDownHoldMs)).to.deep.equal([500, 1000, 2000, 4000, 5000, 5000, 5000]);
    expect(databaseDownHoldMs(0)).to.equal(DB_DOWN_HOLD_MIN_MS);
    expect(databaseDownHoldMs(99)).to.equal(DB_DOWN_HOLD_MAX_MS);
  });

  it('holds the queue and returns interrupted while Postgres is down, and resets after a success', async () => {
    const holds: number[] = [];
    const logger = recordingLogger();
    let clock = 0;
    const runner = holdWhileDatabaseDown(scriptedRunner([DOWN, DOWN, DOWN, { kind: 'succeeded' }, DOWN]), {
      agentType: 'noop',
      hold: async (ms) => void holds.push(ms),
      isDatabaseUnavailable: (error) => error === DOWN,
      logger,
      now: () => (clock += 1000),
    });
    const outcomes = [];
    for (let i = 0; i < 5; i++) outcomes.push((await runner.run(delivery)).kind);
    expect(outcomes).to.deep.equal(['interrupted', 'interrupted', 'interrupted', 'succeeded', 'interrupted']);
    expect(holds).to.deep.equal([500, 1000, 2000, 500]);
    // One warning per 10 s of clock: the first failure only (the clock moved 1 s per read).
    expect(logger.warnings).to.have.length(1);
    expect(logger.warnings[0]).to.include({ agentType: 'noop', holdMs: 500 });
  });

  it('lets any other error through without holding', async () => {
    const holds: number[] = [];
    const other = new Error('handler bug');
    const runner = holdWhileDatabaseDown(scriptedRunner([other]), {
      agentType: 'noop',
      hold: async (ms) => void holds.push(ms),
      isDatabaseUnavailable: (error) => error === DOWN,
      logger: recordingLogger(),
    });
    let thrown: unknown;
    try {
      await runner.run(delivery);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).to.equal(other);
    expect(holds).to.deep.equal([]);
  });
});
