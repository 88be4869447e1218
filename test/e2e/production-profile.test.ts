// The production profile on the real entry: `src/server.ts` with NODE_ENV=production and bad values
// exits 1 naming every reason on stderr, one line each, no secret value printed; with good values
// (a Redis that requires a password, strong secrets) it starts. `config print` run as a child
// process masks what it prints, and so does /health/detailed's `config` section (operators only).
// Private redis-servers; the shared one is never reconfigured.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { expect } from 'chai';
import { startPrivateRedis, type PrivateRedis } from '../support/chaos/private-redis.js';
import { RATE_LIMITS_OFF } from '../support/rate-limits-off.js';
import { startHarness, type Harness } from '../support/harness.js';
import { bearer, request } from '../support/http.js';
import { childEnv } from '../support/test-redis.js';

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs an entry until it exits, or until `ready` shows in its output (then SIGTERM); SIGKILL after the timeout. */
async function run(args: string[], env: Record<string, string>, ready?: RegExp, timeoutMs = 60_000): Promise<Exit> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const exited = once(child, 'exit') as Promise<[number | null]>;
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const look = () => {
    if (ready?.test(stdout + stderr) && child.exitCode === null) child.kill('SIGTERM');
  };
  child.stdout.on('data', (c: Buffer) => ((stdout += c.toString()), look()));
  child.stderr.on('data', (c: Buffer) => ((stderr += c.toString()), look()));
  const [code] = await exited;
  clearTimeout(timer);
  return { code, stdout, stderr };
}

const strong = (seed: string) => createHash('sha256').update(`production-profile-${seed}`).digest('hex');

/** Rate limits on (the root hooks turn them off for every process a test starts; production refuses 0). */
const RATE_LIMITS_ON = Object.fromEntries(Object.keys(RATE_LIMITS_OFF).map((name) => [name, '100']));

describe('production profile (e2e, real entry processes)', () => {
  let evicting: PrivateRedis;
  let guarded: PrivateRedis;
  const redisPassword = strong('redis');
  const testUrl = () => process.env.TEST_DATABASE_URL!;

  before(async () => {
    evicting = await startPrivateRedis();
    await evicting.command('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
    guarded = await startPrivateRedis();
    await guarded.command('CONFIG', 'SET', 'requirepass', redisPassword);
  });
  after(async () => {
    await Promise.all([evicting?.close(), guarded?.close()]);
  });

  it('api with bad values: exits 1 naming every reason on stderr, one line each, never a secret value', async () => {
    const weak = 'a'.repeat(32);
    const { code, stdout, stderr } = await run(['src/server.ts'], {
      NODE_ENV: 'production',
      DATABASE_URL: testUrl(), // no password
      REDIS_URL: evicting.url, // no password, allkeys-lru
      METRICS_TOKEN: weak,
      WEBHOOK_URLS: 'https://hooks.example.com/in',
      WEBHOOK_SECRET: weak, // weak, and the same as METRICS_TOKEN
      JWT_SECRET: 'change-me-jwt-secret-from-the-example',
      JWT_ISSUER: 'https://id.example.com',
      JWT_AUDIENCE: 'agentic-sdlc',
      HTTP_BODY_LIMIT: '100mb',
      ...RATE_LIMITS_OFF, // 0: refused
      HOST: '203.0.113.7',
      NODE_TLS_REJECT_UNAUTHORIZED: '0',
      REDIS_EVICTION_CHECK: 'warn',
      LOG_LEVEL: 'warn',
    });
    expect(code, stderr).to.equal(1);
    const reasons = stderr.split('\n').filter((line) => line.startsWith('  - '));
    const fields = reasons.map((line) => line.slice(4).split(':')[0]);
    expect(fields).to.have.members([
      'DATABASE_URL',
      'REDIS_URL',
      'WEBHOOK_SECRET',
      'METRICS_TOKEN',
      'JWT_SECRET',
      'WEBHOOK_SECRET',
      'REDIS_EVICTION_CHECK',
      'REDIS_URL',
      'HTTP_BODY_LIMIT',
      'RATE_LIMIT_PER_ADDRESS',
      'RATE_LIMIT_PER_IDENTITY',
      'RATE_LIMIT_SUBMIT',
      'RATE_LIMIT_AUTH_FAILURES',
      'NODE_TLS_REJECT_UNAUTHORIZED',
      'HOST',
    ]);
    expect(stderr).to.match(/Refusing to start: the production profile \(NODE_ENV=production\) does not accept 15 setting\(s\):/);
    expect(stderr).to.contain('maxmemory-policy "allkeys-lru"');
    expect(stderr).to.contain('REDIS_URL: has no password');
    expect(stderr).to.contain('JWT_SECRET: is a placeholder from .env.production.example');
    expect(stderr).to.contain('WEBHOOK_SECRET: has the same value as METRICS_TOKEN');
    for (const secret of [weak, 'change-me-jwt-secret-from-the-example']) expect(stdout + stderr).not.to.contain(secret);
    expect(stderr).not.to.match(/\n\s+at /);
  });

  it('api with good values (a Redis with a password and noeviction, strong secrets, rate limits on): starts, stops with 0', async () => {
    const database = new URL(testUrl());
    database.password = strong('database'); // the local Postgres trusts, and ignores it
    const redis = new URL(guarded.url);
    redis.password = redisPassword;
    const { code, stdout, stderr } = await run(
      ['src/server.ts'],
      {
        NODE_ENV: 'production',
        DATABASE_URL: database.toString(),
        REDIS_URL: redis.toString(),
        METRICS_TOKEN: strong('metrics'),
        ...RATE_LIMITS_ON,
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'info',
      },
      /api listening/,
    );
    expect(stdout + stderr).to.contain('api listening');
    expect(code, stdout + stderr).to.equal(0);
    for (const secret of [strong('metrics'), redisPassword, strong('database')]) expect(stdout + stderr).not.to.contain(secret);
  });

  it('cli config print (text and --json): the effective configuration, secrets and URL passwords masked, sources named', async () => {
    const env = {
      NODE_ENV: 'production',
      DATABASE_URL: `postgresql://agentic:${strong('print-db')}@db.internal:5432/agentic_sdlc?sslmode=require`,
      REDIS_URL: `rediss://default:${strong('print-redis')}@cache.internal:6380`,
      METRICS_TOKEN: strong('print-metrics'),
      ...RATE_LIMITS_ON,
    };
    const text = await run(['src/cli.ts', 'config', 'print'], env);
    expect(text.code, text.stderr).to.equal(0);
    expect(text.stdout).to.contain('profile: production');
    expect(text.stdout).to.match(/METRICS_TOKEN\s+••••\(64\)\s+\(env\)/);
    expect(text.stdout).to.match(/DATABASE_URL\s+postgresql:\/\/agentic:••••@db\.internal:5432\/agentic_sdlc\?sslmode=require/);
    expect(text.stdout).to.match(/HOST\s+0\.0\.0\.0\s+\(default\)/);
    const json = await run(['src/cli.ts', 'config', 'print', '--json'], env);
    const printed = JSON.parse(json.stdout) as { profile: string; variables: Array<{ name: string; value: unknown; source: string }> };
    expect(printed.profile).to.equal('production');
    expect(printed.variables.find((v) => v.name === 'REDIS_URL')).to.deep.include({
      value: 'rediss://default:••••@cache.internal:6380',
      source: 'env',
    });
    for (const secret of [strong('print-db'), strong('print-redis'), strong('print-metrics')])
      expect(text.stdout + json.stdout).not.to.contain(secret);
  });
});

describe('/health/detailed: the configuration, masked, for operators (e2e, harness)', () => {
  let h: Harness;
  const S = { metrics: strong('h-metrics'), jwt: strong('h-jwt'), webhook: strong('h-webhook'), hookToken: strong('h-hook-token') };
  before(async () => {
    h = await startHarness({
      workers: 0,
      env: {
        METRICS_TOKEN: S.metrics,
        JWT_SECRET: S.jwt,
        JWT_ISSUER: 'https://id.example.com',
        JWT_AUDIENCE: 'agentic-sdlc',
        WEBHOOK_URLS: `https://hooks.example.com/in?token=${S.hookToken}`,
        WEBHOOK_SECRET: S.webhook,
      },
    });
  });
  after(async () => {
    await h?.close();
  });

  it('an operator sees every variable with secrets as ••••(length) and URL credentials masked; a viewer gets 403', async () => {
    const operator = await h.createKey('config-operator', ['operator']);
    const res = await request(h.baseUrl, 'GET', '/health/detailed', undefined, bearer(operator.key));
    expect(res.status).to.equal(200);
    const config = res.body.config as Record<string, unknown>;
    expect(config).to.include({ NODE_ENV: 'test', METRICS_TOKEN: '••••(64)', JWT_SECRET: '••••(64)', WEBHOOK_SECRET: '••••(64)' });
    expect(config.WEBHOOK_URLS).to.deep.equal(['https://hooks.example.com/••••?token=••••']);
    const text = JSON.stringify(res.body);
    for (const secret of Object.values(S)) expect(text).not.to.contain(secret);

    const viewer = await h.createKey('config-viewer', ['viewer']);
    const refused = await request(h.baseUrl, 'GET', '/health/detailed', undefined, bearer(viewer.key));
    expect(refused.status).to.equal(403);
    expect(JSON.stringify(refused.body)).not.to.contain('METRICS_TOKEN');
  });
});
