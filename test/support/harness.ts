// Starts the platform in-process against the real Redis and Postgres: the API on port 0 and
// worker runtimes, with a unique queue prefix per harness; close() removes its Redis keys.
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Cluster, Redis } from 'ioredis';
import { parseClusterNode } from '../../src/domain/redis-cluster.js';
import { createAgentCatalog, type AgentCatalog } from '../../src/agents/catalog.js';
import { builtInAgents } from '../../src/composition/configured-agents.js';
import type { Agent } from '../../src/agents/define-agent.js';
import { parseConfig, type Config } from '../../src/config.js';
import { createApiRuntime, type ApiRuntime } from '../../src/composition/api-runtime.js';
import { createDatabase, poolSettings, type Database } from '../../src/infra/db/database.js';
import { createLogger, type Logger } from '../../src/infra/telemetry/logger.js';
import { loadDecisionPolicy } from '../../src/infra/policy/policy-file.js';
import { createWorkerRuntime, type WorkerRuntime } from '../../src/composition/worker-runtime.js';
import { terminalActor } from '../../src/services/api-key.service.js';
import type { IdentityKind } from '../../src/domain/identity.js';
import { setDefaultKey } from './http.js';
import { RATE_LIMITS_OFF } from './rate-limits-off.js';
import { createHttpServer, httpServerLimits } from '../../src/http/http-server.js';
import { createFeatureFlagsFromConfig } from '../../src/composition/feature-flags.js';
import { redisTargetOf } from '../../src/composition/redis-target.js';
import type { RedisClient } from '../../src/infra/queue/redis-connection.js';
import { openTestRedis, runRedisUrl, testClusterNodes } from './test-redis.js';
import { createTestSchema, dropSchema } from './test-database.js';
import type { UnleashFlags } from '../../src/infra/flags/unleash-flags.js';

export interface HarnessOptions {
  agents?: readonly Agent[];
  /** Worker runtimes to start in this process (default 1; 0 for none). */
  workers?: number;
  concurrency?: number;
  env?: Record<string, string>;
  /**
   * A migrated Postgres schema of the harness's own, dropped by close(), instead of the run's
   * shared one: for a test whose rows must not meet other files' (a running limit counts every
   * pipeline in the schema; a schedule left there would tick in other files' queues).
   */
  ownSchema?: boolean;
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
  /** The flags the API and the workers share (from the env's UNLEASH_URL / FLAGS_FILE). */
  flags: UnleashFlags;
  /** The admin key every `request()` to `baseUrl` sends unless it names its own credential. */
  adminKey: string;
  /**
   * A new API key with these roles (platform roles and team roles such as `tech_lead`); the
   * name is made unique per harness unless `exactName`. Returns the key and its identity id.
   */
  createKey(
    name: string,
    roles: string[],
    options?: { kind?: IdentityKind; exactName?: boolean; expiresInMs?: number },
  ): Promise<{ key: string; id: string; name: string; recordId: string }>;
  startWorker(options?: { conductor?: boolean }): Promise<WorkerRuntime>;
  /**
   * A connection to this harness's Redis, one server or the run's cluster, for a test's own
   * BullMQ queues and workers (role `worker`); made on the first call, disconnected by close().
   */
  connection(): RedisClient;
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
    REDIS_URL: runRedisUrl(),
    // TEST_REDIS_CLUSTER=1: the cluster test/support/root-hooks.ts started (not for a test's own Redis).
    REDIS_CLUSTER_NODES: testClusterNodes(env.REDIS_URL ?? runRedisUrl()).join(','),
    QUEUE_PREFIX: testPrefix(),
    LOG_LEVEL: 'error',
    // Many worker runtimes share a test process: no metrics port unless a test asks for one.
    WORKER_METRICS_PORT: '0',
    ...RATE_LIMITS_OFF,
    ...env,
  });
}

/** Deletes every key under `prefix`: on the one server, or on every master of a cluster. */
export async function deleteKeys(redisUrl: string, prefix: string, clusterNodes = testClusterNodes(redisUrl)): Promise<void> {
  const cluster = clusterNodes.length > 0 ? new Cluster(clusterNodes.map(parseClusterNode), { lazyConnect: true }) : undefined;
  if (cluster) await cluster.connect();
  const servers = cluster ? cluster.nodes('master') : [new Redis(redisUrl)];
  try {
    for (const redis of servers) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        // One key per command: on a cluster node, keys of other slots cannot share a DEL.
        if (keys.length > 0) await Promise.all(keys.map((key) => redis.unlink(key)));
      } while (cursor !== '0');
    }
  } finally {
    if (cluster) cluster.disconnect();
    else servers.forEach((redis) => redis.disconnect());
  }
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const own = options.ownSchema ? await createTestSchema() : undefined;
  try {
    return await startHarnessOn(own ? { ...options, env: { ...options.env, DATABASE_URL: own.url } } : options, own?.schema);
  } catch (error) {
    if (own) await dropSchema(own.schema);
    throw error;
  }
}

async function startHarnessOn(options: HarnessOptions, ownSchema: string | undefined): Promise<Harness> {
  const config = testConfig(options.env);
  const logger = options.logger ?? createLogger({ level: config.LOG_LEVEL, service: 'test', silent: !process.env.TEST_LOGS });
  // Every built-in agent as `npm start` has them, configured from the test profile (the shipped
  // templates name them), with the test's own agents taking the place of any of the same type.
  const own = new Set((options.agents ?? []).map((agent) => agent.type));
  const catalog = createAgentCatalog([...(options.agents ?? []), ...builtInAgents(config).filter((agent) => !own.has(agent.type))]);
  const db = createDatabase(config.DATABASE_URL, poolSettings(config));
  const policy = loadDecisionPolicy(config.DECISION_POLICY_FILE);
  const flags = createFeatureFlagsFromConfig(config, logger, `test-${randomBytes(3).toString('hex')}`);
  await flags.ready();
  const api = createApiRuntime({ config, logger, agents: catalog, db, policy, flags });
  // As the entries do before they listen: a test's first request must not meet a connection still
  // coming up (a cluster's takes longer). A Redis a test made unreachable just ends the wait.
  await api.queueConnected(5000);
  // The server of the entry files, with the configured limits for slow and malformed clients.
  const server: Server = createHttpServer(api.app, httpServerLimits(config));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  const workers: WorkerRuntime[] = [];
  // Key names are identities, unique among active keys in the shared test schema.
  const suffix = randomBytes(3).toString('hex');
  const createKey: Harness['createKey'] = async (name, roles, opts = {}) => {
    const unique = opts.exactName ? name : `${name}-${suffix}`;
    const issued = await api.keys.create(
      { name: unique, roles, kind: opts.kind, expiresInMs: opts.expiresInMs },
      terminalActor('test-harness'),
    );
    return { key: issued.key, id: issued.record.name, name: unique, recordId: issued.record.id };
  };
  const admin = await createKey('admin', ['admin']);
  setDefaultKey(baseUrl, admin.key);

  const startWorker = async (opts: { conductor?: boolean } = {}) => {
    const runtime = createWorkerRuntime({
      config,
      logger,
      db,
      policy,
      catalog,
      flags,
      serve: [...catalog.values()],
      concurrency: options.concurrency ?? 10,
      conductor: opts.conductor,
    });
    await runtime.start();
    workers.push(runtime);
    return runtime;
  };
  for (let i = 0; i < (options.workers ?? 1); i++) await startWorker();
  let testConnection: RedisClient | undefined;

  return {
    config,
    db,
    api,
    baseUrl,
    catalog,
    workers,
    flags,
    adminKey: admin.key,
    createKey,
    startWorker,
    connection: () => (testConnection ??= openTestRedis(redisTargetOf(config))),
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      setDefaultKey(baseUrl, undefined);
      await api.close();
      await db.close();
      flags.close();
      testConnection?.disconnect();
      await deleteKeys(config.REDIS_URL, config.QUEUE_PREFIX, config.REDIS_CLUSTER_NODES);
      if (ownSchema) await dropSchema(ownSchema);
    },
  };
}
