// The platform, started in-process the way test/support/harness.ts does it (API runtime for the
// pipeline service, one worker runtime with the conductor), and the two platform measurements:
// many independent `noop` stages (throughput) and chains of `noop` stages (hop latency).
import { createFeatureFlagsFromConfig } from '../src/composition/feature-flags.js';
import { loadDecisionPolicy } from '../src/infra/policy/policy-file.js';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createAgentCatalog } from '../src/agents/catalog.js';
import { builtInAgents } from '../src/composition/configured-agents.js';
import { createApiRuntime, type ApiRuntime } from '../src/composition/api-runtime.js';
import { parseConfig } from '../src/config.js';
import { createDatabase } from '../src/infra/db/database.js';
import { agentQueueName, CONTROL_QUEUE } from '../src/infra/queue/queue-names.js';
import { createLogger } from '../src/infra/telemetry/logger.js';
import { startTracingFromConfig } from '../src/infra/telemetry/tracing.js';
import { createWorkerRuntime, type WorkerRuntime } from '../src/composition/worker-runtime.js';
import {
  countStatements,
  percentiles,
  startRssSampler,
  waitFor,
  type Percentiles,
  type PhaseUsage,
  type StatementKind,
  type StatementRecord,
} from './stats.js';

export interface PlatformOptions {
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  concurrency: number;
  poolSize: number;
  /** The bench's own connection, for polling and reading results. */
  observer: pg.Pool;
}

export interface PlatformRun {
  stages: number;
  pipelines: number;
  failedPipelines: number;
  /** First submit() call → last pipelines.finished_at. */
  seconds: number;
  perSecond: number;
  /** Stages / (last stage finished − first stage started): the workers' rate without submission. */
  processingPerSecond: number;
  submitSeconds: number;
  /** Control-queue jobs the conductor ran, per stage (coalescing makes it < 1). */
  advancesPerStage: number;
  /** Worker-side Postgres statements per stage, by kind. */
  statementsPerStage: Array<[StatementKind, number]>;
  /** Requests waiting for a client of the worker's pg pool, sampled every 50 ms. */
  poolWaiting: { mean: number; max: number };
  usage: PhaseUsage;
}

export interface ChainRun extends PlatformRun {
  /** stages.started_at(N+1) − stages.finished_at(N). */
  hops: Percentiles;
  /** The same from stage_runs (attempt 1 of each stage). */
  runHops: Percentiles;
  /** stages.finished_at(N) → stages.queued_at(N+1): 0 when N's finish statement queued N+1. */
  toQueued: Percentiles;
  /** stages.queued_at(N+1) → stages.started_at(N+1): dispatch, pickup and claim. */
  queuedToStarted: Percentiles;
  /** The same hops timed in-process from the worker's Postgres statements (sub-ms). */
  trace: HopTrace;
}

/** A hop cut at the worker's Postgres statements, timed with performance.now(). */
export interface HopTrace {
  /** End of stage N's finish statement → start of stage N+1's claim statement. */
  total: Percentiles;
  /** Finish(N) end → the conductor's first statement for the pipeline: requestAdvance + control pickup. */
  toConductor: Percentiles;
  /** The conductor's statements for this advance (read the stages, apply the plan). */
  conductorSql: Percentiles;
  /** Conductor's last statement end → claim(N+1) start: plan, addBulk, agent pickup, job parse. */
  toClaim: Percentiles;
  /** Duration of the claim and finish statements themselves. */
  claimSql: Percentiles;
  finishSql: Percentiles;
}

export interface Platform {
  api: ApiRuntime;
  worker: WorkerRuntime;
  runIndependent(pipelines: number, stagesPer: number): Promise<PlatformRun>;
  runChains(chains: number, length: number): Promise<ChainRun>;
  close(): Promise<void>;
}

const TERMINAL = ['succeeded', 'failed', 'cancelled'];

export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const { observer } = options;
  const config = parseConfig({
    NODE_ENV: 'production',
    LOG_LEVEL: 'error',
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: options.redisUrl,
    QUEUE_PREFIX: options.prefix,
    WORKER_CONCURRENCY: String(options.concurrency),
    DATABASE_POOL_SIZE: String(options.poolSize),
    // The bench's pipelines have 500 stages: the definition's ceiling, above the default cap.
    MAX_STAGES_PER_PIPELINE: '500',
    // Tracing as deployed by default (ids carried, nothing recorded or exported); OTEL_SDK_DISABLED=true measures without.
    OTEL_SDK_DISABLED: process.env.OTEL_SDK_DISABLED,
  });
  const tracing = startTracingFromConfig(config, 'agentic-sdlc-bench');
  const logger = createLogger({ level: config.LOG_LEVEL, service: 'bench', silent: true });
  // The templates (loaded by the API runtime) name the configured agents too.
  const catalog = createAgentCatalog(builtInAgents(config));
  const noop = catalog.get('noop');
  if (!noop) throw new Error('the built-in catalog has no noop agent');

  // API and worker get their own pools, as separate processes would. The worker's statements
  // are counted on its pg Pool (Prisma's driver adapter and the hand-written SQL share it).
  const apiDb = createDatabase(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
  const workerDb = createDatabase(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
  const statements = countStatements(workerDb.pool);
  countStatements(apiDb.pool);

  const policy = loadDecisionPolicy(config.DECISION_POLICY_FILE);
  const api = createApiRuntime({ config, logger, flags: createFeatureFlagsFromConfig(config, logger), agents: catalog, db: apiDb, policy });
  const worker = createWorkerRuntime({
    flags: createFeatureFlagsFromConfig(config, logger),
    config,
    logger,
    db: workerDb,
    policy,
    catalog,
    serve: [noop],
    concurrency: config.WORKER_CONCURRENCY,
  });
  await worker.start();

  let stagesDone = 0;
  let advances = 0;
  for (const w of worker.workers) {
    if (w.name === CONTROL_QUEUE) {
      w.on('completed', () => advances++);
    } else {
      w.on('completed', () => stagesDone++);
      w.on('failed', () => stagesDone++);
    }
  }

  async function waitForPipelines(ids: string[], expectedStages: number, stagesBefore: number): Promise<void> {
    await waitFor(
      async () => {
        const { rows } = await observer.query<{ finished: string }>(
          `SELECT count(*) AS finished FROM pipelines WHERE id = ANY($1::uuid[]) AND status::text = ANY($2::text[])`,
          [ids, TERMINAL],
        );
        return { done: Number(rows[0]!.finished) === ids.length, progress: stagesDone - stagesBefore + Number(rows[0]!.finished) };
      },
      {
        everyMs: 100,
        stallMs: 30_000,
        describe: async () => {
          const stages = await observer.query<{ status: string; n: string }>(
            `SELECT status::text, count(*) AS n FROM stages WHERE pipeline_id = ANY($1::uuid[]) GROUP BY 1 ORDER BY 1`,
            [ids],
          );
          const pipelines = await observer.query<{ status: string; n: string }>(
            `SELECT status::text, count(*) AS n FROM pipelines WHERE id = ANY($1::uuid[]) GROUP BY 1 ORDER BY 1`,
            [ids],
          );
          const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
          const queues = await Promise.all(
            [CONTROL_QUEUE, agentQueueName('noop')].map(async (name) => {
              const queue = new Queue(name, { connection: redis, prefix: options.prefix });
              try {
                const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
                return `${name}: ${JSON.stringify(counts)}`;
              } finally {
                await queue.close();
              }
            }),
          ).finally(() => redis.disconnect());
          const fmt = (rows: Array<{ status: string; n: string }>) => rows.map((r) => `${r.status}=${r.n}`).join(' ');
          return `Expected ${expectedStages} stages. Stages: ${fmt(stages.rows)}. Pipelines: ${fmt(pipelines.rows)}. Worker-side stage jobs done: ${
            stagesDone - stagesBefore
          }; conductor advances: ${advances}. Queues: ${queues.join('; ')}.`;
        },
      },
    );
  }

  /** Samples how many queries wait for a pooled client (pool size = DATABASE_POOL_SIZE). */
  function samplePoolWaiting(): () => { mean: number; max: number } {
    let sum = 0;
    let n = 0;
    let max = 0;
    const timer = setInterval(() => {
      const waiting = workerDb.pool.waitingCount;
      sum += waiting;
      n++;
      max = Math.max(max, waiting);
    }, 50);
    timer.unref();
    return () => {
      clearInterval(timer);
      return { mean: n > 0 ? sum / n : 0, max };
    };
  }

  async function summarize(ids: string[], stages: number, startedAtMs: number, submitSeconds: number, advancesBefore: number) {
    const { rows } = await observer.query<{ last: Date; failed: string }>(
      `SELECT max(finished_at) AS last, count(*) FILTER (WHERE status <> 'succeeded') AS failed FROM pipelines WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    const span = await observer.query<{ first_started: Date; last_finished: Date }>(
      `SELECT min(started_at) AS first_started, max(finished_at) AS last_finished FROM stages WHERE pipeline_id = ANY($1::uuid[])`,
      [ids],
    );
    const processingSeconds = (span.rows[0]!.last_finished.getTime() - span.rows[0]!.first_started.getTime()) / 1000;
    const seconds = (rows[0]!.last.getTime() - startedAtMs) / 1000;
    const counts = statements.snapshot();
    const statementsPerStage = [...counts].sort((a, b) => b[1] - a[1]).map(([kind, n]) => [kind, n / stages] as [StatementKind, number]);
    return {
      stages,
      pipelines: ids.length,
      failedPipelines: Number(rows[0]!.failed),
      seconds,
      perSecond: stages / seconds,
      processingPerSecond: stages / processingSeconds,
      submitSeconds,
      advancesPerStage: (advances - advancesBefore) / stages,
      statementsPerStage,
    };
  }

  // The bench submits in-process, as one service account (no HTTP, so no key is checked).
  const actor = { identity: { id: 'bench', name: 'bench', kind: 'service' as const, via: 'cli' as const, roles: ['submitter'] } };
  async function submitAll(definitions: unknown[], parallel: boolean): Promise<string[]> {
    if (parallel) {
      const results = await Promise.all(definitions.map((d) => api.pipelines.submit(d, { actor })));
      return results.map((r) => r.pipeline.id);
    }
    const ids: string[] = [];
    for (const d of definitions) ids.push((await api.pipelines.submit(d, { actor })).pipeline.id);
    return ids;
  }

  const independent = (name: string, n: number) => ({
    name,
    stages: Array.from({ length: n }, (_, i) => ({ key: `s${i}`, agent: 'noop' })),
  });
  const chain = (name: string, n: number) => ({
    name,
    stages: Array.from({ length: n }, (_, i) => ({ key: `s${i}`, agent: 'noop', dependsOn: i === 0 ? [] : [`s${i - 1}`] })),
  });

  async function warmUp(): Promise<void> {
    const ids = await submitAll([independent('bench-warmup', 200), chain('bench-warmup-chain', 20)], true);
    await waitForPipelines(ids, 220, stagesDone);
  }
  await warmUp();

  return {
    api,
    worker,

    async runIndependent(pipelines, stagesPer) {
      const definitions = Array.from({ length: pipelines }, (_, p) => independent(`bench-independent-${p}`, stagesPer));
      const stagesBefore = stagesDone;
      const advancesBefore = advances;
      statements.reset();
      const sampler = startRssSampler();
      const poolSampler = samplePoolWaiting();
      const startedAtMs = Date.now();
      const t0 = performance.now();
      // One client submitting one pipeline after another; the workers start on the first at once.
      const ids = await submitAll(definitions, false);
      const submitSeconds = (performance.now() - t0) / 1000;
      await waitForPipelines(ids, pipelines * stagesPer, stagesBefore);
      const usage = sampler.stop();
      const poolWaiting = poolSampler();
      const summary = await summarize(ids, pipelines * stagesPer, startedAtMs, submitSeconds, advancesBefore);
      return { ...summary, usage, poolWaiting };
    },

    async runChains(chains, length) {
      const definitions = Array.from({ length: chains }, (_, p) => chain(`bench-chain-${p}`, length));
      const stagesBefore = stagesDone;
      const advancesBefore = advances;
      statements.reset();
      statements.trace(true);
      const sampler = startRssSampler();
      const poolSampler = samplePoolWaiting();
      const startedAtMs = Date.now();
      const t0 = performance.now();
      // The chains run concurrently: all are submitted at once.
      const ids = await submitAll(definitions, true);
      const submitSeconds = (performance.now() - t0) / 1000;
      await waitForPipelines(ids, chains * length, stagesBefore);
      const usage = sampler.stop();
      const poolWaiting = poolSampler();
      statements.trace(false);
      const summary = await summarize(ids, chains * length, startedAtMs, submitSeconds, advancesBefore);

      const { rows } = await observer.query<{
        pipeline_id: string;
        prev_id: string;
        next_id: string;
        hop: string | null;
        run_hop: string | null;
        to_queued: string | null;
        queued_to_started: string | null;
      }>(
        `SELECT n.pipeline_id, p.id AS prev_id, n.id AS next_id,
                EXTRACT(EPOCH FROM (n.started_at - p.finished_at)) * 1000 AS hop,
                EXTRACT(EPOCH FROM (rn.started_at - rp.finished_at)) * 1000 AS run_hop,
                EXTRACT(EPOCH FROM (n.queued_at - p.finished_at)) * 1000 AS to_queued,
                EXTRACT(EPOCH FROM (n.started_at - n.queued_at)) * 1000 AS queued_to_started
         FROM stages n
         JOIN stages p ON p.pipeline_id = n.pipeline_id AND p.position = n.position - 1
         LEFT JOIN stage_runs rn ON rn.stage_id = n.id AND rn.attempt = 1
         LEFT JOIN stage_runs rp ON rp.stage_id = p.id AND rp.attempt = 1
         WHERE n.pipeline_id = ANY($1::uuid[])`,
        [ids],
      );
      // EXTRACT returns numeric, which pg hands over as a string.
      const col = (pick: (r: (typeof rows)[number]) => string | null) =>
        percentiles(
          rows
            .map(pick)
            .filter((v): v is string => v !== null)
            .map(Number),
        );
      return {
        ...summary,
        usage,
        poolWaiting,
        hops: col((r) => r.hop),
        runHops: col((r) => r.run_hop),
        toQueued: col((r) => r.to_queued),
        queuedToStarted: col((r) => r.queued_to_started),
        trace: traceHops(statements.records(), rows),
      };
    },

    async close() {
      const steps: Array<[string, () => Promise<unknown>]> = [
        ['worker runtime', () => worker.close()],
        ['api runtime', () => api.close()],
        ['api database', () => apiDb.close()],
        ['worker database', () => workerDb.close()],
        ['tracing', () => tracing.shutdown()],
      ];
      for (const [name, step] of steps) {
        try {
          await withTimeout(step(), 15_000, name);
        } catch (error) {
          console.error(`bench: closing the ${name} failed: ${(error as Error).message}`);
        }
      }
    },
  };
}

/** Cuts each hop at the worker's statements: finish(N) → [conductor, when one ran] → claim(N+1). */
function traceHops(
  records: readonly StatementRecord[],
  hops: ReadonlyArray<{ pipeline_id: string; prev_id: string; next_id: string }>,
): HopTrace {
  const byParam = new Map<string, StatementRecord[]>();
  for (const record of records) {
    if (!Number.isFinite(record.end)) continue;
    for (const param of new Set(record.params)) {
      const list = byParam.get(param);
      if (list) list.push(record);
      else byParam.set(param, [record]);
    }
  }
  const total: number[] = [];
  const toConductor: number[] = [];
  const conductorSql: number[] = [];
  const toClaim: number[] = [];
  const claimSql: number[] = [];
  const finishSql: number[] = [];
  for (const hop of hops) {
    const prev = byParam.get(hop.prev_id) ?? [];
    const next = byParam.get(hop.next_id) ?? [];
    const finish = prev.filter((r) => r.kind === 'finish run').at(-1);
    const claim = next.find((r) => r.kind === 'claim');
    if (!finish || !claim) continue;
    // The conductor's statements carry the pipeline id; stage statements do not.
    const conductor = (byParam.get(hop.pipeline_id) ?? []).filter((r) => r.start >= finish.end && r.end <= claim.start);
    total.push(claim.start - finish.end);
    claimSql.push(claim.end - claim.start);
    finishSql.push(finish.end - finish.start);
    if (conductor.length === 0) continue;
    const first = Math.min(...conductor.map((r) => r.start));
    const last = Math.max(...conductor.map((r) => r.end));
    toConductor.push(first - finish.end);
    conductorSql.push(last - first);
    toClaim.push(claim.start - last);
  }
  return {
    total: percentiles(total),
    toConductor: percentiles(toConductor),
    conductorSql: percentiles(conductorSql),
    toClaim: percentiles(toClaim),
    claimSql: percentiles(claimSql),
    finishSql: percentiles(finishSql),
  };
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not close within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
