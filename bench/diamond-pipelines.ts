// The platform side of the load and soak phases: the API runtime in the bench process submits
// 5-stage `noop` pipelines shaped like the SDLC template (scaffold → validation ∥ e2e_test →
// integration → deployment: a → b ∥ c → d → e), worker processes (bench/worker-processes.ts)
// run them, and the hops are read from Postgres.
import type pg from 'pg';
import { Redis } from 'ioredis';
import { createAgentCatalog } from '../src/agents/catalog.js';
import { createApiRuntime, type ApiRuntime } from '../src/composition/api-runtime.js';
import { builtInAgents } from '../src/composition/configured-agents.js';
import { createFeatureFlagsFromConfig } from '../src/composition/feature-flags.js';
import { parseConfig, type Config } from '../src/config.js';
import { createDatabase, poolSettings, type Database } from '../src/infra/db/database.js';
import { loadDecisionPolicy } from '../src/infra/policy/policy-file.js';
import { CONTROL_QUEUE, agentQueueName } from '../src/infra/queue/queue-names.js';
import { createLogger } from '../src/infra/telemetry/logger.js';
import { liveJobs } from '../test/support/redis-keys.js';
import { testClusterNodes } from '../test/support/test-redis.js';
import { track, untrack } from './open-resources.js';
import { percentiles, waitFor, type Percentiles } from './stats.js';
import type { WorkerGroup } from './worker-processes.js';

export const STAGES_PER_PIPELINE = 5;
export const DIAMOND_SHAPE = 'a → b ∥ c → d → e';
/** The queues a diamond pipeline uses. */
export const DIAMOND_QUEUES = [CONTROL_QUEUE, agentQueueName('noop')];
const TERMINAL = ['succeeded', 'failed', 'cancelled'];

/** a → b ∥ c → d → e, all `noop`: four hops per pipeline (b and c after a, d after the later of b and c, e after d). */
export function diamond(name: string) {
  return {
    name,
    stages: [
      { key: 'a', agent: 'noop' },
      { key: 'b', agent: 'noop', dependsOn: ['a'] },
      { key: 'c', agent: 'noop', dependsOn: ['a'] },
      { key: 'd', agent: 'noop', dependsOn: ['b', 'c'] },
      { key: 'e', agent: 'noop', dependsOn: ['d'] },
    ],
  };
}

/** The platform's settings for a run: the same for the bench's API and for every worker process. */
export function platformEnv(options: {
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  concurrency: number;
  poolSize: number;
  extra?: Record<string, string>;
}): Record<string, string> {
  return {
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: options.redisUrl,
    // The API here and the worker processes must agree, and with the caller's own Redis client:
    // the test run's cluster seeds only with the run's REDIS_URL, else that one server.
    REDIS_CLUSTER_NODES: testClusterNodes(options.redisUrl).join(','),
    QUEUE_PREFIX: options.prefix,
    WORKER_CONCURRENCY: String(options.concurrency),
    DATABASE_POOL_SIZE: String(options.poolSize),
    // Tracing as deployed by default (ids carried, nothing recorded or exported); OTEL_SDK_DISABLED=true measures without.
    ...(process.env.OTEL_SDK_DISABLED ? { OTEL_SDK_DISABLED: process.env.OTEL_SDK_DISABLED } : {}),
    ...options.extra,
  };
}

export interface Submitter {
  config: Config;
  api: ApiRuntime;
  /** Submits `count` diamonds named `${name}-${n}`, `parallel` at a time; resolves with their ids in order. */
  submitDiamonds(name: string, count: number, parallel?: number): Promise<string[]>;
  close(): Promise<void>;
}

/** The API runtime in this process, as a separate API process would run it (its own pool). */
export function startSubmitter(env: Record<string, string>): Submitter {
  const config = parseConfig({ ...env, NODE_ENV: 'production', LOG_LEVEL: 'error' });
  const logger = createLogger({ level: 'error', service: 'bench', silent: true });
  const catalog = createAgentCatalog(builtInAgents(config));
  const db: Database = createDatabase(config.DATABASE_URL, poolSettings(config));
  const flags = createFeatureFlagsFromConfig(config, logger);
  const api = createApiRuntime({ config, logger, flags, agents: catalog, db, policy: loadDecisionPolicy(config.DECISION_POLICY_FILE) });
  // In-process, as one service account (no HTTP, so no key is checked).
  const actor = { identity: { id: 'bench', name: 'bench', kind: 'service' as const, via: 'cli' as const, roles: ['submitter'] } };
  let closed: Promise<void> | undefined;
  const submitter: Submitter = {
    config,
    api,
    async submitDiamonds(name, count, parallel = 16) {
      const ids = new Array<string>(count);
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(parallel, count) }, async () => {
          while (next < count) {
            const n = next++;
            ids[n] = (await api.pipelines.submit(diamond(`${name}-${n}`), { actor })).pipeline.id;
          }
        }),
      );
      return ids;
    },
    close() {
      closed ??= (async () => {
        untrack(submitter);
        await api.close().catch((error: Error) => console.error(`bench: closing the API runtime failed: ${error.message}`));
        await db.close();
        flags.close();
      })();
      return closed;
    },
  };
  return track(submitter);
}

/**
 * Waits until every pipeline of `ids` has finished and the queues hold no job to run (a finish
 * may still ask the conductor after its pipeline is recorded). Fails when nothing moves for
 * `stallMs` or a worker process is in trouble.
 */
export async function waitForDiamonds(
  ids: readonly string[],
  ctx: { observer: pg.Pool; redis: Redis; prefix: string; workers: WorkerGroup; stallMs?: number },
): Promise<void> {
  const { observer, redis, prefix, workers } = ctx;
  const describe = async () => {
    const { rows } = await observer.query<{ status: string; n: string }>(
      'SELECT status::text, count(*) AS n FROM pipelines WHERE id = ANY($1::uuid[]) GROUP BY 1 ORDER BY 1',
      [ids],
    );
    const live = await Promise.all(DIAMOND_QUEUES.map(async (q) => `${q} ${await liveJobs(redis, prefix, q)}`));
    return `Pipelines: ${rows.map((r) => `${r.status}=${r.n}`).join(' ')}. Stage jobs done by the workers: ${workers.done()}. Live jobs: ${live.join(', ')}.`;
  };
  await waitFor(
    async () => {
      workers.assertHealthy();
      const { rows } = await observer.query<{ n: string }>(
        'SELECT count(*) AS n FROM pipelines WHERE id = ANY($1::uuid[]) AND status::text = ANY($2::text[])',
        [ids, TERMINAL],
      );
      const finished = Number(rows[0]!.n);
      return { done: finished === ids.length, progress: workers.done() + finished };
    },
    { everyMs: 250, stallMs: ctx.stallMs ?? 60_000, describe },
  );
  await waitFor(
    async () => {
      workers.assertHealthy();
      const live = await Promise.all(DIAMOND_QUEUES.map((q) => liveJobs(redis, prefix, q)));
      const total = live.reduce((a, b) => a + b, 0);
      return { done: total === 0, progress: -total };
    },
    { everyMs: 100, stallMs: ctx.stallMs ?? 60_000, describe },
  );
}

export interface DiamondOutcome {
  pipelines: number;
  /** Pipelines that did not succeed. */
  notSucceeded: number;
  stages: number;
  /** Stage runs (attempts) recorded: more than `stages` when a stage ran again. */
  runs: number;
  /** Wall-clock ms of the last pipeline's finished_at. */
  lastFinishedAt: number;
  /** started_at(stage) − the latest finished_at of its dependencies, over every dependent stage. */
  hops: Percentiles;
  /** Stage runs per worker process (by the pid in their worker id). */
  runsByPid: Map<number, number>;
}

/** What Postgres recorded for `ids`: outcomes, runs and hops (timestamptz(3): ±1 ms each). */
export async function readDiamonds(observer: pg.Pool, ids: readonly string[]): Promise<DiamondOutcome> {
  const summary = await observer.query<{ last: Date; failed: string; n: string }>(
    `SELECT max(finished_at) AS last, count(*) FILTER (WHERE status <> 'succeeded') AS failed, count(*) AS n
     FROM pipelines WHERE id = ANY($1::uuid[])`,
    [ids],
  );
  const stages = await observer.query<{ n: string }>('SELECT count(*) AS n FROM stages WHERE pipeline_id = ANY($1::uuid[])', [ids]);
  const runs = await observer.query<{ worker_id: string; n: string }>(
    'SELECT worker_id, count(*) AS n FROM stage_runs WHERE pipeline_id = ANY($1::uuid[]) GROUP BY 1',
    [ids],
  );
  const hops = await observer.query<{ hop: string }>(
    `SELECT EXTRACT(EPOCH FROM (n.started_at - d.last_dependency)) * 1000 AS hop
     FROM stages n
     JOIN LATERAL (SELECT max(p.finished_at) AS last_dependency FROM stages p
                   WHERE p.pipeline_id = n.pipeline_id AND p.key = ANY(n.depends_on)) d ON true
     WHERE n.pipeline_id = ANY($1::uuid[]) AND cardinality(n.depends_on) > 0 AND n.started_at IS NOT NULL`,
    [ids],
  );
  const runsByPid = new Map<number, number>();
  // A worker id is `host:pid:random` (src/composition/worker-runtime.ts).
  for (const row of runs.rows) {
    const pid = Number(row.worker_id.split(':').at(-2));
    runsByPid.set(pid, (runsByPid.get(pid) ?? 0) + Number(row.n));
  }
  return {
    pipelines: Number(summary.rows[0]!.n),
    notSucceeded: Number(summary.rows[0]!.failed),
    stages: Number(stages.rows[0]!.n),
    runs: [...runsByPid.values()].reduce((a, b) => a + b, 0),
    lastFinishedAt: summary.rows[0]!.last?.getTime() ?? Number.NaN,
    // EXTRACT returns numeric, which pg hands over as a string.
    hops: percentiles(hops.rows.map((r) => Number(r.hop))),
    runsByPid,
  };
}
