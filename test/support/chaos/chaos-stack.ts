// One chaos case's platform: a private Redis, the suite's private Postgres (one cluster and
// database, migrated once with the project's own migrateDatabase), a real API process and
// real worker processes, all on a fresh queue prefix. An admin key made in that database is what
// every `request()` to the stack's API sends (test/support/http.ts), unless a request names another.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrateDatabase } from '../../../src/infra/boot/boot-checks.js';
import { request, setDefaultKey } from '../http.js';
import { createTestKey, type TestKey } from '../keys.js';
import { pollUntil } from './free-port.js';
import { startApiProcess, startWorkerProcess, type ApiProcess, type PlatformProcess } from './platform-process.js';
import { startPrivatePostgres, type PrivatePostgres } from './private-postgres.js';
import { startPrivateRedis, type PrivateRedis, type PrivateRedisOptions } from './private-redis.js';

const DATABASE = 'agentic_sdlc_chaos';

let postgres: Promise<PrivatePostgres> | undefined;

/** The suite's Postgres cluster, started and migrated on first use. */
export function sharedPostgres(): Promise<PrivatePostgres> {
  postgres ??= (async () => {
    const started = Date.now();
    const server = await startPrivatePostgres();
    await migrateDatabase(server.url(DATABASE));
    process.stdout.write(`      [chaos] private postgres on port ${server.port}, migrated in ${Date.now() - started} ms\n`);
    return server;
  })();
  return postgres;
}

/** Stops the suite's Postgres cluster (the chaos root hooks call it once at the end). */
export async function closeSharedPostgres(): Promise<void> {
  if (!postgres) return;
  const server = await postgres.catch(() => undefined);
  postgres = undefined;
  await server?.close();
}

export interface StackOptions {
  redis?: PrivateRedisOptions;
  /** Environment for every process of the stack (LOCK_DURATION_MS, SHUTDOWN_GRACE_MS…). */
  env?: Record<string, string>;
}

export interface ChaosStack {
  redis: PrivateRedis;
  postgres: PrivatePostgres;
  databaseUrl: string;
  /** The environment each process of the stack gets. */
  env: Record<string, string>;
  /** The test's own connection pool to the private database (for the checks). */
  db: pg.Pool;
  api: ApiProcess;
  baseUrl: string;
  /** The admin key `request()` sends to `baseUrl` by default, and the identity it stands for. */
  admin: TestKey;
  workers: PlatformProcess[];
  /** Starts a worker process; `wait` (default true) waits until the API sees it on the `sleep` queue. */
  startWorker(options?: { name?: string; args?: string[]; env?: Record<string, string>; wait?: boolean }): Promise<PlatformProcess>;
  /** Waits until `count` worker processes serve the `sleep` agent. */
  waitForWorkers(count: number, timeoutMs?: number): Promise<void>;
  /** Every process's output, for failure messages. */
  outputs(): string;
  close(): Promise<void>;
}

/** Starts a private Redis, the API and no workers (add them with startWorker). */
export async function startStack(options: StackOptions = {}): Promise<ChaosStack> {
  const server = await sharedPostgres();
  const redis = await startPrivateRedis(options.redis);
  const databaseUrl = server.url(DATABASE);
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: `{chaos-${randomBytes(3).toString('hex')}}`,
    ...options.env,
  };
  const db = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  db.on('error', () => undefined);
  let api: ApiProcess;
  let admin: TestKey;
  try {
    admin = await createTestKey(databaseUrl, 'chaos-admin');
    api = await startApiProcess(env);
  } catch (error) {
    await redis.close();
    await db.end();
    throw error;
  }
  setDefaultKey(api.baseUrl, admin.key);
  const workers: PlatformProcess[] = [];

  const stack: ChaosStack = {
    redis,
    postgres: server,
    databaseUrl,
    env,
    db,
    api,
    baseUrl: api.baseUrl,
    admin,
    workers,
    async startWorker({ name = `worker-${workers.length + 1}`, args = [], env: extra = {}, wait = true } = {}) {
      const worker = startWorkerProcess(name, { ...env, ...extra }, args);
      workers.push(worker);
      if (wait) await stack.waitForWorkers(workers.filter((w) => w.alive()).length);
      return worker;
    },
    async waitForWorkers(count, timeoutMs = 60_000) {
      try {
        await pollUntil(
          `${count} worker process(es) online`,
          async () => {
            const { body } = await request(api.baseUrl, 'GET', '/api/v1/agents');
            const sleep = (body.items as { type: string; workersOnline: number }[]).find((a) => a.type === 'sleep');
            return (sleep?.workersOnline ?? 0) >= count;
          },
          timeoutMs,
          200,
        );
      } catch (error) {
        throw new Error(`${(error as Error).message}\n${stack.outputs()}`, { cause: error });
      }
    },
    outputs: () => [api, ...workers].map((p) => `--- ${p.name} (pid ${p.pid}) ---\n${p.output().slice(-6000)}`).join('\n'),
    async close() {
      setDefaultKey(api.baseUrl, undefined);
      await Promise.all([...workers, api].map((p) => p.stop('SIGKILL')));
      await db.end().catch(() => undefined);
      await redis.close();
    },
  };
  return stack;
}
