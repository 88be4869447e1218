// Start-up behaviour of the real entry points: unreachable services, a Redis that may evict
// keys and stale migrations are refused with a message that says what, where and how to fix it,
// never a stack trace. In development the first start makes an admin key file and names it in its
// ready line (a later start reuses it); in test (every other entry here) no key file is written.
import { freePort, pollUntil } from '../support/chaos/free-port.js';
import { deleteKeys } from '../support/harness.js';
import { createTestKey } from '../support/keys.js';
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pendingMigrations } from '../../src/infra/boot/boot-checks.js';
import { createDatabase } from '../../src/infra/db/database.js';
import { createApiKeyRepository } from '../../src/infra/db/api-key.repository.js';
import { createApiKeyService } from '../../src/services/api-key.service.js';
import { dropSchema, schemaUrl } from '../support/test-database.js';
import { childEnv, runRedisUrl } from '../support/test-redis.js';

interface Exit {
  code: number | null;
  output: string;
}

async function runEntry(entry: string, env: Record<string, string>, args: string[] = [], timeoutMs = 60_000): Promise<Exit> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    // NODE_ENV=test unless a test says otherwise: a development start would write an admin key file.
    env: childEnv({ NODE_ENV: 'test', LOG_LEVEL: 'warn', QUEUE_PREFIX: `{boot-${randomBytes(3).toString('hex')}}`, ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, output };
}

/** Starts an entry, waits until its output matches `ready`, then stops it with SIGTERM. */
async function runUntilReady(entry: string, env: Record<string, string>, ready: RegExp, timeoutMs = 60_000): Promise<Exit> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: childEnv({
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      QUEUE_PREFIX: `{boot-${randomBytes(3).toString('hex')}}`,
      PORT: '0',
      ...env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = once(child, 'exit') as Promise<[number | null]>;
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await new Promise<void>((resolve) => {
    const look = (c: Buffer) => {
      output += c.toString();
      if (ready.test(output)) resolve();
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    void exited.then(() => resolve());
  });
  child.kill('SIGTERM');
  const [code, signal] = (await exited) as unknown as [number | null, string | null];
  clearTimeout(timer);
  return { code, output: signal ? `${output}\n[killed by ${signal}]` : output };
}

/** A private redis-server on a free port (the shared one on 6379 is never reconfigured). */
async function startRedis(args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args], {
    stdio: 'ignore',
  });
  const url = `redis://127.0.0.1:${port}`;
  await waitUntilRedisAnswers(url);
  return { url, child };
}

/** Resolves once a Redis at `url` (credentials included) answers PING. */
async function waitUntilRedisAnswers(url: string): Promise<void> {
  for (let i = 0; ; i++) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      return;
    } catch (error) {
      if (i > 50) throw error;
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      probe.disconnect();
    }
  }
}

/** The JSON log line whose message is `msg`. */
function logLine(output: string, msg: string): Record<string, unknown> {
  const line = output.split('\n').find((l) => l.includes(`"message":"${msg}"`));
  if (!line) throw new Error(`no "${msg}" line in:\n${output}`);
  return JSON.parse(line) as Record<string, unknown>;
}

describe('boot checks (e2e, real entry processes)', () => {
  const testUrl = () => process.env.TEST_DATABASE_URL!;

  describe('the development admin key', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'dev-admin-key-'));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('api in development: the first start writes an admin key (0600 in a 0700 folder) and names the file in its ready line; npm start reuses it', async () => {
      const file = join(dir, 'keys', 'admin-key');
      const env = { NODE_ENV: 'development', LOG_FORMAT: 'json', DATABASE_URL: testUrl(), DEV_ADMIN_KEY_FILE: file, HOST: '127.0.0.1' };
      const first = await runUntilReady('src/server.ts', env, /api listening/);
      expect(first.code, first.output).to.equal(0);
      expect(logLine(first.output, 'api listening')).to.include({ adminKeyFile: file });
      expect((await stat(file)).mode & 0o777).to.equal(0o600);
      expect((await stat(join(dir, 'keys'))).mode & 0o777).to.equal(0o700);
      const key = (await readFile(file, 'utf8')).trim();
      expect(key).to.match(/^sdlc_/);
      expect(first.output, 'no log line carries the key').not.to.include(key);

      const db = createDatabase(testUrl(), 1);
      try {
        const keys = createApiKeyService({ repo: createApiKeyRepository(db) });
        const identity = await keys.authenticate(key);
        expect(identity.roles).to.include('admin');
        expect(identity.id).to.match(/^dev-admin/);
      } finally {
        await db.close();
      }

      const again = await runUntilReady('src/main.ts', env, /agentic-sdlc is up/);
      expect(again.code, again.output).to.equal(0);
      expect(logLine(again.output, 'agentic-sdlc is up')).to.include({ adminKeyFile: file, adminKeyCreated: false });
      expect((await readFile(file, 'utf8')).trim(), 'the key still authenticates: reused').to.equal(key);
    });

    it('api in test: no key file is written and the ready line names none', async () => {
      const file = join(dir, 'test-mode', 'admin-key');
      const { code, output } = await runUntilReady(
        'src/server.ts',
        { NODE_ENV: 'test', DATABASE_URL: testUrl(), DEV_ADMIN_KEY_FILE: file },
        /api listening/,
      );
      expect(code, output).to.equal(0);
      expect(logLine(output, 'api listening')).not.to.have.property('adminKeyFile');
      const missing = await stat(file).then(
        () => false,
        (error: NodeJS.ErrnoException) => error.code === 'ENOENT',
      );
      expect(missing, 'no key file').to.equal(true);
    });
  });

  it('PORT=0: the ready lines (api listening; agentic-sdlc is up, its links and tryIt) name the port the API took, not 0', async () => {
    const env = { NODE_ENV: 'test', LOG_FORMAT: 'json', DATABASE_URL: testUrl(), PORT: '0', HOST: '127.0.0.1' };
    const api = await runUntilReady('src/server.ts', env, /api listening/);
    expect(api.code, api.output).to.equal(0);
    const listening = logLine(api.output, 'api listening');
    expect(String(listening.url)).to.match(/^http:\/\/127\.0\.0\.1:[1-9]\d*$/);
    // The API alone names what an operator opens too (docs/observability.md, "Start and stop").
    for (const field of ['dashboard', 'bullBoard', 'health', 'metrics'])
      expect(String(listening[field]), field).to.contain(`${String(listening.url)}/`);

    const all = await runUntilReady('src/main.ts', env, /agentic-sdlc is up/);
    expect(all.code, all.output).to.equal(0);
    const ready = logLine(all.output, 'agentic-sdlc is up');
    const port = /^http:\/\/127\.0\.0\.1:(\d+)\/api\/v1$/.exec(String(ready.api))?.[1];
    expect(Number(port), String(ready.api)).to.be.greaterThan(0);
    for (const field of ['dashboard', 'bullBoard', 'health', 'metrics', 'tryIt'])
      expect(String(ready[field]), field).to.contain(`http://127.0.0.1:${port}/`);
  });

  it('HOST=::1: the ready lines name http://[::1]:port, and the Try it command printed there reaches the API', async () => {
    const prefix = `{boot-${randomBytes(3).toString('hex')}}`;
    const env = {
      NODE_ENV: 'test',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      DATABASE_URL: testUrl(),
      PORT: '0',
      HOST: '::1',
      QUEUE_PREFIX: prefix,
    };
    const api = await runUntilReady('src/server.ts', env, /api listening/);
    expect(api.code, api.output).to.equal(0);
    expect(String(logLine(api.output, 'api listening').url)).to.match(/^http:\/\/\[::1\]:[1-9]\d*$/);

    // The whole platform, kept running until its own Try it line has been run.
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = once(child, 'exit');
    try {
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      await pollUntil('agentic-sdlc is up', async () => output.includes('"message":"agentic-sdlc is up"'), 60_000, 100);
      const ready = logLine(output, 'agentic-sdlc is up');
      expect(String(ready.api)).to.match(/^http:\/\/\[::1\]:[1-9]\d*\/api\/v1$/);
      // The test profile writes no key file: the line asks for $SDLC_API_KEY.
      const { key } = await createTestKey(testUrl(), 'host-v6', ['submitter']);
      const tried = spawnSync('bash', ['-c', `${String(ready.tryIt)} -o /dev/null -w '%{http_code}'`], {
        env: { ...process.env, SDLC_API_KEY: key },
        encoding: 'utf8',
      });
      expect(tried.stdout, tried.stderr).to.equal('202');
    } finally {
      child.kill('SIGTERM');
      await exited;
      await deleteKeys(runRedisUrl(), prefix);
    }
  });

  describe('Redis maxmemory-policy', () => {
    let evicting: { url: string; child: ChildProcess };
    let noConfig: { url: string; child: ChildProcess };
    before(async () => {
      evicting = await startRedis(['--maxmemory-policy', 'allkeys-lru']);
      // A managed Redis that does not allow CONFIG.
      noConfig = await startRedis(['--rename-command', 'CONFIG', '']);
    });
    after(() => {
      for (const redis of [evicting, noConfig]) redis?.child.kill('SIGKILL');
    });

    it('api on a Redis with allkeys-lru (REDIS_EVICTION_CHECK=refuse, the production default): exits 1 saying why and how to fix it', async () => {
      const { code, output } = await runEntry('src/server.ts', {
        DATABASE_URL: testUrl(),
        REDIS_URL: evicting.url,
        REDIS_EVICTION_CHECK: 'refuse',
      });
      expect(code, output).to.equal(1);
      expect(output).to.contain('has maxmemory-policy "allkeys-lru"; BullMQ needs "noeviction"');
      expect(output).to.contain('Redis would evict keys');
      expect(output).to.contain('CONFIG SET maxmemory-policy noeviction');
      expect(output).to.contain('redis.conf');
      expect(output).to.contain('REDIS_EVICTION_CHECK=warn');
      expect(output).to.not.match(/\n\s+at /);
    });

    it('worker on a Redis with allkeys-lru and REDIS_EVICTION_CHECK=refuse: refused the same way', async () => {
      const { code, output } = await runEntry('src/worker.ts', {
        DATABASE_URL: testUrl(),
        REDIS_URL: evicting.url,
        REDIS_EVICTION_CHECK: 'refuse',
      });
      expect(code, output).to.equal(1);
      expect(output).to.contain('maxmemory-policy "allkeys-lru"');
    });

    it('worker on a Redis with allkeys-lru and REDIS_EVICTION_CHECK=warn (the test profile default): warns, starts, stops with 0', async () => {
      const { code, output } = await runUntilReady(
        'src/worker.ts',
        { DATABASE_URL: testUrl(), REDIS_URL: evicting.url, REDIS_EVICTION_CHECK: 'warn' },
        /worker process ready/,
      );
      expect(output).to.contain('worker process ready');
      expect(output).to.contain('maxmemory-policy \\"allkeys-lru\\"');
      expect(output).to.contain('Starting anyway (REDIS_EVICTION_CHECK=warn)');
      expect(code, output).to.equal(0);
    });

    it('api on a Redis that refuses CONFIG (managed): warns that it could not check, starts, stops with 0', async () => {
      const { code, output } = await runUntilReady('src/server.ts', { DATABASE_URL: testUrl(), REDIS_URL: noConfig.url }, /api listening/);
      expect(output).to.contain('api listening');
      expect(output).to.contain('Could not check the maxmemory-policy');
      expect(code, output).to.equal(0);
    });
  });

  it('api with Redis unreachable: exits 1 naming Redis, the address and how to start it', async () => {
    const { code, output } = await runEntry('src/server.ts', { DATABASE_URL: testUrl(), REDIS_URL: 'redis://127.0.0.1:1' });
    expect(code).to.equal(1);
    expect(output).to.contain('Redis is unreachable at 127.0.0.1:1 (REDIS_URL)');
    // The Docker line publishes the very port REDIS_URL names, with no password (docker compose's Redis has one and no published port).
    expect(output).to.contain('docker run -d --name agentic-sdlc-redis -p 127.0.0.1:1:6379 redis:7-alpine --maxmemory-policy noeviction');
    expect(output).to.not.contain('docker compose');
    expect(output).to.not.match(/\n\s+at /);
  });

  it('api with REDIS_URL pointing at an HTTP server: exits 1 saying something else answers there, not Redis, no parser jargon', async () => {
    const http = createHttpServer((_req, res) => res.end('hello'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = http.address() as AddressInfo;
      const { code, output } = await runEntry('src/server.ts', { DATABASE_URL: testUrl(), REDIS_URL: `redis://127.0.0.1:${port}` });
      expect(code, output).to.equal(1);
      expect(output, output).to.contain(
        `Something answers at 127.0.0.1:${port} (REDIS_URL), but it is not Redis (it answered like an HTTP server)`,
      );
      expect(output).to.contain("Point REDIS_URL at Redis's port");
      expect(output).to.not.match(/RESP|Please report this|\n\s+at /);
    } finally {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    }
  });

  it('api on a Redis that requires a password, REDIS_URL without one: exits 1 saying it runs and wants the password in REDIS_URL', async () => {
    const port = await freePort();
    const redis = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', 'boot-test-pass'],
      {
        stdio: 'ignore',
      },
    );
    try {
      await waitUntilRedisAnswers(`redis://:boot-test-pass@127.0.0.1:${port}`);
      const { code, output } = await runEntry('src/server.ts', { DATABASE_URL: testUrl(), REDIS_URL: `redis://127.0.0.1:${port}` });
      expect(code, output).to.equal(1);
      expect(output).to.contain(`Redis at 127.0.0.1:${port} (REDIS_URL) is running but refused the connection's credentials: NOAUTH`);
      expect(output).to.contain('Put the password it requires in REDIS_URL, as `:PASSWORD@` before the host');
      expect(output).to.not.contain('unreachable');
      expect(output).to.not.match(/\n\s+at /);
    } finally {
      redis.kill('SIGKILL');
    }
  });

  it('api with a Postgres role that does not exist (Homebrew has no postgres role): exits 1 saying the server runs and refused the user', async () => {
    const url = new URL(testUrl());
    url.username = `nobody_${randomBytes(3).toString('hex')}`;
    const { code, output } = await runEntry('src/server.ts', { DATABASE_URL: url.toString() });
    expect(code, output).to.equal(1);
    expect(output).to.contain("(DATABASE_URL) is running but refused the connection's credentials: role");
    expect(output).to.contain('Give DATABASE_URL a user and password it accepts');
    expect(output).to.not.contain('unreachable');
    expect(output).to.not.match(/\n\s+at /);
  });

  it('worker with Postgres unreachable: exits 1 naming PostgreSQL, the address and how to start it', async () => {
    const { code, output } = await runEntry('src/worker.ts', { DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/agentic_sdlc' });
    expect(code).to.equal(1);
    expect(output).to.contain('PostgreSQL is unreachable at 127.0.0.1:1/agentic_sdlc (DATABASE_URL)');
    expect(output).to.contain(
      'docker run -d --name agentic-sdlc-postgres -p 127.0.0.1:1:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16-alpine',
    );
    expect(output).to.not.contain('docker compose');
    expect(output).to.not.match(/\n\s+at /);
  });

  it('api on a database that does not exist: exits 1 naming it and the command that creates it', async () => {
    const url = new URL(testUrl());
    url.pathname = `/missing_${randomBytes(3).toString('hex')}`;
    url.search = '';
    const { code, output } = await runEntry('src/server.ts', { DATABASE_URL: url.toString() });
    expect(code).to.equal(1);
    expect(output).to.contain('does not exist');
    expect(output).to.contain('npm run db:migrate');
    expect(output).to.not.match(/\n\s+at /);
  });

  it('api on a port already in use: exits 1 with one line naming PORT and the address, no stack', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const { code, output } = await runEntry('src/server.ts', { DATABASE_URL: testUrl(), PORT: String(port), HOST: '127.0.0.1' });
      expect(code, output).to.equal(1);
      expect(output).to.contain(`PORT: 127.0.0.1:${port} is already in use`);
      expect(output).to.contain('set PORT to a free port');
      expect(output).to.not.contain('Unhandled');
      expect(output).to.not.match(/\n\s+at /);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });

  it('a bad variable: exits 1 naming it', async () => {
    const { code, output } = await runEntry('src/server.ts', { PORT: 'eighty' });
    expect(code).to.equal(1);
    expect(output).to.contain('PORT');
    expect(output).to.not.match(/\n\s+at /);
  });

  it('unknown agent for a worker: exits 1 listing the known agents', async () => {
    const child = await runEntry('src/worker.ts', { DATABASE_URL: testUrl() }, ['--agents', 'noop,nope']);
    expect(child.code).to.equal(1);
    expect(child.output).to.contain('--agents: unknown agent type(s): nope');
  });

  it('migrations behind: api and worker refuse to start and name `npm run db:migrate`; db:migrate fixes it', async () => {
    const schema = `t_boot_${randomBytes(3).toString('hex')}`;
    const url = schemaUrl(schema);
    try {
      for (const entry of ['src/server.ts', 'src/worker.ts']) {
        const { code, output } = await runEntry(entry, { DATABASE_URL: url });
        expect(code, output).to.equal(1);
        expect(output).to.contain('migration(s) not applied');
        expect(output).to.contain('npm run db:migrate');
      }
      const migrated = await runEntry('src/db-migrate.ts', { DATABASE_URL: url });
      expect(migrated.code, migrated.output).to.equal(0);
      const migrations = readdirSync('prisma/migrations', { withFileTypes: true }).filter((e) => e.isDirectory()).length;
      expect(migrated.output).to.contain(`Applied ${migrations} migration(s)`);
      expect(await pendingMigrations(url)).to.deep.equal([]);
      const again = await runEntry('src/db-migrate.ts', { DATABASE_URL: url });
      expect(again.output).to.contain('is up to date');
    } finally {
      await dropSchema(schema);
    }
  });
});
