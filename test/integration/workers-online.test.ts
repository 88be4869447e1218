// The workers online per queue (the source of /health/ready's and /health/detailed's `workers`)
// against the real Redis and BullMQ: 0 with nobody consuming, 1 once a Worker runs, 0 again after
// it closed; a read that accepts an older count answers with the last one while it is that young,
// and a fresh read replaces it; failFast refusing (Redis down, for the API) fails the read.
import { expect } from 'chai';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createWorkersOnline } from '../../src/infra/queue/workers-online.js';
import { deleteKeys, testPrefix } from '../support/harness.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const MINUTE = 60_000;

describe('workers online (integration, real Redis)', () => {
  const prefix = testPrefix();
  let redis: Redis;
  let queues: Queue[];

  before(() => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    queues = ['agent.alpha', 'agent.beta'].map((name) => new Queue(name, { connection: redis, prefix }));
  });
  after(async () => {
    await Promise.all(queues.map((queue) => queue.close()));
    await deleteKeys(REDIS_URL, prefix);
    redis.disconnect();
  });

  it('counts per name; an older count is reused only while young enough, a fresh read sees the worker come and go', async () => {
    const online = createWorkersOnline({
      queues: [
        ['alpha', queues[0]!],
        ['beta', queues[1]!],
      ],
    });
    expect(await online.read()).to.deep.equal({ alpha: 0, beta: 0 });

    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const worker = new Worker('agent.alpha', async () => undefined, { connection, prefix });
    worker.on('error', () => undefined);
    try {
      await worker.waitUntilReady();
      // The count read a moment ago is younger than a minute: reused, the worker not seen yet.
      expect(await online.read(MINUTE)).to.deep.equal({ alpha: 0, beta: 0 });
      expect(await online.read()).to.deep.equal({ alpha: 1, beta: 0 });
      expect(await online.read(MINUTE)).to.deep.equal({ alpha: 1, beta: 0 });
    } finally {
      await worker.close();
      connection.disconnect();
    }
    expect(await online.read()).to.deep.equal({ alpha: 0, beta: 0 });
  });

  it('failFast refusing fails the read (the API passes its Redis readiness check)', async () => {
    const online = createWorkersOnline({
      queues: [['alpha', queues[0]!]],
      failFast: () => {
        throw new Error('Redis is not ready');
      },
    });
    let failure: Error | undefined;
    await online.read().catch((error: Error) => (failure = error));
    expect(failure?.message).to.equal('Redis is not ready');
  });
});
