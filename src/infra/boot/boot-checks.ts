// Start-up checks that turn "connection refused" into an actionable message: which service,
// where we looked, how to start it; whether Redis may evict keys (BullMQ's jobs); and whether
// the database's migrations are current. Called by the boot sequence (src/composition/boot.ts).
import type { DecisionPolicy } from '../../domain/decision-policy.js';
import { BootError } from '../../domain/boot-error.js';
import { shellQuote } from '../../domain/shell-quote.js';
import { loadDecisionPolicy } from '../policy/policy-file.js';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { describeDatabaseUrl, maintenanceUrl, toPgConnection } from '../db/connection-url.js';
import { readPendingMigrations } from '../db/migration-status.js';
import { isClusterTarget, toRedisTarget, type RedisTarget } from '../queue/redis-connection.js';
import { clusterWhere, probeRedisCluster } from './redis-cluster-probe.js';

const run = promisify(execFile);
const PRISMA_CLI = fileURLToPath(new URL('../../../node_modules/prisma/build/index.js', import.meta.url));

function redisPort(url: string): string {
  return new URL(url).port || '6379';
}

function redisWhere(url: string): string {
  return `${new URL(url).hostname}:${redisPort(url)}`;
}

/**
 * Redis answered but refused the connection's credentials: no password where one is required
 * (NOAUTH), or a wrong one (WRONGPASS; "invalid password" from Redis before 6).
 */
const REDIS_CREDENTIALS_REFUSED = /^(NOAUTH|WRONGPASS)\b|invalid password|invalid username-password/i;

/** The RESP parser's complaint about a reply's first byte: what answered does not speak Redis. */
const NOT_REDIS = /Unknown RESP type \d+ "(.)"|Protocol error, got "(.)" as reply type byte/;

function somethingElseAnswers(url: string, firstByte: string): BootError {
  const guess = firstByte === 'H' ? ' (it answered like an HTTP server)' : '';
  return new BootError(
    'DEPENDENCY_UNAVAILABLE',
    [
      `Something answers at ${redisWhere(url)} (REDIS_URL), but it is not Redis${guess}: its reply began with "${firstByte}".`,
      `Point REDIS_URL at Redis's port (6379 unless it was changed), not another service's.`,
    ].join('\n'),
  );
}

function redisCredentialsRefused(url: string, reason: string): BootError {
  return new BootError(
    'DEPENDENCY_UNAVAILABLE',
    [
      `Redis at ${redisWhere(url)} (REDIS_URL) is running but refused the connection's credentials: ${reason}.`,
      'Put the password it requires in REDIS_URL, as `:PASSWORD@` before the host (an ACL user: `USER:PASSWORD@`).',
    ].join('\n'),
  );
}

/**
 * Postgres answered but refused who connects: a wrong password (28P01), an unknown role or a
 * pg_hba.conf rule that rejects it (28000), or a server that asks for a password while the URL
 * has none (node-postgres then fails before sending one: "client password must be a string").
 */
function isPostgresCredentialRefusal(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (code === '28P01' || code === '28000') return true;
  return typeof message === 'string' && /client password must be a string|password authentication failed/i.test(message);
}

function postgresCredentialsRefused(url: string, reason: string): BootError {
  return new BootError(
    'DEPENDENCY_UNAVAILABLE',
    [
      `PostgreSQL at ${describeDatabaseUrl(url)} (DATABASE_URL) is running but refused the connection's credentials: ${reason}.`,
      'Give DATABASE_URL a user and password it accepts, as `USER:PASSWORD@` before the host. To give postgres a password, or to create it:',
      `  sudo -u postgres psql -c "ALTER USER postgres PASSWORD 'choose-one'"   (Debian/Ubuntu: local users connect without one, TCP needs one)`,
      '  createuser -s postgres                                                  (Homebrew: its superuser is your login name, not postgres)',
    ].join('\n'),
  );
}

/**
 * A development Postgres in Docker that DATABASE_URL reaches as it is: its port published on
 * loopback only, its user, no password asked (npm start creates the database).
 */
function dockerRunPostgres(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  const user = decodeURIComponent(url.username);
  const userFlag = user && user !== 'postgres' ? ` -e POSTGRES_USER=${shellQuote(user)}` : '';
  return `docker run -d --name agentic-sdlc-postgres -p 127.0.0.1:${url.port || '5432'}:5432${userFlag} -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16-alpine`;
}

/** What to do when Redis may evict keys (REDIS_EVICTION_CHECK). */
export interface EvictionCheck {
  mode: 'refuse' | 'warn';
  warn(message: string): void;
}

/** What the boot learned from Redis: its maxmemory-policy (undefined: it could not be read, and a warning said so). */
export interface RedisFacts {
  evictionPolicy: string | undefined;
  /** On a cluster, the master whose policy that is (`host:port`) when it is not noeviction. */
  node?: string;
}

/**
 * Reads Redis' `maxmemory-policy`. A Redis that does not allow CONFIG (managed services) is
 * reported through `warn` as not checked, and its policy is undefined.
 */
async function readEvictionPolicy(redis: Redis, url: string, warn: (message: string) => void): Promise<string | undefined> {
  let policy: string | undefined;
  try {
    const reply = (await redis.call('CONFIG', 'GET', 'maxmemory-policy')) as string[];
    policy = reply[1];
  } catch (error) {
    warn(
      `Could not check the maxmemory-policy of Redis at ${redisWhere(url)} (CONFIG GET: ${(error as Error).message}). ` +
        'BullMQ needs "noeviction"; make sure your Redis (or its provider) is set that way.',
    );
    return undefined;
  }
  if (policy === undefined)
    warn(`Could not check the maxmemory-policy of Redis at ${redisWhere(url)} (CONFIG GET returned nothing). BullMQ needs "noeviction".`);
  return policy;
}

/**
 * Refuses (or warns about) a Redis whose `maxmemory-policy` is not `noeviction`: under memory
 * pressure such a Redis deletes keys, and BullMQ's jobs, job locks and queue metadata are keys.
 * The development and test profiles' rule; production lists it with its other refusals instead.
 */
export function enforceEvictionPolicy(
  target: string | RedisTarget,
  policy: string | undefined,
  { mode, warn }: EvictionCheck,
  clusterNode?: string,
): void {
  if (policy === undefined || policy === 'noeviction') return;
  const where = toRedisTarget(target);
  const { hostname, port } = clusterNode ? new URL(`redis://${clusterNode}`) : new URL(where.url);
  const who = isClusterTarget(where)
    ? `The Redis Cluster master ${clusterNode ?? '?'} of ${clusterWhere(where.clusterNodes)}`
    : `Redis at ${redisWhere(where.url)} (REDIS_URL)`;
  const problem =
    `${who} has maxmemory-policy "${policy}"; BullMQ needs "noeviction". ` +
    'When memory runs short, Redis would evict keys, and queued jobs, their locks and queue metadata are keys: stages would never run, or run twice.';
  if (mode === 'warn') {
    warn(`${problem} Starting anyway (REDIS_EVICTION_CHECK=warn).`);
    return;
  }
  throw new BootError(
    'CONFIG_INVALID',
    [
      problem,
      'Fix it with one of:',
      `  redis-cli -h ${hostname} -p ${port || '6379'} CONFIG SET maxmemory-policy noeviction   (then CONFIG REWRITE to keep it across restarts${isClusterTarget(where) ? '; on every master' : ''})`,
      '  maxmemory-policy noeviction                                        (in redis.conf)',
      'or set REDIS_EVICTION_CHECK=warn to start anyway (not recommended; refused in production).',
    ].join('\n'),
  );
}

/** Checks that Redis (or the Redis Cluster) answers (else BootError DEPENDENCY_UNAVAILABLE) and reads its eviction policy. */
export async function probeRedis(target: string | RedisTarget, warn: (message: string) => void): Promise<RedisFacts> {
  const where = toRedisTarget(target);
  if (isClusterTarget(where)) return probeRedisCluster(where, warn);
  const url = where.url;
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let cause: Error | undefined;
  redis.on('error', (error: Error) => {
    cause ??= error;
  });
  try {
    try {
      await redis.connect();
      await redis.ping();
    } catch (error) {
      const reason = (cause ?? (error as Error)).message;
      if (REDIS_CREDENTIALS_REFUSED.test(reason)) throw redisCredentialsRefused(url, reason);
      const notRedis = NOT_REDIS.exec(reason);
      if (notRedis) throw somethingElseAnswers(url, notRedis[1] ?? notRedis[2] ?? '?');
      throw new BootError(
        'DEPENDENCY_UNAVAILABLE',
        [
          `Redis is unreachable at ${redisWhere(url)} (REDIS_URL): ${reason}.`,
          'Start it with one of:',
          `  docker run -d --name agentic-sdlc-redis -p 127.0.0.1:${redisPort(url)}:6379 redis:7-alpine --maxmemory-policy noeviction`,
          '  sudo apt-get install redis-server && sudo systemctl start redis-server   (Debian/Ubuntu)',
          '  brew install redis && brew services start redis                         (macOS)',
          'or point REDIS_URL at a running Redis.',
        ].join('\n'),
      );
    }
    return { evictionPolicy: await readEvictionPolicy(redis, url, warn) };
  } finally {
    redis.disconnect();
  }
}

/** Checks that Redis answers, and, given `eviction`, that it will not evict BullMQ's keys (refuse or warn). */
export async function checkRedis(target: string | RedisTarget, eviction?: EvictionCheck): Promise<void> {
  const facts = await probeRedis(target, eviction?.warn ?? (() => undefined));
  if (eviction) enforceEvictionPolicy(target, facts.evictionPolicy, eviction, facts.node);
}

export async function checkPostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: maintenanceUrl(url), connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    if (isPostgresCredentialRefusal(error)) throw postgresCredentialsRefused(url, (error as Error).message);
    throw new BootError(
      'DEPENDENCY_UNAVAILABLE',
      [
        `PostgreSQL is unreachable at ${describeDatabaseUrl(url)} (DATABASE_URL): ${(error as Error).message}.`,
        'Start it with one of:',
        `  ${dockerRunPostgres(url)}`,
        '  sudo apt-get install postgresql && sudo systemctl start postgresql        (Debian/Ubuntu)',
        '  brew install postgresql@16 && brew services start postgresql@16          (macOS)',
        'or point DATABASE_URL at a running PostgreSQL.',
      ].join('\n'),
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates the database named in the URL when it does not exist yet. */
export async function ensureDatabase(url: string): Promise<boolean> {
  const { database } = toPgConnection(url);
  const client = new pg.Client({ connectionString: maintenanceUrl(url) });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount) return false;
    await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
    return true;
  } finally {
    await client.end();
  }
}

/** Migration folders in the repo that the database has not applied. */
export async function pendingMigrations(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: toPgConnection(url).connectionString });
  try {
    await client.connect();
  } catch (error) {
    if ((error as { code?: string }).code === '3D000') {
      throw new BootError(
        'CONFIG_INVALID',
        `The database at ${describeDatabaseUrl(url)} does not exist.\n` +
          'Create it and apply the migrations with `npm run db:migrate` (or `npm start`, which does both), then start again.',
      );
    }
    throw error;
  }
  try {
    return await readPendingMigrations(client);
  } finally {
    await client.end();
  }
}

/** Refuses to start on a database whose migrations are behind. */
export async function assertMigrationsCurrent(url: string): Promise<void> {
  const pending = await pendingMigrations(url);
  if (pending.length > 0) {
    throw new BootError(
      'CONFIG_INVALID',
      `The database at ${describeDatabaseUrl(url)} is behind: ${pending.length} migration(s) not applied (${pending.join(', ')}).\n` +
        'Apply them with `npm run db:migrate` (or `npm start`, which applies them itself), then start again.',
    );
  }
}

/** Creates the database if needed and applies pending migrations with `prisma migrate deploy`. */
export async function migrateDatabase(url: string): Promise<string[]> {
  await ensureDatabase(url);
  const pending = await pendingMigrations(url);
  if (pending.length === 0) return [];
  try {
    await run(process.execPath, [PRISMA_CLI, 'migrate', 'deploy'], {
      env: { ...process.env, DATABASE_URL: url, CHECKPOINT_DISABLE: '1', PRISMA_HIDE_UPDATE_MESSAGE: '1' },
    });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new BootError('CONFIG_INVALID', `prisma migrate deploy failed:\n${stdout}${stderr}`);
  }
  return pending;
}

/** Loads the decision policy named by DECISION_POLICY_FILE; a bad one stops the boot, naming each field. */
export function loadPolicyOrFail(path: string): DecisionPolicy {
  try {
    return loadDecisionPolicy(path);
  } catch (error) {
    throw new BootError(
      'CONFIG_INVALID',
      `${(error as Error).message}\n  Fix the file or point DECISION_POLICY_FILE at a valid one (see docs/human-in-the-loop.md).`,
    );
  }
}
