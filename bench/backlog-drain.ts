// `npx tsx bench/backlog-drain.ts [--pipelines 1000] [--running 50]`
//
// The measurement behind BACKLOG_HIGH_WATER's default (docs/performance.md):
// 1. what the backlog costs a submission: `countQueued()` (the high-water check) and a whole
//    `submit()` under a full running limit, with 0, 1,000, 10,000 and 100,000 pipelines queued;
// 2. how fast the platform drains a backlog: N two-stage `noop` pipelines submitted at once under
//    MAX_RUNNING_PIPELINES, one worker runtime (conductor included), until all have finished.
// Everything lives in a private Postgres schema and a unique Redis prefix, removed at the end.
import { createFeatureFlagsFromConfig } from '../src/composition/feature-flags.js';
import { randomBytes } from 'node:crypto';
import { createAgentCatalog } from '../src/agents/catalog.js';
import { createApiRuntime } from '../src/composition/api-runtime.js';
import { parseConfig } from '../src/config.js';
import { createDatabase } from '../src/infra/db/database.js';
import { createPipelineRepository } from '../src/infra/db/pipeline.repository.js';
import { loadDecisionPolicy } from '../src/infra/policy/policy-file.js';
import { createLogger } from '../src/infra/telemetry/logger.js';
import { createWorkerRuntime } from '../src/composition/worker-runtime.js';
import { deleteKeys } from '../test/support/harness.js';
import { createTestSchema, dropSchema } from '../test/support/test-database.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const BACKLOGS = [0, 1_000, 10_000, 100_000];
const SAMPLES = 30;

function intArg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const n = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} takes a positive integer`);
  return n;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const ms = (n: number) => `${n.toFixed(2)} ms`;
const actor = { identity: { id: 'bench', name: 'bench', kind: 'service' as const, via: 'cli' as const, roles: ['submitter'] } };
const twoStages = (name: string) => ({
  name,
  stages: [
    { key: 'a', agent: 'noop' },
    { key: 'b', agent: 'noop', dependsOn: ['a'] },
  ],
});

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

async function main(): Promise<void> {
  const pipelines = intArg('pipelines', 1000);
  const running = intArg('running', 50);
  const { schema, url } = await createTestSchema();
  const prefix = `{bench-${randomBytes(4).toString('hex')}}`;
  const logger = createLogger({ level: 'error', service: 'bench', silent: true });
  const catalog = createAgentCatalog();
  const noop = catalog.get('noop')!;
  try {
    const base = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'error',
      DATABASE_URL: url,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      OTEL_SDK_DISABLED: 'true',
    };
    const policy = loadDecisionPolicy('policies/decision-policy.yaml');

    // 1. Cost per submission against the size of the backlog: one slot, taken, so every
    // submission queues; the mark is out of reach so the count runs but never refuses.
    {
      const config = parseConfig({ ...base, MAX_RUNNING_PIPELINES: '1', BACKLOG_HIGH_WATER: '1000000000' });
      const db = createDatabase(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
      const api = createApiRuntime({ config, logger, flags: createFeatureFlagsFromConfig(config, logger), agents: catalog, db, policy });
      const repo = createPipelineRepository(db);
      try {
        await api.pipelines.submit(twoStages('slot-holder'), { actor });
        console.log('| queued pipelines | countQueued() p50 | submit() p50 (queued) |');
        console.log('|---:|---:|---:|');
        let queued = 0;
        for (const backlog of BACKLOGS) {
          if (backlog > queued) {
            await db.pool.query(
              `INSERT INTO pipelines (id, name, status, definition, submitter, updated_at)
               SELECT gen_random_uuid(), 'synthetic', 'queued', '{}'::jsonb, 'bench-' || (g % 50), now() FROM generate_series(1, $1) AS g`,
              [backlog - queued],
            );
            await db.pool.query('ANALYZE pipelines');
            queued = backlog;
          }
          const counts: number[] = [];
          const submits: number[] = [];
          for (let i = 0; i < SAMPLES; i++) counts.push(await timed(() => repo.countQueued()));
          for (let i = 0; i < SAMPLES; i++)
            submits.push(await timed(() => api.pipelines.submit(twoStages(`probe-${backlog}-${i}`), { actor })));
          queued += SAMPLES;
          console.log(`| ${backlog.toLocaleString('en')} | ${ms(median(counts))} | ${ms(median(submits))} |`);
        }
      } finally {
        await api.close();
        await db.close();
        await deleteKeys(REDIS_URL, prefix);
      }
      const cleanup = createDatabase(url, 2);
      await cleanup.pool.query('TRUNCATE pipelines CASCADE');
      await cleanup.close();
    }

    // 2. Drain rate: the backlog is submitted before any worker runs, then one worker runtime
    // (conductor included) runs it under the limit; timed from its start to the last finish.
    {
      const config = parseConfig({ ...base, MAX_RUNNING_PIPELINES: String(running), BACKLOG_HIGH_WATER: '0', WORKER_CONCURRENCY: '50' });
      const apiDb = createDatabase(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
      const workerDb = createDatabase(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
      const api = createApiRuntime({
        config,
        logger,
        flags: createFeatureFlagsFromConfig(config, logger),
        agents: catalog,
        db: apiDb,
        policy,
      });
      const worker = createWorkerRuntime({
        config,
        logger,
        flags: createFeatureFlagsFromConfig(config, logger),
        db: workerDb,
        policy,
        catalog,
        serve: [noop],
        concurrency: 50,
      });
      const count = async (where: string) =>
        (await apiDb.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pipelines WHERE ${where}`)).rows[0]!.n;
      try {
        for (let i = 0; i < pipelines; i++) await api.pipelines.submit(twoStages(`drain-${i}`), { actor });
        const queued = await count("status = 'queued'");
        const start = performance.now();
        await worker.start();
        while ((await count("status NOT IN ('succeeded', 'failed', 'cancelled')")) > 0) await new Promise((r) => setTimeout(r, 50));
        const seconds = (performance.now() - start) / 1000;
        const failed = await count("status <> 'succeeded'");
        console.log(`\n${pipelines} two-stage noop pipelines, MAX_RUNNING_PIPELINES=${running}, one worker runtime at concurrency 50:`);
        console.log(
          `  ${queued} queued before the worker started; all finished ${seconds.toFixed(1)} s after it started (${failed} not succeeded)`,
        );
        console.log(`  drain rate: ${(pipelines / seconds).toFixed(0)} pipelines/s`);
      } finally {
        await worker.close();
        await api.close();
        await apiDb.close();
        await workerDb.close();
        await deleteKeys(REDIS_URL, prefix);
      }
    }
  } finally {
    await dropSchema(schema);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
