// Load held (issue 11, item 8): two API instances in this process (two runtimes, two servers,
// one Redis, one QUEUE_PREFIX) and eight clients firing a burst at both at once with one
// identity. The shared budget holds exactly: the limiter's counter is one Redis key incremented
// by an atomic Lua script per request, so replicas cannot both spend the same slot, and the
// window (10 minutes) cannot end mid-burst. Tolerance: zero. Every 429 carries Retry-After, and
// /health/ready answers 200 on both instances throughout.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createApiRuntime, type ApiRuntime } from '../../src/composition/api-runtime.js';
import { createHttpServer, httpServerLimits } from '../../src/http/http-server.js';
import { createLogger } from '../../src/infra/telemetry/logger.js';
import { loadDecisionPolicy } from '../../src/infra/policy/policy-file.js';
import { startHarness, type Harness } from '../support/harness.js';
import { bearer, request } from '../support/http.js';
import { sampleValue } from '../support/promtool.js';

const BUDGET = 60;
const CLIENTS = 8;
const REQUESTS_PER_CLIENT = 25;
const WINDOW_S = 600;

describe('rate limits under a burst on two API instances (integration)', () => {
  let h: Harness;
  let second: ApiRuntime;
  let secondServer: Server;
  let instances: string[];

  before(async () => {
    h = await startHarness({ workers: 0, env: { RATE_LIMIT_WINDOW_MS: String(WINDOW_S * 1000), RATE_LIMIT_PER_IDENTITY: String(BUDGET) } });
    // A second replica: its own runtime, Redis connection and server, the same Redis, Postgres and prefix.
    second = createApiRuntime({
      flags: h.flags,
      config: h.config,
      logger: createLogger({ level: 'error', service: 'test', silent: true }),
      agents: h.catalog,
      db: h.db,
      policy: loadDecisionPolicy(h.config.DECISION_POLICY_FILE),
    });
    // As the entries do before they listen: readiness pings Redis, and a cluster connection takes a moment.
    expect(await second.queueConnected(5000), 'the second replica connected to Redis').to.equal(true);
    secondServer = createHttpServer(second.app, httpServerLimits(h.config));
    await new Promise<void>((resolve) => secondServer.listen(0, '127.0.0.1', resolve));
    instances = [h.baseUrl, `http://127.0.0.1:${(secondServer.address() as AddressInfo).port}`];
  });
  after(async () => {
    await new Promise<void>((resolve) => secondServer?.close(() => resolve()));
    await second?.close();
    await h?.close();
  });

  it(`${CLIENTS} clients × ${REQUESTS_PER_CLIENT} requests over both instances: exactly ${BUDGET} served, the rest 429 with Retry-After, readiness 200 on both throughout`, async () => {
    const auth = bearer((await h.createKey('burst', ['viewer'])).key);
    const served: number[] = [];
    const refused: { retryAfter: string | null; code: unknown }[] = [];
    const perInstance = [0, 0];

    let burstOver = false;
    const readiness: number[][] = [[], []];
    const poller = (async () => {
      // The first round starts before any burst request: at least one probe of each instance lands during the burst.
      do {
        const answers = await Promise.all(instances.map((base) => request(base, 'GET', '/health/ready')));
        answers.forEach((res, i) => readiness[i]!.push(res.status));
      } while (!burstOver);
    })();

    const client = async (c: number) => {
      for (let i = 0; i < REQUESTS_PER_CLIENT; i++) {
        const instance = (c + i) % 2;
        perInstance[instance]!++;
        const res = await request(instances[instance]!, 'GET', '/api/v1/whoami', undefined, auth);
        if (res.status === 200) {
          const left = /"per-identity"; r=(\d+)/.exec(res.headers.get('ratelimit') ?? '');
          served.push(Number(left?.[1]));
        } else {
          expect(res.status, JSON.stringify(res.body)).to.equal(429);
          refused.push({ retryAfter: res.headers.get('retry-after'), code: res.body.error?.code });
        }
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
    burstOver = true;
    await poller;

    const total = CLIENTS * REQUESTS_PER_CLIENT;
    // Each instance alone got more than the budget: unshared budgets would have served 2 × BUDGET.
    expect(perInstance).to.deep.equal([total / 2, total / 2]);
    expect(served).to.have.length(BUDGET);
    // One atomic counter: each remaining value from BUDGET - 1 down to 0 was handed out exactly once.
    expect([...served].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: BUDGET }, (_, i) => i));
    expect(refused).to.have.length(total - BUDGET);
    for (const { retryAfter, code } of refused) {
      expect(code).to.equal('RATE_LIMITED');
      expect(retryAfter).to.match(/^\d+$/);
      expect(Number(retryAfter)).to.be.within(1, WINDOW_S);
    }
    for (const statuses of readiness) {
      expect(statuses.length).to.be.greaterThan(0);
      expect(new Set(statuses)).to.deep.equal(new Set([200]));
    }

    // Each instance counted its own 429s, nothing went through unlimited.
    const scraped = await Promise.all(
      instances.map(async (base) => (await fetch(`${base}/metrics`, { headers: bearer(h.adminKey) })).text()),
    );
    const limited = scraped.map((text) => sampleValue(text, 'agentic_rate_limited_total', { limiter: 'per-identity' }));
    expect(limited[0]! + limited[1]!).to.equal(total - BUDGET);
    expect(limited.every((n) => n > 0)).to.equal(true);
    expect(scraped.map((text) => sampleValue(text, 'agentic_rate_limit_bypassed_total'))).to.deep.equal([0, 0]);
  });
});
