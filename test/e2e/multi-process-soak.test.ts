// A slice of the bench's soak (bench/soak.ts) as a test: 4 real worker processes (forked
// bench/worker-process.ts, the platform's worker runtime with the conductor) and the API runtime
// here run 400 noop stages in 2 rounds after a warm-up that fills a small retention. Outcomes
// only: every pipeline succeeds, each stage runs once, and Redis holds the same keys (by family,
// expiring keys aside) at the end as after the warm-up. No timing and no memory thresholds.
import { expect } from 'chai';
import pg from 'pg';
import { toPgConnection } from '../../src/infra/db/connection-url.js';
import { closeEverythingOpen } from '../../bench/open-resources.js';
import { runSoak, type SoakResult } from '../../bench/soak.js';
import { deleteKeys, testPrefix } from '../support/harness.js';
import { singleServerRedisUrl } from '../support/test-redis.js';

describe('multi-process soak (e2e, 4 worker processes)', function () {
  this.timeout(180_000);
  const prefix = testPrefix();
  let observer: pg.Pool;
  let result: SoakResult;
  // One server even under TEST_REDIS_CLUSTER=1, by what the soak measures: that server's
  // used_memory and a SCAN of the prefix's keys (a cluster client scans one node at random).
  let redisUrl: string;

  before(async () => {
    const databaseUrl = process.env.TEST_DATABASE_URL;
    if (!databaseUrl) throw new Error('TEST_DATABASE_URL is not set: run through mocha (test/support/root-hooks.ts)');
    redisUrl = singleServerRedisUrl();
    observer = new pg.Pool({ connectionString: toPgConnection(databaseUrl).connectionString, max: 2 });
    result = await runSoak({
      databaseUrl,
      redisUrl,
      prefix,
      observer,
      stages: 400,
      rounds: 2,
      processes: 4,
      concurrency: 8,
      poolSize: 3,
      // Caps a warm-up of a few dozen pipelines reaches: the baseline is the steady state.
      env: { COMPLETED_JOBS_KEEP: '25', FAILED_JOBS_KEEP: '25', QUEUE_EVENTS_MAX_LEN: '100' },
      warmUpPipelines: 20,
      maxWarmUpRounds: 5,
      log: () => undefined,
    });
  });
  after(async () => {
    await closeEverythingOpen();
    await observer?.end();
    await deleteKeys(redisUrl, prefix);
  });

  it('80 diamonds over 4 processes: every pipeline succeeds and each of the 400 stages runs once', () => {
    expect(result.warmUpShort, 'the warm-up reached the retention caps').to.equal(false);
    expect(result.pipelines).to.equal(80);
    expect(result.stages).to.equal(400);
    expect(result.notSucceeded).to.equal(0);
    expect(result.reruns, 'stage runs beyond one per stage').to.equal(0);
    expect(
      result.share.reduce((a, b) => a + b, 0),
      'stage runs by the 4 worker processes',
    ).to.equal(400);
    expect(result.processes).to.have.length(4);
  });

  it('Redis ends with the key families and counts it had after the warm-up (expiring keys aside)', () => {
    const end = result.rounds.at(-1)!;
    // The job hashes kept are the retention's: COMPLETED_JOBS_KEEP per queue.
    expect(result.baseline.redis.families['agent.noop:*'], 'noop job hashes after the warm-up').to.equal(25);
    expect(result.baseline.redis.families['control:*'], 'control job hashes after the warm-up').to.equal(25);
    expect(end.redis.families).to.deep.equal(result.baseline.redis.families);
  });
});
