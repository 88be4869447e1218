// A queue hold (an open circuit breaker, Postgres down) against the real Redis and BullMQ: it
// outlives the limiter window it replaces and never cuts a longer hold short, and a worker with a
// real rate limit (AGENT_LIMITS) fetches nothing while it lasts.
import { expect } from 'chai';
import { Queue, Worker } from 'bullmq';
import type { RedisClient } from '../../src/infra/queue/redis-connection.js';
import { holdQueue } from '../../src/infra/queue/queue-hold.js';
import { deleteKeys, testPrefix } from '../support/harness.js';
import { openTestRedis, runRedisUrl } from '../support/test-redis.js';

/** What a hold writes: more than any limiter's max (BullMQ's Queue.rateLimit writes the same). */
const HELD = String(Number.MAX_SAFE_INTEGER);

describe('queue hold (integration, real Redis)', () => {
  const prefix = testPrefix();
  let redis: RedisClient;
  let queue: Queue;

  before(() => {
    redis = openTestRedis();
    queue = new Queue('agent.held', { connection: redis, prefix });
  });
  afterEach(async () => {
    await redis.del(queue.keys.limiter);
  });
  after(async () => {
    await queue.close();
    await deleteKeys(runRedisUrl(), prefix);
    redis.disconnect();
  });

  it('no window open: holds for what was asked', async () => {
    const applied = await holdQueue(redis, queue, 300);
    expect(applied).to.equal(300);
    expect(await redis.get(queue.keys.limiter)).to.equal(HELD);
    expect(await redis.pttl(queue.keys.limiter)).to.be.within(1, 300);
  });

  it('a limiter window with 3 starts and 20 s left: a 100 ms hold lasts to the end of the window', async () => {
    // Arrange: what BullMQ's limiter leaves after 3 starts of a 20 s window
    await redis.set(queue.keys.limiter, '3', 'PX', 20_000);

    // Act
    const applied = await holdQueue(redis, queue, 100);

    // Assert: held (no fetch passes) until the window would have closed, not 100 ms
    expect(applied).to.be.greaterThan(10_000);
    expect(await redis.get(queue.keys.limiter)).to.equal(HELD);
    expect(await redis.pttl(queue.keys.limiter)).to.be.greaterThan(10_000);
  });

  it('a 60 s hold (open breaker) is not cut short by a 500 ms one (Postgres blip)', async () => {
    await holdQueue(redis, queue, 60_000);
    const applied = await holdQueue(redis, queue, 500);
    expect(applied).to.be.greaterThan(30_000);
    expect(await redis.pttl(queue.keys.limiter)).to.be.greaterThan(30_000);
  });

  it('a worker with a real rate limit takes nothing while the queue is held, and runs the job when the hold ends', async () => {
    // Arrange: held for 4 s, then a rate-limited worker (100 per second) and one job
    await holdQueue(redis, queue, 4000);
    const processed: string[] = [];
    const workerConnection = openTestRedis();
    const worker = new Worker(
      queue.name,
      async (job) => {
        processed.push(job.id!);
      },
      { connection: workerConnection, prefix, limiter: { max: 100, duration: 1000 } },
    );
    worker.on('error', () => undefined);
    try {
      await worker.waitUntilReady();
      const job = await queue.add('stage', {}, { jobId: 'held-job' });
      // Well inside the hold; a free worker fetches a job in a few ms.
      await new Promise((resolve) => setTimeout(resolve, 1000));

      // Assert: still waiting, never active
      expect(await job.getState()).to.equal('waiting');
      expect(processed).to.deep.equal([]);

      // Act: the hold ends by itself
      const deadline = Date.now() + 30_000;
      while ((await job.getState()) !== 'completed' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

      // Assert: it ran, once
      expect(await job.getState()).to.equal('completed');
      expect(processed).to.deep.equal(['held-job']);
    } finally {
      await worker.close(true);
      workerConnection.disconnect();
    }
  });
});
