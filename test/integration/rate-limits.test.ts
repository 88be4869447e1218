// Rate limits (issue 11, item 1) against the real Redis and Postgres: the draft-8 headers, 429
// with Retry-After and a JSON code from each limiter (per address before authentication, per
// identity after it, submissions, failed authentications), X-Forwarded-For believed for exactly
// TRUST_PROXY hops, and the limiter letting requests through (counted) while its Redis is
// unreachable, then limiting again by itself. Windows are 10 minutes: none ends mid-test.
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import { AuthenticationError } from '../../src/domain/errors.js';
import type { Identity } from '../../src/domain/identity.js';
import { authenticate } from '../../src/http/middleware/authenticate.js';
import { errorHandler } from '../../src/http/middleware/errors.js';
import { createRateLimiters } from '../../src/http/middleware/rate-limit.js';
import { captureLogger } from '../support/capture-logger.js';
import { requestId } from '../../src/http/middleware/request-id.js';
import { redisRateLimitStores } from '../../src/infra/rate-limit/redis-rate-limit-store.js';
import { createLogger } from '../../src/infra/telemetry/logger.js';
import { pollUntil } from '../support/chaos/free-port.js';
import { deleteKeys, startHarness, testPrefix, type Harness } from '../support/harness.js';
import { ANONYMOUS, bearer, expectError, markNotTheApi, request, type JsonResponse, type Loose } from '../support/http.js';
import { sampleValue } from '../support/promtool.js';
import { tcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { openTestRedis, runRedisUrl, singleServerRedisUrl } from '../support/test-redis.js';
import type { RedisClient } from '../../src/infra/queue/redis-connection.js';

const WINDOW_S = 600;
const LIMITS = { RATE_LIMIT_WINDOW_MS: String(WINDOW_S * 1000) };
const WHOAMI = '/api/v1/whoami';
const silent = createLogger({ level: 'error', service: 'test', silent: true });

/** `r` (remaining) of one limiter in the draft-8 `RateLimit` header; undefined when it is absent. */
function remaining(res: JsonResponse<Loose>, limiter: string): number | undefined {
  const match = new RegExp(`"${limiter}"; r=(\\d+); t=(\\d+)`).exec(res.headers.get('ratelimit') ?? '');
  return match ? Number(match[1]) : undefined;
}

/** A 429 of ours: the code, Retry-After (whole seconds within the window), the budget named, retryable. */
function expectLimited(res: JsonResponse<Loose>, code: string, variable: string): void {
  expectError(res, 429, code);
  const retryAfter = res.headers.get('retry-after');
  expect(retryAfter, 'Retry-After').to.match(/^\d+$/);
  expect(Number(retryAfter)).to.be.within(1, WINDOW_S);
  expect(res.body.error.message).to.include(variable);
  expect(res.body.error.category).to.equal('rate_limited');
  expect(res.body.error.retryable).to.equal(true);
}

let lastOctet = 0;
/** A client address of its own per test (TEST-NET-3), sent as the nearest X-Forwarded-For hop. */
const newAddress = () => `203.0.113.${++lastOctet}`;

describe('rate limits (integration)', () => {
  describe('every limiter on, TRUST_PROXY=1', () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({
        workers: 0,
        env: {
          ...LIMITS,
          RATE_LIMIT_PER_ADDRESS: '8',
          RATE_LIMIT_PER_IDENTITY: '5',
          RATE_LIMIT_SUBMIT: '2',
          RATE_LIMIT_AUTH_FAILURES: '3',
          TRUST_PROXY: '1',
        },
      });
    });
    after(async () => {
      await h?.close();
    });
    const viewer = async (name: string) => bearer((await h.createKey(name, ['viewer'])).key);
    const get = (path: string, auth: Record<string, string>, address: string) =>
      request(h.baseUrl, 'GET', path, undefined, { ...auth, 'x-forwarded-for': address });

    it('a normal answer carries each limiter in RateLimit and RateLimit-Policy (draft 8), no X-RateLimit-*; the probes are never limited', async () => {
      const auth = await viewer('rl-headers');
      const address = newAddress();
      const res = await get(WHOAMI, auth, address);
      expect(res.status).to.equal(200);
      expect(remaining(res, 'per-address')).to.equal(7);
      expect(remaining(res, 'per-identity')).to.equal(4);
      const policy = res.headers.get('ratelimit-policy') ?? '';
      expect(policy).to.include(`"per-address"; q=8; w=${WINDOW_S}`);
      expect(policy).to.include(`"per-identity"; q=5; w=${WINDOW_S}`);
      expect(res.headers.get('x-ratelimit-limit')).to.equal(null);
      expect(res.headers.get('retry-after')).to.equal(null);

      for (let i = 0; i < 10; i++) {
        for (const probe of ['/health', '/health/ready']) {
          const answer = await request(h.baseUrl, 'GET', probe, undefined, { ...ANONYMOUS, 'x-forwarded-for': address });
          expect(answer.status, probe).to.equal(200);
          expect(answer.headers.get('ratelimit'), probe).to.equal(null);
        }
      }
      // Twenty probes later the address has spent one request of eight, plus this one.
      expect(remaining(await get(WHOAMI, auth, address), 'per-address')).to.equal(6);
    });

    it('per identity: the sixth request gets 429 RATE_LIMITED with Retry-After, from any address; another identity is served', async () => {
      const auth = await viewer('rl-identity');
      const address = newAddress();
      for (let i = 0; i < 5; i++) expect((await get(WHOAMI, auth, address)).status).to.equal(200);
      const refused = await get(WHOAMI, auth, address);
      expectLimited(refused, 'RATE_LIMITED', 'RATE_LIMIT_PER_IDENTITY');
      expect(remaining(refused, 'per-identity')).to.equal(0);
      expectLimited(await get(WHOAMI, auth, newAddress()), 'RATE_LIMITED', 'RATE_LIMIT_PER_IDENTITY');
      expect((await get(WHOAMI, await viewer('rl-identity-other'), address)).status).to.equal(200);
    });

    it('per address, before authentication: the ninth request from an address gets 429 RATE_LIMITED whatever its credential, even none; another address is served', async () => {
      const address = newAddress();
      const [a, b, c] = [await viewer('rl-address-a'), await viewer('rl-address-b'), await viewer('rl-address-c')];
      for (let i = 0; i < 4; i++) {
        expect((await get(WHOAMI, a, address)).status).to.equal(200);
        expect((await get(WHOAMI, b, address)).status).to.equal(200);
      }
      expectLimited(await get(WHOAMI, c, address), 'RATE_LIMITED', 'RATE_LIMIT_PER_ADDRESS');
      // Refused before any credential is looked at: no 401 for none or a bad one.
      expectLimited(await get(WHOAMI, ANONYMOUS, address), 'RATE_LIMITED', 'RATE_LIMIT_PER_ADDRESS');
      expectLimited(await get(WHOAMI, bearer('sdlc_not-a-key'), address), 'RATE_LIMITED', 'RATE_LIMIT_PER_ADDRESS');
      expect((await get(WHOAMI, c, newAddress())).status).to.equal(200);
    });

    it('POST /pipelines: the third submission gets 429 SUBMIT_RATE_LIMITED and records nothing, while reads are served; a caller without the right spends no submit budget', async () => {
      const submitter = bearer((await h.createKey('rl-submit', ['submitter'])).key);
      const address = newAddress();
      const name = `rl-submit-${randomBytes(4).toString('hex')}`;
      const submit = (auth: Record<string, string>) =>
        request(
          h.baseUrl,
          'POST',
          '/api/v1/pipelines',
          { name, stages: [{ key: 'a', agent: 'noop' }] },
          { ...auth, 'x-forwarded-for': address },
        );
      expect((await submit(submitter)).status).to.equal(202);
      expect((await submit(submitter)).status).to.equal(202);
      const refused = await submit(submitter);
      expectLimited(refused, 'SUBMIT_RATE_LIMITED', 'RATE_LIMIT_SUBMIT');
      expect(remaining(refused, 'submit')).to.equal(0);
      expect(remaining(refused, 'per-identity')).to.equal(2);
      expect(await h.db.prisma.pipeline.count({ where: { name } })).to.equal(2);
      expect((await get(WHOAMI, submitter, address)).status).to.equal(200);

      const reader = await viewer('rl-submit-viewer');
      for (let i = 0; i < 3; i++) expectError(await submit(reader), 403, 'FORBIDDEN');
    });

    it('failed authentications: after three 401s an address gets 429 AUTH_RATE_LIMITED, a valid key included; successes in between do not count', async () => {
      const auth = await viewer('rl-auth');
      const address = newAddress();
      const bad = bearer(`sdlc_${'x'.repeat(50)}`);
      const first = await get(WHOAMI, bad, address);
      expect(first.status).to.equal(401);
      expect(remaining(first, 'auth-failures')).to.equal(2);
      expect((await get(WHOAMI, bad, address)).status).to.equal(401);
      for (let i = 0; i < 3; i++) expect((await get(WHOAMI, auth, address)).status).to.equal(200);
      const third = await get(WHOAMI, bad, address);
      expect(third.status).to.equal(401);
      expect(remaining(third, 'auth-failures')).to.equal(0);

      const refused = await get(WHOAMI, auth, address);
      expectLimited(refused, 'AUTH_RATE_LIMITED', 'RATE_LIMIT_AUTH_FAILURES');
      expect(refused.headers.get('www-authenticate')).to.equal(null);
      expect(refused.headers.get('ratelimit-policy')).to.include(`"auth-failures"; q=3; w=${WINDOW_S}`);
      expect((await get(WHOAMI, auth, newAddress())).status).to.equal(200);
      // The dashboard's page carries no data: a locked-out address still loads it, and the page shows the API's 429.
      const page = await fetch(`${h.baseUrl}/dashboard`, { headers: { 'x-forwarded-for': address } });
      expect(page.status).to.equal(200);
      expect(page.headers.get('content-type')).to.match(/^text\/html/);
    });

    it('X-Forwarded-For: only the hop the trusted proxy added names the client; forged entries to its left buy nothing', async () => {
      const client = newAddress();
      const [a, b, c] = [await viewer('rl-xff-a'), await viewer('rl-xff-b'), await viewer('rl-xff-c')];
      const forged = (i: number) => `198.51.100.${i}, ${client}`;
      for (let i = 0; i < 4; i++) {
        expect((await get(WHOAMI, a, forged(2 * i))).status).to.equal(200);
        expect((await get(WHOAMI, b, forged(2 * i + 1))).status).to.equal(200);
      }
      expectLimited(await get(WHOAMI, c, forged(99)), 'RATE_LIMITED', 'RATE_LIMIT_PER_ADDRESS');
      expect((await get(WHOAMI, c, `${client}, ${newAddress()}`)).status).to.equal(200);
    });
  });

  describe('TRUST_PROXY unset (the default) and TRUST_PROXY=2', () => {
    const harnesses: Harness[] = [];
    after(async () => {
      await Promise.all(harnesses.map((h) => h.close()));
    });
    const start = async (env: Record<string, string>) => {
      const h = await startHarness({ workers: 0, env: { ...LIMITS, RATE_LIMIT_PER_ADDRESS: '4', ...env } });
      harnesses.push(h);
      return h;
    };

    it('unset: the connection is the client; a different X-Forwarded-For on each request buys nothing', async () => {
      const h = await start({});
      const xff = (i: number) => ({ 'x-forwarded-for': `198.51.100.${i}` });
      for (let i = 0; i < 4; i++) expect((await request(h.baseUrl, 'GET', WHOAMI, undefined, xff(i))).status).to.equal(200);
      expectLimited(await request(h.baseUrl, 'GET', WHOAMI, undefined, xff(4)), 'RATE_LIMITED', 'RATE_LIMIT_PER_ADDRESS');
    });

    it('2: the second hop from the right is the client, whatever the first (the outer proxy) and anything forged before it', async () => {
      const h = await start({ TRUST_PROXY: '2' });
      const client = newAddress();
      const via = (forged: number, proxy: number) => ({ 'x-forwarded-for': `198.51.100.${forged}, ${client}, 10.0.0.${proxy}` });
      for (let i = 0; i < 4; i++) expect((await request(h.baseUrl, 'GET', WHOAMI, undefined, via(i, i))).status).to.equal(200);
      expectLimited(await request(h.baseUrl, 'GET', WHOAMI, undefined, via(9, 9)), 'RATE_LIMITED', 'RATE_LIMIT_PER_ADDRESS');
      const other = { 'x-forwarded-for': `${client}, ${newAddress()}, 10.0.0.1` };
      expect((await request(h.baseUrl, 'GET', WHOAMI, undefined, other)).status).to.equal(200);
    });
  });

  describe('the failed-authentication budget, with a verifier that counts its calls', () => {
    const prefix = testPrefix();
    let redis: RedisClient;
    let server: Server;
    let baseUrl: string;
    let verified = 0;
    let entered = 0;
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));

    before(async () => {
      redis = openTestRedis();
      const limits = createRateLimiters({
        budgets: { windowMs: WINDOW_S * 1000, perAddress: 0, perIdentity: 0, submit: 0, authFailures: 3 },
        storeFor: redisRateLimitStores(redis, prefix),
        publicPaths: [],
        onLimited: () => undefined,
        onBypassed: () => undefined,
        logger: silent,
      });
      const verify = async (credential: string): Promise<Identity> => {
        verified++;
        if (credential !== 'good') throw new AuthenticationError('API_KEY_INVALID', 'No such key.');
        return { id: 'good', name: 'good', kind: 'service', via: 'api_key', roles: [] };
      };
      const app = express();
      app.set('trust proxy', 1);
      app.use(requestId());
      app.use(limits.authFailureGuard!);
      app.use(authenticate({ verify, publicPaths: [] }));
      app.use(limits.authFailureCount!);
      app.get('/ok', (_req, res) => void res.json({ ok: true }));
      app.get('/held', async (_req, res) => {
        entered++;
        await held;
        res.json({ ok: true });
      });
      app.use(errorHandler({ logger: silent }));
      server = await new Promise((resolve) => {
        const s = app.listen(0, '127.0.0.1', () => resolve(s));
      });
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      markNotTheApi(baseUrl);
    });
    after(async () => {
      release();
      await new Promise<void>((resolve) => server?.close(() => resolve()));
      await deleteKeys(runRedisUrl(), prefix);
      redis?.disconnect();
    });
    const call = (path: string, credential: string, address: string) =>
      request(baseUrl, 'GET', path, undefined, { authorization: `Bearer ${credential}`, 'x-forwarded-for': address });

    it('successes in flight hold no slot (five open requests, then three failures: three 401s), and the next request is refused before its credential is checked', async () => {
      const address = newAddress();
      const open = Array.from({ length: 5 }, () => call('/held', 'good', address));
      await pollUntil('five requests held', async () => entered === 5, 10_000, 10);
      for (let i = 0; i < 3; i++) expectError(await call('/ok', 'bad', address), 401, 'API_KEY_INVALID');
      release();
      for (const res of await Promise.all(open)) expect(res.status).to.equal(200);

      const before = verified;
      expectLimited(await call('/ok', 'good', address), 'AUTH_RATE_LIMITED', 'RATE_LIMIT_AUTH_FAILURES');
      expectLimited(await call('/ok', 'bad', address), 'AUTH_RATE_LIMITED', 'RATE_LIMIT_AUTH_FAILURES');
      expect(verified, 'credentials checked after the budget').to.equal(before);
      expect((await call('/ok', 'good', newAddress())).status).to.equal(200);
    });

    it('successes between failures do not count: two 401s, ten 200s, a third 401, then 429', async () => {
      const address = newAddress();
      for (let i = 0; i < 2; i++) expect((await call('/ok', 'bad', address)).status).to.equal(401);
      for (let i = 0; i < 10; i++) expect((await call('/ok', 'good', address)).status).to.equal(200);
      expect((await call('/ok', 'bad', address)).status).to.equal(401);
      expectLimited(await call('/ok', 'good', address), 'AUTH_RATE_LIMITED', 'RATE_LIMIT_AUTH_FAILURES');
    });
  });

  describe("while the limiters' Redis is unreachable", () => {
    let proxy: TcpProxy;
    let h: Harness;
    const lines: Loose[] = [];
    before(async () => {
      // One server even under TEST_REDIS_CLUSTER=1: a cluster client would learn the nodes' own
      // addresses from CLUSTER SLOTS and go around the proxy that makes the outage.
      const target = new URL(singleServerRedisUrl());
      proxy = await tcpProxy(target.hostname, Number(target.port || 6379));
      const viaProxy = new URL(singleServerRedisUrl());
      viaProxy.hostname = '127.0.0.1';
      viaProxy.port = String(proxy.port);
      // The proxy is down from the start: the stores are created, and load their Lua scripts, while
      // Redis cannot be reached (rate-limit-redis alone would then fail every request for good).
      h = await startHarness({
        workers: 0,
        logger: captureLogger(lines),
        env: { ...LIMITS, RATE_LIMIT_PER_IDENTITY: '3', REDIS_URL: viaProxy.toString() },
      });
    });
    after(async () => {
      await proxy?.start();
      await h?.close();
      await proxy?.stop();
    });

    const ready = async () => (await request(h.baseUrl, 'GET', '/health/ready')).status === 200;
    const whoami = (auth: Record<string, string>) => request(h.baseUrl, 'GET', WHOAMI, undefined, auth);
    const scrape = async () => {
      const res = await fetch(`${h.baseUrl}/metrics`, { headers: bearer(h.adminKey) });
      expect(res.status).to.equal(200);
      const text = await res.text();
      return {
        bypassed: sampleValue(text, 'agentic_rate_limit_bypassed_total', { limiter: 'per-identity' }),
        limited: sampleValue(text, 'agentic_rate_limited_total', { limiter: 'per-identity' }),
      };
    };
    /** Three requests served with the budget counting down, then 429: the limiter works. */
    const expectLimiting = async (auth: Record<string, string>) => {
      for (const left of [2, 1, 0]) {
        const res = await whoami(auth);
        expect(res.status).to.equal(200);
        expect(remaining(res, 'per-identity')).to.equal(left);
      }
      expectLimited(await whoami(auth), 'RATE_LIMITED', 'RATE_LIMIT_PER_IDENTITY');
    };

    it('lets requests through and counts them, logs one warning per outage, and limits again once Redis is back (down at boot, then down mid-run)', async () => {
      const boot = bearer((await h.createKey('rl-outage-boot', ['viewer'])).key);
      for (let i = 0; i < 6; i++) {
        const res = await whoami(boot);
        expect(res.status).to.equal(200);
        expect(res.headers.get('ratelimit')).to.equal(null);
      }

      await proxy.start();
      await pollUntil('API ready through the proxy', ready, 20_000);
      await expectLimiting(bearer((await h.createKey('rl-outage-after-boot', ['viewer'])).key));
      expect(await scrape()).to.deep.equal({ bypassed: 6, limited: 1 });

      await proxy.stop();
      await pollUntil('API sees Redis gone', async () => !(await ready()), 20_000);
      const midRun = bearer((await h.createKey('rl-outage-mid-run', ['viewer'])).key);
      for (let i = 0; i < 5; i++) expect((await whoami(midRun)).status).to.equal(200);

      await proxy.start();
      await pollUntil('API ready through the proxy again', ready, 20_000);
      // Nothing was counted while Redis was away: the identity has its whole budget.
      await expectLimiting(midRun);
      expect(await scrape()).to.deep.equal({ bypassed: 11, limited: 2 });

      const messages = lines.map((l) => String(l.message));
      const down = lines.filter((l) => String(l.message).startsWith('rate limit store unreachable'));
      expect(down.map((l) => l.level)).to.deep.equal(['warn', 'warn']);
      expect(messages.filter((m) => m.startsWith('rate limit store answers again'))).to.have.length(2);
      expect(lines.filter((l) => l.level === 'error').map((l) => l.message)).to.deep.equal([]);
    });
  });
});
