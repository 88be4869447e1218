// Mocha root hooks: one migrated Postgres schema for the whole run (tests share it and each
// creates its own rows), dropped at the end; then the leak guard (test/support/leak-guard.ts).
import { createTestSchema, dropSchema } from './test-database.js';
import { turnRateLimitsOffInEnv } from './rate-limits-off.js';
import { startRedisCluster, type RedisClusterHandle } from './redis-cluster.js';
import { assertNothingLeftOpen, traceResourcesIfAsked } from './leak-guard.js';
import { pinSingleServerRedis } from './test-redis.js';

traceResourcesIfAsked();

// Worker processes the tests spawn inherit this: many run at once, so none takes the fixed
// metrics port (9464) unless a test sets WORKER_METRICS_PORT itself.
process.env.WORKER_METRICS_PORT ??= '0';
// …and rate limits stay off in them (test/support/rate-limits-off.ts).
turnRateLimitsOffInEnv();
// …and no developer's .env reaches them: ENV_FILE names a file that does not exist (a test that
// wants an env file sets its own).
process.env.ENV_FILE = 'test/support/no-env-file-in-tests.env';

let schema: string | undefined;
// TEST_REDIS_CLUSTER=1: the whole run (harness, spawned processes) uses a 3-master Redis Cluster
// started here, through REDIS_URL and REDIS_CLUSTER_NODES (docs/redis-cluster.md).
let cluster: RedisClusterHandle | undefined;

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(120_000);
    const created = await createTestSchema();
    schema = created.schema;
    process.env.TEST_DATABASE_URL = created.url;
    if (process.env.TEST_REDIS_CLUSTER === '1') {
      pinSingleServerRedis();
      cluster = await startRedisCluster();
      Object.assign(process.env, cluster.env);
    }
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(30_000);
    if (schema) await dropSchema(schema);
    await cluster?.close();
  },
};

// After every hook and test: mocha runs without `exit: true`, so anything still open would hang
// the run; this fails it instead, naming what is left (and ends it after 30 s whatever holds it).
export const mochaGlobalTeardown = assertNothingLeftOpen;
