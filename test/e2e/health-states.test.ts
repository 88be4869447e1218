// Health endpoints through a dependency's life: the API and a worker run in-process against a
// private redis-server. With everything up /health and /health/ready answer 200 and
// /health/detailed counts the workers online per agent type; with Redis killed /health stays 200
// while /health/ready answers 503 naming redis (not postgres); with Redis started again on the
// same port readiness returns to 200. A schema whose `_prisma_migrations` lacks its newest row
// is not ready, and the answer names the migration; once the row is back it is ready, and stays
// so (the check caches "current").
import { expect } from 'chai';
import pg from 'pg';
import { expectedMigrations } from '../../src/infra/db/migration-status.js';
import { startHarness, type Harness } from '../support/harness.js';
import { request, type Loose } from '../support/http.js';
import { startPrivateRedis, type PrivateRedis } from '../support/chaos/private-redis.js';
import { pollUntil } from '../support/chaos/free-port.js';
import { BASE_DATABASE_URL, createTestSchema, dropSchema } from '../support/test-database.js';

const componentsOf = (body: Loose): Record<string, Loose> => Object.fromEntries((body.components as Loose[]).map((c) => [c.name, c]));

/** The API's Redis connection comes up asynchronously: the first probe must not race it. */
const redisReady = (h: Harness) =>
  pollUntil(
    'redis ready',
    async () => componentsOf((await request(h.baseUrl, 'GET', '/health/ready')).body).redis?.ok === true,
    10_000,
    50,
  );

describe('health states with Redis stopped and restarted (e2e)', function () {
  this.timeout(60_000);
  let redis: PrivateRedis;
  let h: Harness;

  before(async () => {
    redis = await startPrivateRedis();
    h = await startHarness({ workers: 1, concurrency: 1, env: { REDIS_URL: redis.url } });
    await redisReady(h);
  });
  after(async () => {
    // The runtimes close cleanly only against a running Redis.
    await redis?.start();
    await h?.close();
    await redis?.close();
  });

  it('all up: /health 200, /health/ready 200 with postgres, redis and migrations ok', async () => {
    expect((await request(h.baseUrl, 'GET', '/health')).status).to.equal(200);
    const ready = await request(h.baseUrl, 'GET', '/health/ready');
    expect(ready.status, JSON.stringify(ready.body)).to.equal(200);
    expect(ready.body.status).to.equal('ready');
    expect(ready.body).not.to.have.property('failing');
    const components = componentsOf(ready.body);
    for (const name of ['postgres', 'redis', 'migrations']) expect(components[name]?.ok, name).to.equal(true);
  });

  it('/health/detailed: workers online per agent type and the conductor, redis with its latency', async () => {
    let body: Loose = {};
    await pollUntil(
      'the worker registered on every queue',
      async () => {
        body = (await request(h.baseUrl, 'GET', '/health/detailed')).body;
        return body.workers?.conductor >= 1 && body.workers?.noop >= 1;
      },
      20_000,
      50,
    ).catch((error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(body.workers)}`);
    });
    expect(body.workers).to.have.all.keys('conductor', ...h.catalog.keys());
    for (const [type, count] of Object.entries(body.workers as Record<string, number>)) expect(count, type).to.be.at.least(1);
    const redisComponent = componentsOf(body).redis;
    expect(redisComponent.ok).to.equal(true);
    expect(redisComponent.latencyMs).to.be.a('number');
  });

  it('/health/detailed on a Redis that refuses CLIENT LIST: the workers section is an error, the rest answers', async () => {
    await redis.command('ACL', 'SETUSER', 'default', '-client|list');
    try {
      const res = await request(h.baseUrl, 'GET', '/health/detailed');
      expect(res.status).to.equal(200);
      expect(res.body.workers).to.have.property('error').that.contains('NOPERM');
      expect(res.body.queues).to.have.property('control');
      expect(componentsOf(res.body).redis.ok).to.equal(true);
    } finally {
      await redis.command('ACL', 'SETUSER', 'default', '+client|list');
    }
  });

  it('Redis killed: /health stays 200, /health/ready answers 503 with redis failing and postgres not', async () => {
    await redis.kill('SIGKILL');
    let ready = await request(h.baseUrl, 'GET', '/health/ready');
    await pollUntil('readiness 503', async () => (ready = await request(h.baseUrl, 'GET', '/health/ready')).status === 503, 10_000, 50);
    expect(ready.body.status).to.equal('unavailable');
    expect(ready.body.failing).to.include('redis').and.not.include('postgres');
    expect(componentsOf(ready.body).redis.error).to.be.a('string').and.not.equal('');
    expect(componentsOf(ready.body).postgres.ok).to.equal(true);
    expect((await request(h.baseUrl, 'GET', '/health')).status).to.equal(200);
  });

  it('Redis started again on its port: /health/ready returns to 200 without a restart of the API', async () => {
    await redis.start();
    let ready = await request(h.baseUrl, 'GET', '/health/ready');
    await pollUntil(
      'readiness back to 200',
      async () => (ready = await request(h.baseUrl, 'GET', '/health/ready')).status === 200,
      30_000,
      100,
    );
    expect(ready.body.status).to.equal('ready');
    expect(Object.values(componentsOf(ready.body)).every((c) => c.ok === true)).to.equal(true);
  });
});

describe('health with a migration not applied (e2e)', function () {
  this.timeout(120_000);
  const newest = expectedMigrations().at(-1)!;
  let schema: string | undefined;
  let h: Harness | undefined;

  const onSchema = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: BASE_DATABASE_URL });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };

  before(async () => {
    const created = await createTestSchema();
    schema = created.schema;
    // The row is kept aside (held_migration, dropped with the schema) to put it back later.
    await onSchema(async (client) => {
      await client.query(
        `CREATE TABLE "${created.schema}".held_migration AS SELECT * FROM "${created.schema}"._prisma_migrations WHERE migration_name = $1`,
        [newest],
      );
      await client.query(`DELETE FROM "${created.schema}"._prisma_migrations WHERE migration_name = $1`, [newest]);
    });
    h = await startHarness({ workers: 0, env: { DATABASE_URL: created.url } });
    await redisReady(h);
  });
  after(async () => {
    await h?.close();
    if (schema) await dropSchema(schema);
  });

  it('/health/ready: 503 with migrations failing, naming the missing migration', async () => {
    const ready = await request(h!.baseUrl, 'GET', '/health/ready');
    expect(ready.status, JSON.stringify(ready.body)).to.equal(503);
    expect(ready.body.failing).to.deep.equal(['migrations']);
    const migrations = componentsOf(ready.body).migrations;
    expect(migrations.ok).to.equal(false);
    expect(migrations.error).to.equal(`1 migration(s) not applied: ${newest}`);
    expect(componentsOf(ready.body).postgres.ok).to.equal(true);
  });

  it('the row put back: ready at the next probe; deleted again: still ready (current is cached)', async () => {
    await onSchema((client) => client.query(`INSERT INTO "${schema}"._prisma_migrations SELECT * FROM "${schema}".held_migration`));
    const ready = await request(h!.baseUrl, 'GET', '/health/ready');
    expect(ready.status, JSON.stringify(ready.body)).to.equal(200);
    await onSchema((client) => client.query(`DELETE FROM "${schema}"._prisma_migrations WHERE migration_name = $1`, [newest]));
    expect((await request(h!.baseUrl, 'GET', '/health/ready')).status).to.equal(200);
  });
});
