// No secret reaches a log line: the API (src/server.ts), a worker (src/worker.ts) and the
// all-in-one process (src/main.ts) run at LOG_LEVEL=debug with every secret configured (a
// Postgres and a Redis password in their URLs, webhook receivers with userinfo and a query token,
// WEBHOOK_SECRET, METRICS_TOKEN, JWT_SECRET), are exercised (a pipeline submitted with an API
// key, webhook deliveries answered 500 or refused, /metrics scraped with its token, a JWT, bad
// credentials, a query token on an API path), then stopped; their whole stdout and stderr is
// searched for every secret. The receiver sees the secrets (so they were in use) and the lines
// that would carry them are there, with the URLs redacted.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { freePort } from '../support/chaos/free-port.js';
import { deleteKeys, testPrefix } from '../support/harness.js';
import { request, setDefaultKey, waitForPipeline } from '../support/http.js';
import { createTestKey } from '../support/keys.js';

const hex = () => randomBytes(12).toString('hex');

/** Every value here is random per run, so a match in the output can only be a leak. */
const S = {
  dbPassword: `dbpw${hex()}`,
  redisPassword: `redispw${hex()}`,
  hookUser: `hookuser${hex()}`,
  hookPassword: `hookpw${hex()}`,
  hookToken: `hooktoken${hex()}`,
  downHookToken: `downtoken${hex()}`,
  webhookSecret: `whsecret${hex()}`,
  metricsToken: `metrics${hex()}${hex()}`,
  jwtSecret: `jwtsecret${hex()}${hex()}`,
  queryToken: `querytoken${hex()}`,
};
const JWT_ISSUER = 'https://idp.example.test/';
const JWT_AUDIENCE = 'agentic-sdlc-secrets-test';

interface Received {
  url: string;
  authorization: string | undefined;
}

interface Running {
  name: string;
  child: ChildProcess;
  output: () => string;
}

/** Spawns an entry (listed in `into` at once, so teardown stops it even if another fails to start) and waits for its ready line. */
function start(into: Running[], name: string, entry: string, env: Record<string, string>, ready: string): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const running = { name, child, output: () => output };
  into.push(running);
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 60_000;
    const poll = setInterval(() => {
      if (output.includes(ready)) {
        clearInterval(poll);
        resolve(running);
      } else if (child.exitCode !== null || Date.now() > deadline) {
        clearInterval(poll);
        child.kill('SIGKILL');
        reject(new Error(`${name} did not start:\n${output}`));
      }
    }, 50);
  });
}

async function stop(running: Running): Promise<void> {
  const { child } = running;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

async function until(what: string, probe: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`${what}: not seen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Lines of JSON log output (other lines, such as a library's warning, are kept as text). */
const jsonLines = (text: string): Record<string, unknown>[] =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('secrets in logs (e2e, real processes)', () => {
  const received: Received[] = [];
  let receiver: Server;
  const processes: Running[] = [];
  let prefix: string;
  let redisUrl: string;
  let output = '';
  let apiKey: string;
  const credentials: string[] = [];

  before(async function () {
    this.timeout(120_000);
    receiver = createServer((req, res) => {
      received.push({ url: req.url ?? '', authorization: req.headers.authorization });
      req.resume();
      res.statusCode = 500;
      res.end('receiver down on purpose');
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const hookPort = (receiver.address() as AddressInfo).port;
    const closedPort = await freePort();

    const databaseUrl = new URL(process.env.TEST_DATABASE_URL!);
    databaseUrl.password = S.dbPassword;
    const redis = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    redis.password = S.redisPassword;
    redisUrl = redis.toString();
    prefix = testPrefix();
    apiKey = (await createTestKey(process.env.TEST_DATABASE_URL!, 'secrets-in-logs')).key;

    const env = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'debug',
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl.toString(),
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      WEBHOOK_URLS: [
        `http://${S.hookUser}:${S.hookPassword}@127.0.0.1:${hookPort}/hook?token=${S.hookToken}`,
        `http://127.0.0.1:${closedPort}/down?token=${S.downHookToken}`,
      ].join(','),
      WEBHOOK_SECRET: S.webhookSecret,
      WEBHOOK_ATTEMPTS: '2',
      METRICS_TOKEN: S.metricsToken,
      JWT_SECRET: S.jwtSecret,
      JWT_ISSUER,
      JWT_AUDIENCE,
      WORKER_METRICS_PORT: '0',
    };
    const [apiPort, allInOnePort] = [await freePort(), await freePort()];
    await Promise.all([
      start(processes, 'api', 'src/server.ts', { ...env, PORT: String(apiPort) }, 'api listening'),
      start(processes, 'worker', 'src/worker.ts', env, 'worker process ready'),
      start(processes, 'all-in-one', 'src/main.ts', { ...env, PORT: String(allInOnePort) }, 'agentic-sdlc is up'),
    ]);

    // Exercise every path that handles a secret, on both processes that serve the API.
    const good = await new SignJWT({ roles: ['viewer'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('secrets-test')
      .setIssuer(JWT_ISSUER)
      .setAudience(JWT_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(S.jwtSecret));
    const wrongAudience = await new SignJWT({ roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('secrets-test')
      .setIssuer(JWT_ISSUER)
      .setAudience('someone-else')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(S.jwtSecret));
    const unknownKey = `sdlc_${'Z'.repeat(12)}${hex().slice(0, 32)}${'0'.repeat(6)}`;
    credentials.push(apiKey, good, wrongAudience, unknownKey);
    const auth = (credential: string) => ({ authorization: `Bearer ${credential}` });
    for (const port of [apiPort, allInOnePort]) {
      const base = `http://127.0.0.1:${port}`;
      setDefaultKey(base, apiKey);
      const created = await request(base, 'POST', '/api/v1/pipelines', { name: 'secrets-in-logs', stages: [{ key: 'a', agent: 'noop' }] });
      expect(created.status, JSON.stringify(created.body)).to.equal(202);
      expect((await fetch(`${base}/metrics`, { headers: auth(S.metricsToken) })).status).to.equal(200);
      expect((await request(base, 'GET', '/api/v1/whoami', undefined, auth(good))).status).to.equal(200);
      expect((await request(base, 'GET', '/api/v1/whoami', undefined, auth(wrongAudience))).status).to.equal(401);
      expect((await request(base, 'GET', '/api/v1/whoami', undefined, auth(unknownKey))).status).to.equal(401);
      expect((await request(base, 'GET', '/api/v1/whoami', undefined, { 'x-api-key': `${apiKey}x` })).status).to.equal(401);
      expect((await request(base, 'GET', `/api/v1/pipelines?token=${S.queryToken}`)).status).to.be.oneOf([200, 400]);
      // Its pipeline.finished event is what the receivers get.
      expect((await waitForPipeline(base, String(created.body.id))).status).to.equal('succeeded');
      setDefaultKey(base, undefined);
    }
    // Each receiver's deliveries fail for good after WEBHOOK_ATTEMPTS: two lines per event.
    const all = () => processes.map((p) => p.output()).join('\n');
    await until('webhook failures logged for both receivers', () => {
      const finals = jsonLines(all()).filter((l) => l.message === 'webhook delivery failed for good');
      return (
        finals.some((l) => String(l.receiver) === `http://127.0.0.1:${hookPort}`) &&
        finals.some((l) => String(l.receiver) === `http://127.0.0.1:${closedPort}`)
      );
    });
    await Promise.all(processes.map(stop));
    output = all();
  });

  after(async function () {
    this.timeout(30_000);
    await Promise.all(processes.map((p) => stop(p).catch(() => undefined)));
    await new Promise((resolve) => receiver?.close(resolve));
    if (prefix) await deleteKeys(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix);
  });

  it('the secrets were in use: the receiver got the Basic credentials and the query token', () => {
    expect(received.length).to.be.at.least(2);
    const basic = `Basic ${Buffer.from(`${S.hookUser}:${S.hookPassword}`).toString('base64')}`;
    for (const delivery of received) {
      expect(delivery.url).to.equal(`/hook?token=${S.hookToken}`);
      expect(delivery.authorization).to.equal(basic);
    }
  });

  it('no configured secret, API key, JWT or Basic credential appears anywhere in the output of the three processes', () => {
    expect(output.length).to.be.above(10_000);
    const basic = Buffer.from(`${S.hookUser}:${S.hookPassword}`).toString('base64');
    for (const [name, value] of [
      ...Object.entries(S),
      ...credentials.map((c, i) => [`credential ${i}`, c] as const),
      ['basic', basic] as const,
    ]) {
      expect(output.includes(value), `${name} (${value}) leaked into the logs`).to.equal(false);
    }
  });

  it('the lines that would carry them are there, with URLs redacted', () => {
    const lines = jsonLines(output);
    const dbRedacted = `postgresql://***@127.0.0.1:5432/${new URL(process.env.TEST_DATABASE_URL!).pathname.slice(1)}?***`;
    const redisRedacted = redisUrl.replace(`:${S.redisPassword}@`, '***@');
    const api = lines.find((l) => l.message === 'api listening');
    expect(api, 'the api listening line').to.include({ redis: redisRedacted, database: dbRedacted });
    const ready = lines.filter((l) => l.message === 'worker process ready');
    expect(ready.map((l) => l.service).sort()).to.deep.equal(['all-in-one', 'worker']);
    for (const line of ready) expect(line).to.include({ redis: redisRedacted, database: dbRedacted });
    // Webhook failures name the receiver by origin, with the error that was met.
    const failures = lines.filter((l) => String(l.message).startsWith('webhook delivery failed'));
    expect(failures.map((l) => l.error)).to.include('webhook receiver answered 500');
    expect(failures.some((l) => String(l.error).startsWith('webhook POST failed'))).to.equal(true);
    // Every request was logged, the scrape, the refused credentials and the query-token one included.
    const requests = lines.filter((l) => l.message === 'request completed');
    expect(requests.filter((l) => l.path === '/metrics' && l.status === 200)).to.have.length.at.least(2);
    expect(requests.filter((l) => l.path === '/api/v1/whoami' && l.status === 401)).to.have.length.at.least(6);
    expect(requests.filter((l) => l.path === '/api/v1/pipelines' && l.method === 'GET')).to.have.length.at.least(2);
  });
});
