// The `load` phase of `npm run bench` (issue 16, item 7): the same number of jobs through 4 worker
// processes, first as bare BullMQ (chains of 5 no-op jobs, each adding the next), then as the
// platform (5-stage `noop` diamonds submitted by the API runtime in the bench process). Measured
// for each: throughput from the first submission to the last finish, hop percentiles, each
// worker process's peak RSS, the CPU per unit and Redis used_memory before, at peak and after.
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { DIAMOND_SHAPE, platformEnv, readDiamonds, startSubmitter, STAGES_PER_PIPELINE, waitForDiamonds } from './diamond-pipelines.js';
import { sampleUsedMemory, type UsedMemorySpan } from './redis-memory.js';
import { percentiles, startRssSampler, waitFor, type Percentiles, type PhaseUsage } from './stats.js';
import { BARE_CHAIN_LENGTH, BARE_QUEUE, wallClockMs, type BareJob } from './worker-messages.js';
import { startWorkerProcesses, type WorkerGroup } from './worker-processes.js';

export interface LoadOptions {
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  observer: pg.Pool;
  /** Pipelines (platform) and chains (bare), each of 5 stages or jobs. */
  pipelines: number;
  /** At most this many pipelines (chains) unfinished at once; 0: submit them all at once. */
  inFlight: number;
  processes: number;
  concurrency: number;
  poolSize: number;
  log: (line: string) => void;
}

export interface LoadRun {
  label: string;
  /** Jobs or stages run in the measured part. */
  units: number;
  seconds: number;
  perSecond: number;
  hops: Percentiles;
  /** Peak RSS of each worker process during the measured part. */
  peakRss: number[];
  /** Jobs or stage runs each worker process did. */
  share: number[];
  /** CPU of the worker processes during the measured part (ms). */
  workersCpuMs: number;
  /** The bench process (submitter; for the platform also the API runtime): RSS, CPU, machine and servers. */
  bench: PhaseUsage;
  redis: UsedMemorySpan;
  /** Platform only: pipelines that did not succeed, and stage runs beyond one per stage. */
  notSucceeded?: number;
  reruns?: number;
  submitSeconds?: number;
}

export interface LoadResult {
  /** The submission window (0: everything at once). */
  inFlight: number;
  bare: LoadRun;
  platform: LoadRun;
}

const WARM_UP_PIPELINES = 100;

/** Runs both halves, bare first; each starts and stops its own worker processes. */
export async function measureLoad(options: LoadOptions, between: () => Promise<void>): Promise<LoadResult> {
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const bare = await measureBare(options, redis);
    await between();
    const platform = await measurePlatform(options, redis);
    return { inFlight: options.inFlight, bare, platform };
  } finally {
    redis.disconnect();
  }
}

async function measureBare(options: LoadOptions, redis: Redis): Promise<LoadRun> {
  const { processes, pipelines, log } = options;
  log(`load: bare BullMQ, starting ${processes} worker processes…`);
  const group = await startWorkerProcesses({
    mode: 'bare',
    count: processes,
    env: { REDIS_URL: options.redisUrl, QUEUE_PREFIX: options.prefix, WORKER_CONCURRENCY: String(options.concurrency) },
  });
  const connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue<BareJob>(BARE_QUEUE, { connection, prefix: options.prefix });
  const opts = { removeOnComplete: { count: 1000 }, removeOnFail: false };
  const addChains = async (from: number, count: number) => {
    for (let start = 0; start < count; start += 1000) {
      const size = Math.min(1000, count - start);
      await queue.addBulk(Array.from({ length: size }, (_, k) => ({ name: 'job', data: { chain: from + start + k, step: 1 }, opts })));
    }
  };
  const waitForJobs = (total: number) =>
    waitFor(
      async () => {
        group.assertHealthy();
        return { done: group.done() >= total, progress: group.done() };
      },
      { everyMs: 50, stallMs: 60_000, describe: async () => `bare jobs done ${group.done()}/${total}` },
    );
  try {
    // Warm-up: JIT, connections, Lua scripts loaded in every process.
    await addChains(0, WARM_UP_PIPELINES);
    await waitForJobs(WARM_UP_PIPELINES * BARE_CHAIN_LENGTH);
    await group.hops();
    const doneBefore = group.done();
    const cpuBefore = group.cpuMs();
    const shareBefore = group.processes.map((p) => p.latest.done);
    log(
      `load: bare BullMQ, ${fmt(pipelines)} chains × ${BARE_CHAIN_LENGTH} no-op jobs = ${fmt(pipelines * BARE_CHAIN_LENGTH)} jobs, ${window(options.inFlight)}…`,
    );
    group.resetPeaks();
    const redisSampler = await sampleUsedMemory(redis);
    const sampler = startRssSampler();
    const started = wallClockMs();
    await submitPaced(
      pipelines,
      options.inFlight,
      () => group.done() - doneBefore,
      group,
      (from, count) => addChains(WARM_UP_PIPELINES + from, count),
    );
    const units = pipelines * BARE_CHAIN_LENGTH;
    await waitForJobs(doneBefore + units);
    const bench = sampler.stop();
    const seconds = (group.lastDoneAt() - started) / 1000;
    const hops = percentiles(await group.hops());
    return {
      label: 'bare BullMQ, chains of 5 no-op jobs',
      units,
      seconds,
      perSecond: units / seconds,
      hops,
      peakRss: group.processes.map((p) => p.peak.rss),
      share: group.processes.map((p, i) => p.latest.done - shareBefore[i]!),
      workersCpuMs: group.cpuMs() - cpuBefore,
      bench,
      redis: await redisSampler.stop(),
    };
  } finally {
    await group.stop();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    connection.disconnect();
  }
}

async function measurePlatform(options: LoadOptions, redis: Redis): Promise<LoadRun> {
  const { processes, pipelines, log, observer, prefix } = options;
  const env = platformEnv(options);
  log(`load: platform, starting the API runtime here and ${processes} worker processes…`);
  const submitter = startSubmitter(env);
  let group: WorkerGroup | undefined;
  try {
    group = await startWorkerProcesses({ mode: 'platform', count: processes, env });
    const workers = group;
    const ctx = { observer, redis, prefix, workers };
    const warm = await submitter.submitDiamonds('load-warmup', WARM_UP_PIPELINES);
    await waitForDiamonds(warm, ctx);
    const cpuBefore = group.cpuMs();
    const doneBefore = group.done();
    log(
      `load: platform, ${fmt(pipelines)} pipelines × ${STAGES_PER_PIPELINE} noop stages (${DIAMOND_SHAPE}), ${window(options.inFlight)}…`,
    );
    group.resetPeaks();
    const redisSampler = await sampleUsedMemory(redis);
    const sampler = startRssSampler();
    const startedAt = Date.now();
    const ids: string[] = [];
    await submitPaced(
      pipelines,
      options.inFlight,
      () => workers.done() - doneBefore,
      workers,
      async (from, count) => {
        ids.push(...(await submitter.submitDiamonds(`load-${from}`, count)));
      },
    );
    const submitSeconds = (Date.now() - startedAt) / 1000;
    await waitForDiamonds(ids, ctx);
    const bench = sampler.stop();
    const workersCpuMs = group.cpuMs() - cpuBefore;
    const outcome = await readDiamonds(observer, ids);
    const seconds = (outcome.lastFinishedAt - startedAt) / 1000;
    return {
      label: 'platform, 5-stage diamonds',
      units: outcome.stages,
      seconds,
      perSecond: outcome.stages / seconds,
      hops: outcome.hops,
      peakRss: group.processes.map((p) => p.peak.rss),
      share: group.processes.map((p) => outcome.runsByPid.get(p.pid) ?? 0),
      workersCpuMs,
      bench,
      redis: await redisSampler.stop(),
      notSucceeded: outcome.notSucceeded,
      reruns: outcome.runs - outcome.stages,
      submitSeconds,
    };
  } finally {
    await group?.stop();
    await submitter.close();
  }
}

/**
 * Submits `total` pipelines (or chains) of 5, keeping at most `inFlight` unfinished: a batch goes
 * whenever the stages not yet done (submitted × 5 − done) leave room for one. The same window on
 * both sides keeps the queues short, so a hop measures the hop under load rather than the wait
 * behind a backlog of thousands of jobs (hop ≈ backlog ÷ throughput). `inFlight` 0 submits
 * everything at once.
 */
async function submitPaced(
  total: number,
  inFlight: number,
  done: () => number,
  workers: WorkerGroup,
  submit: (from: number, count: number) => Promise<void>,
): Promise<void> {
  let submitted = 0;
  while (submitted < total) {
    const unfinished = Math.ceil((submitted * STAGES_PER_PIPELINE - done()) / STAGES_PER_PIPELINE);
    const room = inFlight === 0 ? total - submitted : Math.min(total - submitted, inFlight - unfinished);
    if (room > 0) {
      await submit(submitted, room);
      submitted += room;
    } else {
      workers.assertHealthy();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

const fmt = (n: number) => n.toLocaleString('en-US');
export const window = (inFlight: number) => (inFlight === 0 ? 'all submitted at once' : `at most ${fmt(inFlight)} unfinished at once`);
