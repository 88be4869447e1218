// The two baselines the platform is compared with, on the same Redis and Postgres:
//   1. bare BullMQ: no-op jobs (throughput), and a chain where each job adds the next (hop latency);
//   2. a hand-rolled durable queue: the same jobs, each doing one INSERT and one UPDATE through
//      a pg Pool — what a user would write instead of the platform.
import { randomUUID } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { percentiles, startRssSampler, type Percentiles, type PhaseUsage } from './stats.js';

export interface BaselineContext {
  redisUrl: string;
  prefix: string;
  concurrency: number;
  /** Completed jobs kept per queue (the platform keeps COMPLETED_JOBS_KEEP = 1000). */
  keepCompleted: number;
}

export interface ThroughputResult {
  jobs: number;
  failed: number;
  seconds: number;
  perSecond: number;
  usage: PhaseUsage;
}

export interface HopResult {
  hops: Percentiles;
  seconds: number;
  usage: PhaseUsage;
}

interface JobData {
  i: number;
}

type Work = (job: Job<JobData>) => Promise<void>;

const ADD_CHUNK = 1000;

function connect(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, connectionName: 'agentic-sdlc:bench' });
}

/** A queue and a worker on their own connections; `close()` also obliterates the queue's keys. */
async function openQueue(ctx: BaselineContext, name: string, processor: (job: Job<JobData>) => Promise<void>) {
  const producer = connect(ctx.redisUrl);
  const consumer = connect(ctx.redisUrl);
  const queue = new Queue<JobData>(name, { connection: producer, prefix: ctx.prefix });
  const worker = new Worker<JobData>(name, processor, {
    connection: consumer,
    prefix: ctx.prefix,
    concurrency: ctx.concurrency,
    autorun: false,
  });
  worker.on('error', (error) => console.error(`bench worker ${name} error: ${error.message}`));
  void worker.run();
  await worker.waitUntilReady();
  await queue.waitUntilReady();
  return {
    queue,
    worker,
    async close() {
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
      producer.disconnect();
      consumer.disconnect();
    },
  };
}

function countdown(worker: Worker<JobData>, expected: number, timeoutMs: number) {
  let completed = 0;
  let failed = 0;
  let finish: ((at: number) => void) | undefined;
  let fail: ((error: Error) => void) | undefined;
  const done = new Promise<number>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const tick = () => {
    if (completed + failed === expected) finish?.(performance.now());
  };
  worker.on('completed', () => {
    completed++;
    tick();
  });
  worker.on('failed', () => {
    failed++;
    tick();
  });
  const timer = setTimeout(
    () => fail?.(new Error(`timed out after ${timeoutMs / 1000} s with ${completed + failed}/${expected} jobs done`)),
    timeoutMs,
  );
  timer.unref();
  return {
    done: done.finally(() => clearTimeout(timer)),
    failed: () => failed,
  };
}

/** `jobs` independent jobs added with addBulk; jobs/s from the first add to the last completion. */
export async function measureThroughput(ctx: BaselineContext, name: string, jobs: number, work: Work): Promise<ThroughputResult> {
  const handle = await openQueue(ctx, name, work);
  try {
    const opts = { removeOnComplete: { count: ctx.keepCompleted }, removeOnFail: false };
    // Warm-up: JIT, connections, Lua scripts loaded.
    const warm = Math.min(500, jobs);
    const warmDone = countdown(handle.worker, warm, 60_000);
    await handle.queue.addBulk(Array.from({ length: warm }, (_, i) => ({ name: 'warmup', data: { i }, opts })));
    await warmDone.done;
    handle.worker.removeAllListeners('completed');
    handle.worker.removeAllListeners('failed');

    const sampler = startRssSampler();
    const counter = countdown(handle.worker, jobs, 300_000);
    const started = performance.now();
    for (let from = 0; from < jobs; from += ADD_CHUNK) {
      const size = Math.min(ADD_CHUNK, jobs - from);
      await handle.queue.addBulk(Array.from({ length: size }, (_, k) => ({ name: 'job', data: { i: from + k }, opts })));
    }
    const finished = await counter.done;
    const usage = sampler.stop();
    const seconds = (finished - started) / 1000;
    return { jobs, failed: counter.failed(), seconds, perSecond: jobs / seconds, usage };
  } finally {
    await handle.close();
  }
}

/**
 * `chains` chains of `length` jobs each, run at once (as the platform's chain phase runs its
 * pipelines), each job adding the next of its chain when its work is done. Hop = job N+1's
 * processor entry − job N's end of work (just before it adds N+1), from performance.now(): the
 * cut points of the platform's in-process hop (after the statement that records N, before the
 * one that starts N+1).
 */
export async function measureChain(ctx: BaselineContext, name: string, chains: number, length: number, work: Work): Promise<HopResult> {
  const starts = new Float64Array(chains * length);
  const ends = new Float64Array(chains * length);
  const opts = { removeOnComplete: { count: ctx.keepCompleted }, removeOnFail: false };
  const ref: { queue?: Queue<JobData> } = {};
  // Job `i` of the whole run is step i % length of chain ⌊i / length⌋.
  const handle = await openQueue(ctx, name, async (job) => {
    const { i } = job.data;
    if (job.name === 'job') starts[i] = performance.now();
    await work(job);
    if (job.name !== 'job') return;
    ends[i] = performance.now();
    if ((i + 1) % length !== 0) await ref.queue!.add('job', { i: i + 1 }, opts);
  });
  ref.queue = handle.queue;
  try {
    const warm = countdown(handle.worker, 200, 60_000);
    await handle.queue.addBulk(Array.from({ length: 200 }, (_, i) => ({ name: 'warmup', data: { i }, opts })));
    await warm.done;
    handle.worker.removeAllListeners('completed');
    handle.worker.removeAllListeners('failed');

    const sampler = startRssSampler();
    const counter = countdown(handle.worker, chains * length, 300_000);
    const started = performance.now();
    await handle.queue.addBulk(Array.from({ length: chains }, (_, c) => ({ name: 'job', data: { i: c * length }, opts })));
    const finished = await counter.done;
    const usage = sampler.stop();
    const hops: number[] = [];
    for (let c = 0; c < chains; c++) {
      for (let i = c * length; i + 1 < (c + 1) * length; i++) hops.push(starts[i + 1]! - ends[i]!);
    }
    return { hops: percentiles(hops), seconds: (finished - started) / 1000, usage };
  } finally {
    await handle.close();
  }
}

export const noWork: Work = async () => {};

/** The hand-rolled durable queue's table, in the bench's private schema. */
export async function createHandRolledTable(pool: pg.Pool): Promise<void> {
  await pool.query(`
    CREATE TABLE IF NOT EXISTS handrolled_jobs (
      id          uuid PRIMARY KEY,
      job_id      text NOT NULL,
      status      text NOT NULL,
      output      jsonb,
      started_at  timestamptz(3) NOT NULL DEFAULT now(),
      finished_at timestamptz(3)
    )`);
}

/** What a user writes without the platform: record the start, do the work, record the end. */
export function handRolledWork(pool: pg.Pool): Work {
  return async (job) => {
    const id = randomUUID();
    await pool.query(`INSERT INTO handrolled_jobs (id, job_id, status, started_at) VALUES ($1, $2, 'running', now())`, [id, job.id ?? '']);
    await pool.query(`UPDATE handrolled_jobs SET status = 'succeeded', output = $2::jsonb, finished_at = now() WHERE id = $1`, [
      id,
      JSON.stringify(job.data),
    ]);
  };
}
