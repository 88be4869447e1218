// A statement of the stage runner itself (the finish of an attempt) cancelled by Postgres at
// DATABASE_STATEMENT_TIMEOUT_MS, for real: the agent's handler locks the `stages` table on a
// connection of its own and returns, so recording its result waits and times out. The agent
// worker rethrows it as DATABASE_TIMEOUT, BullMQ fails the job (one attempt), and the DLQ lists
// it under DATABASE_TIMEOUT.
import { expect } from 'chai';
import { Queue } from 'bullmq';
import { z } from 'zod';
import { defineAgent } from '../../src/agents/define-agent.js';
import { agentQueueName } from '../../src/infra/queue/queue-names.js';
import { pollUntil } from '../support/chaos/free-port.js';
import { startHarness, type Harness } from '../support/harness.js';
import { request } from '../support/http.js';
import { lockTable, type TableLock } from '../support/table-lock.js';
import { openTestRedis } from '../support/test-redis.js';
import type { RedisClient } from '../../src/infra/queue/redis-connection.js';

const AGENT = 'locks_stages';

describe('a statement timeout in a worker (e2e)', function () {
  this.timeout(60_000);
  let h: Harness;
  let lock: TableLock | undefined;
  let redis: RedisClient | undefined;
  let queue: Queue | undefined;

  // Returns at once with `stages` locked: the runner's own statements on it wait for the lock.
  const locksStages = defineAgent({
    type: AGENT,
    version: '1.0.0',
    input: z.object({}).strict(),
    output: z.object({ locked: z.boolean() }),
    handler: async () => {
      lock = await lockTable(process.env.TEST_DATABASE_URL!, 'stages');
      return { locked: true };
    },
  });

  before(async () => {
    h = await startHarness({ agents: [locksStages], env: { DATABASE_STATEMENT_TIMEOUT_MS: '300', LOCK_DURATION_MS: '1000' } });
    // The run's Redis as the harness uses it: the cluster under TEST_REDIS_CLUSTER=1.
    redis = openTestRedis();
    queue = new Queue(agentQueueName(AGENT), { connection: redis, prefix: h.config.QUEUE_PREFIX });
    // The API's Redis connection comes up asynchronously: a submission before it would get 503.
    await pollUntil('the API ready', async () => (await request(h.baseUrl, 'GET', '/health/ready')).status === 200, 10_000, 50);
  });
  after(async () => {
    await lock?.release();
    await queue?.close();
    redis?.disconnect();
    await h?.close();
  });

  it('the finish of an attempt times out: the job fails as DATABASE_TIMEOUT and the DLQ lists it so', async () => {
    const submitted = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
      name: 'statement-timeout-in-worker',
      stages: [{ key: 'hold', agent: AGENT, input: {}, retry: { attempts: 1 } }],
    });
    expect(submitted.status, JSON.stringify(submitted.body)).to.equal(202);
    const jobId: string = submitted.body.stages[0].id;

    // Redis only while the table is locked: the API's reads of the stage would wait too.
    await pollUntil('the job failed', async () => (await queue!.getJobState(jobId)) === 'failed', 30_000, 50);
    await lock!.release();
    const job = await queue!.getJob(jobId);
    expect(job!.failedReason).to.match(
      /^DATABASE_TIMEOUT: canceling statement due to statement timeout \(statement "[^"]+" ran longer than DATABASE_STATEMENT_TIMEOUT_MS=300\)$/,
    );

    const dlq = await request(h.baseUrl, 'GET', `/api/v1/dlq?pipelineId=${submitted.body.id}`);
    expect(dlq.status, JSON.stringify(dlq.body)).to.equal(200);
    expect(dlq.body.items).to.have.length(1);
    expect(dlq.body.items[0]).to.deep.include({ jobId, agent: AGENT });
    expect(dlq.body.items[0].error.code).to.equal('DATABASE_TIMEOUT');

    // Nothing finished the stage in Postgres: once its attempt is older than LOCK_DURATION_MS a
    // reconcile pass records it failed, so nothing is left running in the shared schema.
    await pollUntil(
      'the reconciler finished the pipeline',
      async () => {
        await h.workers[0]!.reconciler!.reconcileNow();
        return (await request(h.baseUrl, 'GET', `/api/v1/pipelines/${submitted.body.id}`)).body.status === 'failed';
      },
      30_000,
      200,
    );
  });
});
