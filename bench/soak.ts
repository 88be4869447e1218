// The `soak` phase of `npm run bench` (issue 16, item 6): many stages through 4 worker processes
// in rounds, to show that memory stays flat. A warm-up fills what the retention keeps (completed
// sets at COMPLETED_JOBS_KEEP, events streams at QUEUE_EVENTS_MAX_LEN); then the baseline; then
// the rounds, each followed by a checkpoint once the queues idle: each process's memory right
// after a full GC, and Redis (INFO used_memory, and the bytes and key families under the prefix).
import { Redis } from 'ioredis';
import type pg from 'pg';
import { finishedSetSizes } from '../test/support/redis-keys.js';
import { DIAMOND_QUEUES, platformEnv, readDiamonds, startSubmitter, STAGES_PER_PIPELINE, waitForDiamonds } from './diamond-pipelines.js';
import { sampleUsedMemory, snapshotPrefix, type PrefixSnapshot, type UsedMemorySpan } from './redis-memory.js';
import { startWorkerProcesses, type Memory, type WorkerGroup } from './worker-processes.js';

export interface SoakOptions {
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  observer: pg.Pool;
  /** Stages in the measured rounds, all together (a multiple of 5 × rounds). */
  stages: number;
  rounds: number;
  processes: number;
  concurrency: number;
  poolSize: number;
  /** Warm-up rounds of this many pipelines run until the retention caps are reached (at most maxWarmUpRounds). */
  warmUpPipelines: number;
  maxWarmUpRounds: number;
  /** More platform variables, for the API and every worker process (a test's smaller retention). */
  env?: Record<string, string>;
  log: (line: string) => void;
}

export interface SoakCheckpoint {
  /** Stages run in the measured rounds so far. */
  stages: number;
  /** Each process's memory after a full GC. */
  memory: Memory[];
  /** Each process's highest sampled RSS (no GC) during the round; the baseline's is the warm-up's. */
  peakRss: number[];
  redis: PrefixSnapshot;
}

export interface SoakResult {
  processes: Array<{ label: string; pid: number }>;
  warmUpPipelines: number;
  /** The warm-up did not reach the retention caps within maxWarmUpRounds: the baseline is not a steady state. */
  warmUpShort: boolean;
  pipelines: number;
  stages: number;
  notSucceeded: number;
  reruns: number;
  /** Stage runs per process over the measured rounds, in `processes` order. */
  share: number[];
  seconds: number;
  baseline: SoakCheckpoint;
  rounds: SoakCheckpoint[];
  usedMemory: UsedMemorySpan;
}

/** Runs the soak with its own API runtime and worker processes; stops them before returning. */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const { observer, prefix, log } = options;
  const env = platformEnv({ ...options, extra: options.env });
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 1 });
  const submitter = startSubmitter(env);
  let group: WorkerGroup | undefined;
  try {
    log(`soak: starting the API runtime here and ${options.processes} worker processes…`);
    group = await startWorkerProcesses({ mode: 'platform', count: options.processes, env });
    const workers = group;
    const ctx = { observer, redis, prefix, workers };
    const keep = submitter.config.COMPLETED_JOBS_KEEP;
    const checkpoint = async (stages: number): Promise<SoakCheckpoint> => {
      const peakRss = workers.processes.map((p) => p.peak.rss);
      const memory = await workers.checkpoint();
      const snapshot = await snapshotPrefix(redis, prefix);
      workers.resetPeaks();
      return { stages, memory, peakRss, redis: snapshot };
    };

    let warmUp = 0;
    let warmUpShort = true;
    for (let round = 1; round <= options.maxWarmUpRounds; round++) {
      const ids = await submitter.submitDiamonds(`soak-warmup-${round}`, options.warmUpPipelines);
      await waitForDiamonds(ids, ctx);
      warmUp += ids.length;
      const sizes = await Promise.all(DIAMOND_QUEUES.map((q) => finishedSetSizes(redis, prefix, q)));
      log(
        `soak: warm-up ${warmUp} pipelines; completed jobs kept ${DIAMOND_QUEUES.map((q, i) => `${q} ${sizes[i]!.completed}`).join(', ')} (cap ${keep})`,
      );
      if (sizes.every((s) => s.completed >= keep)) {
        warmUpShort = false;
        break;
      }
    }
    const baseline = await checkpoint(0);
    const perRound = Math.round(options.stages / STAGES_PER_PIPELINE / options.rounds);
    const usedMemory = await sampleUsedMemory(redis, 1000);
    const rounds: SoakCheckpoint[] = [];
    const ids: string[] = [];
    const startedAt = Date.now();
    for (let round = 1; round <= options.rounds; round++) {
      const batch = await submitter.submitDiamonds(`soak-${round}`, perRound);
      await waitForDiamonds(batch, ctx);
      ids.push(...batch);
      rounds.push(await checkpoint(ids.length * STAGES_PER_PIPELINE));
      const rss = rounds
        .at(-1)!
        .memory.map((m) => mib(m.rss))
        .join(' ');
      log(`soak: round ${round}/${options.rounds}: ${fmt(ids.length * STAGES_PER_PIPELINE)} stages; RSS after GC per process ${rss} MiB`);
    }
    const outcome = await readDiamonds(observer, ids);
    return {
      processes: workers.processes.map((p) => ({ label: p.label, pid: p.pid })),
      warmUpPipelines: warmUp,
      warmUpShort,
      pipelines: outcome.pipelines,
      stages: outcome.stages,
      notSucceeded: outcome.notSucceeded,
      reruns: outcome.runs - outcome.stages,
      share: workers.processes.map((p) => outcome.runsByPid.get(p.pid) ?? 0),
      seconds: (outcome.lastFinishedAt - startedAt) / 1000,
      baseline,
      rounds,
      usedMemory: await usedMemory.stop(),
    };
  } finally {
    await group?.stop();
    await submitter.close();
    redis.disconnect();
  }
}

/** RSS growth allowed per process between the end of the warm-up and the end of the soak. */
export const RSS_GROWTH_LIMIT = 0.1;

/** How far Redis may end from its baseline: used_memory within max(1 MiB, 5%), the prefix's bytes within 5%. */
export const REDIS_TOLERANCE = { usedMemoryBytes: 1024 * 1024, share: 0.05 };

export interface SoakVerdicts {
  /** (RSS after GC at the end − after the warm-up) / after the warm-up, per process. */
  rssGrowth: number[];
  rssPass: boolean;
  usedMemoryDelta: number;
  usedMemoryTolerance: number;
  usedMemoryPass: boolean;
  prefixBytesDelta: number;
  prefixBytesTolerance: number;
  prefixBytesPass: boolean;
}

export function soakVerdicts(result: SoakResult): SoakVerdicts {
  const end = result.rounds.at(-1) ?? result.baseline;
  const rssGrowth = result.baseline.memory.map((m, i) => (end.memory[i]!.rss - m.rss) / m.rss);
  const usedMemoryDelta = end.redis.usedMemory - result.baseline.redis.usedMemory;
  const usedMemoryTolerance = Math.max(REDIS_TOLERANCE.usedMemoryBytes, REDIS_TOLERANCE.share * result.baseline.redis.usedMemory);
  const prefixBytesDelta = end.redis.bytes - result.baseline.redis.bytes;
  const prefixBytesTolerance = REDIS_TOLERANCE.share * result.baseline.redis.bytes;
  return {
    rssGrowth,
    rssPass: rssGrowth.every((g) => g < RSS_GROWTH_LIMIT),
    usedMemoryDelta,
    usedMemoryTolerance,
    usedMemoryPass: Math.abs(usedMemoryDelta) <= usedMemoryTolerance,
    prefixBytesDelta,
    prefixBytesTolerance,
    prefixBytesPass: Math.abs(prefixBytesDelta) <= prefixBytesTolerance,
  };
}

export const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(0);
const fmt = (n: number) => n.toLocaleString('en-US');
