// With Redis unreachable, POST /pipelines answers 503 with Retry-After at once, before writing
// anything (the queue gate in http/app.ts): nothing is recorded, and the client's retry with the
// same key is refused the same way until Redis is back. The caller is an authenticated
// submitter (keys live in Postgres, so authentication works with Redis down).
import { createFeatureFlagsFromConfig } from '../../src/composition/feature-flags.js';
import { loadDecisionPolicy } from '../../src/infra/policy/policy-file.js';
import { expect } from 'chai';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { builtInAgents } from '../../src/composition/configured-agents.js';
import { createAgentCatalog } from '../../src/agents/catalog.js';
import { createApiRuntime, type ApiRuntime } from '../../src/composition/api-runtime.js';
import { createDatabase, type Database } from '../../src/infra/db/database.js';
import { createLogger } from '../../src/infra/telemetry/logger.js';
import { terminalActor } from '../../src/services/api-key.service.js';
import { testConfig } from '../support/harness.js';
import { bearer, request } from '../support/http.js';

describe('Redis unreachable (integration)', () => {
  let db: Database;
  let api: ApiRuntime;
  let server: Server;
  let baseUrl: string;
  let submitter: Record<string, string>;

  let config: ReturnType<typeof testConfig>;

  before(async () => {
    config = testConfig({ REDIS_URL: 'redis://127.0.0.1:1' });
    db = createDatabase(config.DATABASE_URL, 2);
    api = createApiRuntime({
      flags: createFeatureFlagsFromConfig(config, createLogger({ level: 'error', service: 'test', silent: true })),
      config,
      logger: createLogger({ level: 'error', service: 'test', silent: true }),
      agents: createAgentCatalog(builtInAgents(config)),
      db,
      policy: loadDecisionPolicy(config.DECISION_POLICY_FILE),
    });
    server = await new Promise((resolve) => {
      const s = api.app.listen(0, '127.0.0.1', () => resolve(s));
    });
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const issued = await api.keys.create({ name: `redis-down-${randomUUID().slice(0, 8)}`, roles: ['submitter'] }, terminalActor('test'));
    submitter = bearer(issued.key);
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await api.close();
    await db.close();
  });

  it('POST /pipelines: 503 QUEUE_UNAVAILABLE with Retry-After; nothing is recorded, and a retry with the key is refused too', async () => {
    const key = `down-${randomUUID()}`;
    const body = { name: 'while-redis-is-down', stages: [{ key: 'a', agent: 'noop' }] };
    const first = await request(baseUrl, 'POST', '/api/v1/pipelines', body, { 'Idempotency-Key': key, ...submitter });
    expect(first.status, JSON.stringify(first.body)).to.equal(503);
    expect(first.headers.get('retry-after')).to.equal('5');
    expect(first.body.error.code).to.equal('QUEUE_UNAVAILABLE');
    expect(await db.prisma.pipeline.count({ where: { idempotencyKey: key } })).to.equal(0);

    const retry = await request(baseUrl, 'POST', '/api/v1/pipelines', body, { 'Idempotency-Key': key, ...submitter });
    expect(retry.status).to.equal(503);
    expect(retry.body.error.code).to.equal('QUEUE_UNAVAILABLE');
    expect(await db.prisma.pipeline.count({ where: { idempotencyKey: key } })).to.equal(0);
  });

  it('queueConnected (what the entries wait for before they listen): false once the connection fails, not true', async () => {
    expect(await api.queueConnected(30_000)).to.equal(false);
  });

  it('GET /health/ready: 503 naming redis as the failing component', async () => {
    const res = await request(baseUrl, 'GET', '/health/ready');
    expect(res.status).to.equal(503);
    const redis = res.body.components.find((c: { name: string }) => c.name === 'redis');
    expect(redis.ok).to.equal(false);
  });

  it('GET /health/ready is public, so it names nothing internal: a failure by its kind only, the workspace disk without its path; /health/detailed has both', async () => {
    // Arrange
    const operator = await api.keys.create(
      { name: `redis-down-op-${randomUUID().slice(0, 8)}`, roles: ['operator'] },
      terminalActor('test'),
    );

    // Act
    const ready = await request(baseUrl, 'GET', '/health/ready');
    const detailed = await request(baseUrl, 'GET', '/health/detailed', undefined, bearer(operator.key));

    // Assert: before, the driver's own message and WORKSPACE_ROOT went to any caller.
    const text = JSON.stringify(ready.body);
    const redis = ready.body.components.find((c: { name: string }) => c.name === 'redis');
    expect(redis.error).to.match(
      /^(unreachable|connection_lost|timeout|server_unavailable)( \([A-Z0-9_]+\))?; the details are in \/health\/detailed$/,
    );
    expect(ready.body.workers.error, text).to.match(/; the details are in \/health\/detailed$|^no answer within \d+ ms$/);
    expect(ready.body.workspaceDisk).to.have.all.keys('freeBytes', 'totalBytes', 'freeRatio', 'minFreeBytes', 'ok');
    expect(text).not.to.include(config.WORKSPACE_ROOT).and.not.to.include('127.0.0.1');
    expect(detailed.status).to.equal(200);
    expect(detailed.body.workspaceDisk.path).to.equal(resolve(config.WORKSPACE_ROOT));
    const detailedRedis = detailed.body.components.find((c: { name: string }) => c.name === 'redis');
    expect(detailedRedis.error)
      .to.be.a('string')
      .and.not.match(/details are in/);
  });
});
