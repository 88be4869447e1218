// The retention phase of `npm run bench`: Redis memory per finished pipeline under three
// settings of the Retention variables (keep nothing, the defaults, and the settings before issue
// 16), each on its own prefix with its own in-process API and worker. Two rounds of N pipelines
// after a warm-up: round 1 fills whatever the caps allow, round 2 is the steady state. Memory is
// MEMORY USAGE (SAMPLES 0) summed over the prefix's keys; INFO used_memory is printed beside it
// but is the whole server's (other clients of a shared Redis move it).
import { Redis } from 'ioredis';
import pg from 'pg';
import { createAgentCatalog } from '../src/agents/catalog.js';
import { createApiRuntime } from '../src/composition/api-runtime.js';
import { builtInAgents } from '../src/composition/configured-agents.js';
import { createFeatureFlagsFromConfig } from '../src/composition/feature-flags.js';
import { createWorkerRuntime } from '../src/composition/worker-runtime.js';
import { parseConfig } from '../src/config.js';
import { createDatabase } from '../src/infra/db/database.js';
import { loadDecisionPolicy } from '../src/infra/policy/policy-file.js';
import { agentQueueName, CONTROL_QUEUE } from '../src/infra/queue/queue-names.js';
import { createLogger } from '../src/infra/telemetry/logger.js';
import { keysUnder, liveJobs, memoryUnder } from '../test/support/redis-keys.js';
import { diamond } from './diamond-pipelines.js';
import { waitFor } from './stats.js';

export interface RetentionSetting {
  label: string;
  env: Record<string, string>;
}

export const RETENTION_SETTINGS: readonly RetentionSetting[] = [
  {
    label: 'keep nothing (counts 0, events 0)',
    env: { COMPLETED_JOBS_KEEP: '0', FAILED_JOBS_KEEP: '0', QUEUE_EVENTS_MAX_LEN: '0' },
  },
  { label: 'defaults (1000 / 24h, 10000 / 14d, events 1000)', env: {} },
  {
    label: 'before issue 16 (1000 completed, failed forever, events 10000)',
    env: {
      COMPLETED_JOBS_KEEP: '1000',
      COMPLETED_JOBS_MAX_AGE: '30d',
      FAILED_JOBS_KEEP: String(Number.MAX_SAFE_INTEGER),
      FAILED_JOBS_MAX_AGE: '365d',
      QUEUE_EVENTS_MAX_LEN: '10000',
    },
  },
];

const QUEUES = [CONTROL_QUEUE, agentQueueName('noop'), agentQueueName('fail')];

/** What the prefix holds at one moment. */
interface Snapshot {
  keys: number;
  bytes: number;
  usedMemory: number;
  /** Entries of the queues' events streams. */
  streamEntries: number;
  /** Members of the queues' completed and failed sets. */
  completed: number;
  failed: number;
}

export interface RetentionRow {
  label: string;
  pipelines: number;
  baseline: Snapshot;
  rounds: [Snapshot, Snapshot];
}

/** Nine in ten pipelines succeed (a diamond of 5 noop stages), one in ten dead-letters (a poison stage, 3 skipped). */
function definition(i: number) {
  if (i % 10 === 9)
    return {
      name: `retention-${i}`,
      stages: [
        { key: 'a', agent: 'noop' },
        { key: 'poison', agent: 'fail', input: { unrecoverable: true }, dependsOn: ['a'] },
        { key: 'c', agent: 'noop', dependsOn: ['poison'] },
        { key: 'd', agent: 'noop', dependsOn: ['c'] },
        { key: 'e', agent: 'noop', dependsOn: ['d'] },
      ],
    };
  return diamond(`retention-${i}`);
}

async function snapshot(redis: Redis, prefix: string): Promise<Snapshot> {
  const memory = await memoryUnder(redis, prefix);
  const info = await redis.info('memory');
  const usedMemory = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN);
  let streamEntries = 0;
  let completed = 0;
  let failed = 0;
  for (const queue of QUEUES) {
    streamEntries += await redis.xlen(`${prefix}:${queue}:events`);
    completed += await redis.zcard(`${prefix}:${queue}:completed`);
    failed += await redis.zcard(`${prefix}:${queue}:failed`);
  }
  return { ...memory, usedMemory, streamEntries, completed, failed };
}

async function runSetting(
  setting: RetentionSetting,
  options: { databaseUrl: string; redisUrl: string; prefix: string; pipelines: number; observer: pg.Pool },
): Promise<RetentionRow> {
  const { prefix, observer } = options;
  const config = parseConfig({
    NODE_ENV: 'production',
    LOG_LEVEL: 'error',
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: options.redisUrl,
    QUEUE_PREFIX: prefix,
    WORKER_METRICS_PORT: '0',
    ...setting.env,
  });
  const logger = createLogger({ level: 'error', service: 'bench-retention', silent: true });
  // Every built-in agent, as the shipped templates name them (the API checks them at start).
  const catalog = createAgentCatalog(builtInAgents(config));
  const policy = loadDecisionPolicy(config.DECISION_POLICY_FILE);
  const apiDb = createDatabase(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
  const workerDb = createDatabase(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
  const api = createApiRuntime({ config, logger, flags: createFeatureFlagsFromConfig(config, logger), agents: catalog, db: apiDb, policy });
  const worker = createWorkerRuntime({
    config,
    logger,
    db: workerDb,
    policy,
    catalog,
    flags: createFeatureFlagsFromConfig(config, logger),
    serve: [catalog.get('noop')!, catalog.get('fail')!],
    concurrency: 50,
  });
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 1 });
  const actor = { identity: { id: 'bench', name: 'bench', kind: 'service' as const, via: 'cli' as const, roles: ['submitter'] } };
  let submitted = 0;

  async function round(n: number): Promise<void> {
    const ids: string[] = [];
    for (let start = 0; start < n; start += 50) {
      const batch = Array.from({ length: Math.min(50, n - start) }, (_, i) => definition(submitted + start + i));
      const results = await Promise.all(batch.map((d) => api.pipelines.submit(d, { actor })));
      ids.push(...results.map((r) => r.pipeline.id));
    }
    submitted += n;
    await waitFor(async () => {
      const { rows } = await observer.query<{ n: string }>(
        `SELECT count(*) AS n FROM pipelines WHERE id = ANY($1::uuid[]) AND status IN ('succeeded', 'failed', 'cancelled')`,
        [ids],
      );
      const finished = Number(rows[0]!.n);
      return { done: finished === ids.length, progress: finished };
    });
    // A finish may still ask the conductor after its pipeline is recorded: measure once every queue idles.
    await waitFor(async () => {
      const live = await Promise.all(QUEUES.map((q) => liveJobs(redis, prefix, q)));
      const total = live.reduce((a, b) => a + b, 0);
      return { done: total === 0, progress: -total };
    });
  }

  try {
    await worker.start();
    await round(20);
    const baseline = await snapshot(redis, prefix);
    await round(options.pipelines);
    const first = await snapshot(redis, prefix);
    await round(options.pipelines);
    const second = await snapshot(redis, prefix);
    return { label: setting.label, pipelines: options.pipelines, baseline, rounds: [first, second] };
  } finally {
    await worker.close().catch(() => undefined);
    await api.close().catch(() => undefined);
    await apiDb.close();
    await workerDb.close();
    const keys = await keysUnder(redis, prefix);
    for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
    redis.disconnect();
  }
}

/** Runs every setting in turn, each on a prefix of its own (`{bench-…-retention-<n>}`, its keys deleted after it). */
export async function measureRetention(options: {
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  pipelines: number;
  observer: pg.Pool;
  log: (line: string) => void;
}): Promise<RetentionRow[]> {
  const rows: RetentionRow[] = [];
  for (const [n, setting] of RETENTION_SETTINGS.entries()) {
    options.log(`retention: ${setting.label}: 20 warm-up pipelines, then 2 rounds of ${options.pipelines}…`);
    const prefix = options.prefix.endsWith('}') ? `${options.prefix.slice(0, -1)}-retention-${n}}` : `${options.prefix}-retention-${n}`;
    rows.push(await runSetting(setting, { ...options, prefix }));
  }
  return rows;
}

const bytesPer = (from: Snapshot, to: Snapshot, n: number, pick: (s: Snapshot) => number) =>
  // `|| 0`: no "-0 B" for a difference that rounds to nothing.
  `${(Math.round((pick(to) - pick(from)) / n) || 0).toLocaleString('en-US')} B`;

export function renderRetention(rows: readonly RetentionRow[]): string {
  const header = [
    'Retention',
    'Pipelines/round',
    'Keys (base → r1 → r2)',
    'Bytes under prefix (base → r2)',
    'Bytes/pipeline r1',
    'Bytes/pipeline r2',
    'used_memory/pipeline r2',
    'Completed / failed / stream entries after r2',
  ];
  const body = rows.map((r) => {
    const [first, second] = r.rounds;
    return [
      r.label,
      String(r.pipelines),
      `${r.baseline.keys} → ${first.keys} → ${second.keys}`,
      `${r.baseline.bytes.toLocaleString('en-US')} → ${second.bytes.toLocaleString('en-US')}`,
      bytesPer(r.baseline, first, r.pipelines, (s) => s.bytes),
      bytesPer(first, second, r.pipelines, (s) => s.bytes),
      bytesPer(first, second, r.pipelines, (s) => s.usedMemory),
      `${second.completed} / ${second.failed} / ${second.streamEntries}`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i]!.length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [
    line(header),
    rule,
    ...body.map(line),
    'Each pipeline: 5 stages; 9 in 10 succeed (a diamond of noop stages), 1 in 10 dead-letters (a poison stage, 3 skipped).',
    'Bytes: MEMORY USAGE … SAMPLES 0 summed over the keys of the setting’s own prefix; r1 fills what the caps allow, r2 is the steady state.',
    'used_memory is INFO memory of the whole Redis server: other clients of a shared Redis move it.',
  ].join('\n');
}
