// Starts the platform in-process against the real Redis and Postgres: the API on port 0 and
// worker runtimes, with a unique queue prefix per harness; close() removes its Redis keys.
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { createAgentCatalog, type AgentCatalog } from '../../src/agents/catalog.js';
import type { Agent } from '../../src/agents/define-agent.js';
import { parseConfig, type Config } from '../../src/config.js';
import { createApiRuntime, type ApiRuntime } from '../../src/composition/api-runtime.js';
import { createDatabase, type Database } from '../../src/infra/db/database.js';
import { createLogger, type Logger } from '../../src/infra/telemetry/logger.js';
import { loadDecisionPolicy } from '../../src/infra/policy/policy-file.js';
import { createWorkerRuntime, type WorkerRuntime } from '../../workers/worker-runtime.js';

export interface HarnessOptions {
  agents?: readonly Agent[];
  /** Worker runtimes to start in this process (default 1; 0 for none). */
  workers?: number;
  concurrency?: number;
  env?: Record<string, string>;
  /** The logger of the API and the workers (default: silent unless TEST_LOGS is set). */
  logger?: Logger;
}

export interface Harness {
  config: Config;
  db: Database;
  api: ApiRuntime;
  baseUrl: string;
  catalog: AgentCatalog;
  workers: WorkerRuntime[];
  startWorker(options?: { conductor?: boolean }): Promise<WorkerRuntime>;
  close(): Promise<void>;
}

export function testPrefix(): string {
  return `{t-${randomBytes(4).toString('hex')}}`;
}

export function testConfig(env: Record<string, string> = {}): Config {
  const databaseUrl = process.env.TEST_DATABASE_URL;
  if (!databaseUrl) throw new Error('TEST_DATABASE_URL is not set: run through mocha (test/support/root-hooks.ts)');
  return parseConfig({
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: testPrefix(),
    LOG_LEVEL: 'error',
    // Many worker runtimes share a test process: no metrics port unless a test asks for one.
    WORKER_METRICS_PORT: '0',
    ...env,
  });
}

export async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const config = testConfig(options.env);
  const logger = options.logger ?? createLogger({ level: config.LOG_LEVEL, service: 'test', silent: !process.env.TEST_LOGS });
  const catalog = createAgentCatalog(options.agents);
  const db = createDatabase(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
  const policy = loadDecisionPolicy(config.DECISION_POLICY_FILE);
  const api = createApiRuntime({ config, logger, agents: catalog, db, policy });
  const server: Server = await new Promise((resolve) => {
    const s = api.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  const workers: WorkerRuntime[] = [];

  const startWorker = async (opts: { conductor?: boolean } = {}) => {
    const runtime = createWorkerRuntime({
      config,
      logger,
      db,
      policy,
      catalog,
      serve: [...catalog.values()],
      concurrency: options.concurrency ?? 10,
      conductor: opts.conductor,
    });
    await runtime.start();
    workers.push(runtime);
    return runtime;
  };
  for (let i = 0; i < (options.workers ?? 1); i++) await startWorker();

  return {
    config,
    db,
    api,
    baseUrl: `http://127.0.0.1:${port}`,
    catalog,
    workers,
    startWorker,
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await api.close();
      await db.close();
      await deleteKeys(config.REDIS_URL, config.QUEUE_PREFIX);
    },
  };
}
