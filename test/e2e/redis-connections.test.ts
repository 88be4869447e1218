// Redis connections per process, counted in Redis' CLIENT LIST against the formula of
// docs/connections.md (redisConnectionsOf): every connection a process opens carries its
// `<host>:<pid>` in its name (ours as `agentic-sdlc:<role>:…`, BullMQ's blocking ones as
// `<prefix>:<queue in base64>:w:<worker id>`). Real processes: an API, a worker serving ten agent
// types, and npm start with webhooks on; and an in-process worker runtime, which leaves none open
// once closed.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { expect } from 'chai';
import { Cluster } from 'ioredis';
import type { RedisClient } from '../../src/infra/queue/redis-connection.js';
import { builtInAgents } from '../../src/composition/configured-agents.js';
import { createWorkerRuntime } from '../../src/composition/worker-runtime.js';
import { redisConnectionsOf } from '../../src/infra/queue/redis-connection-count.js';
import { loadDecisionPolicy } from '../../src/infra/policy/policy-file.js';
import { createLogger } from '../../src/infra/telemetry/logger.js';
import { freePort, pollUntil } from '../support/chaos/free-port.js';
import { startHarness, testConfig } from '../support/harness.js';
import { startEntry, waitForOutput, type Started } from '../support/processes.js';
import { dropSchema, schemaUrl } from '../support/test-database.js';
import { clientListEverywhere } from '../support/resource-counts.js';
import { openTestRedis } from '../support/test-redis.js';

const TEN_AGENTS = [
  'noop',
  'sleep',
  'fail',
  'requirements',
  'sim_scaffold',
  'sim_validation',
  'sim_e2e_test',
  'sim_integration',
  'sim_deployment',
  'scaffold',
];

interface ClientEntry {
  name: string;
  /** For BullMQ's blocking connections, the queue it blocks on (decoded from the name). */
  queue?: string;
}

/**
 * The CLIENT LIST entries whose name carries `owner` as a whole `:`-separated part. On a cluster
 * (TEST_REDIS_CLUSTER=1) each of the process's connections is an ioredis Cluster holding one
 * socket per node it talks to, every one with the connection's name: the names of every master's
 * list, each once, are the connections the formula counts (docs/redis-cluster.md).
 */
async function clientsOf(redis: RedisClient, owner: string): Promise<ClientEntry[]> {
  const list = await clientListEverywhere(redis);
  const escaped = owner.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const mine = new RegExp(`(^|:)${escaped}(:|$)`);
  const names = list
    .split('\n')
    .map((line) => /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '')
    .filter((name) => mine.test(name));
  // A subscribed Cluster also holds the socket of its subscriptions, named after it by ioredis.
  const connections =
    redis instanceof Cluster ? [...new Set(names.map((name) => name.replace(/^ioredis-cluster\(subscriber\):/, '')))] : names;
  return connections
    .map((name) => {
      const blocking = /^\{[^}]*\}:([A-Za-z0-9+/=]+):w:/.exec(name);
      return blocking ? { name, queue: Buffer.from(blocking[1]!, 'base64').toString() } : { name };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Waits until the process has opened at least `expected` connections, then lists them all. */
async function settledClients(redis: RedisClient, owner: string, expected: number): Promise<ClientEntry[]> {
  await pollUntil(`${expected} connections of ${owner}`, async () => (await clientsOf(redis, owner)).length >= expected, 30_000);
  return clientsOf(redis, owner);
}

const ownerOf = (started: Started) => `${hostname()}:${started.pid}`;

describe('Redis connections per process (e2e)', function () {
  this.timeout(240_000);
  let redis: RedisClient;
  const running: Started[] = [];
  before(() => {
    redis = openTestRedis();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop()));
  });
  after(() => redis.disconnect());

  it('an API process (npm run api): 1, its producer', async () => {
    const api = startEntry('src/server.ts', {
      DATABASE_URL: process.env.TEST_DATABASE_URL!,
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
    });
    running.push(api);
    await waitForOutput(api, /api listening/);
    const expected = redisConnectionsOf({ api: true });
    const clients = await settledClients(redis, ownerOf(api), expected);
    expect(clients.map((c) => c.name)).to.deep.equal([`agentic-sdlc:producer:${ownerOf(api)}`]);
    expect(clients).to.have.length(expected);
  });

  it('a worker serving ten agent types with the conductor: 2 + 10 + 1 = 13, one blocking connection per queue it serves', async () => {
    const worker = startEntry('src/worker.ts', { DATABASE_URL: process.env.TEST_DATABASE_URL!, LOG_LEVEL: 'info' }, [
      '--agents',
      TEN_AGENTS.join(','),
      '--concurrency',
      '2',
    ]);
    running.push(worker);
    await waitForOutput(worker, /worker process ready/);
    const expected = redisConnectionsOf({ api: false, worker: { agentTypes: 10, conductor: true, webhooks: false } });
    expect(expected).to.equal(13);
    // The ready line says the same number.
    expect(worker.output()).to.match(new RegExp(`"redisConnections":${expected}\\b`));
    const clients = await settledClients(redis, ownerOf(worker), expected);
    expect(clients, JSON.stringify(clients)).to.have.length(expected);
    const blocking = clients.filter((c) => c.queue !== undefined).map((c) => c.queue);
    expect(blocking.sort()).to.deep.equal([...TEN_AGENTS.map((t) => `agent.${t}`), 'control'].sort());
    const shared = clients.filter((c) => c.queue === undefined).map((c) => c.name.split(':').slice(0, 2).join(':'));
    expect(shared.sort()).to.deep.equal(['agentic-sdlc:subscriber', 'agentic-sdlc:worker']);
  });

  it('npm start with webhooks: API 1 + worker 2 + one per agent type + conductor 1 + webhooks 1', async () => {
    const schema = `t_conn_${randomBytes(3).toString('hex')}`;
    const agentTypes = builtInAgents(testConfig()).length;
    const all = startEntry('src/main.ts', {
      DATABASE_URL: schemaUrl(schema),
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
      // Nobody listens there: deliveries would fail and retry, and nothing is delivered here anyway.
      WEBHOOK_URLS: 'http://127.0.0.1:9/hooks',
      WEBHOOK_SECRET: randomBytes(16).toString('hex'),
    });
    running.push(all);
    try {
      await waitForOutput(all, /agentic-sdlc is up/, 180_000);
      const expected = redisConnectionsOf({ api: true, worker: { agentTypes, conductor: true, webhooks: true } });
      expect(expected).to.equal(agentTypes + 5);
      const clients = await settledClients(redis, ownerOf(all), expected);
      expect(clients, JSON.stringify(clients)).to.have.length(expected);
      expect(clients.filter((c) => c.queue !== undefined)).to.have.length(agentTypes + 2);
      expect(clients.map((c) => c.queue).filter((q) => q === 'control' || q === 'webhooks')).to.have.members(['control', 'webhooks']);
    } finally {
      await all.stop();
      await dropSchema(schema);
    }
  });

  it('an in-process worker runtime without the conductor: 2 + its agent types, and none left once it is closed', async () => {
    const h = await startHarness({ workers: 0 });
    try {
      const serve = TEN_AGENTS.slice(0, 3).map((type) => h.catalog.get(type)!);
      const runtime = createWorkerRuntime({
        config: h.config,
        logger: createLogger({ level: 'error', service: 'test', silent: true }),
        db: h.db,
        policy: loadDecisionPolicy(h.config.DECISION_POLICY_FILE),
        catalog: h.catalog,
        flags: h.flags,
        serve,
        concurrency: 1,
        conductor: false,
      });
      try {
        await runtime.start();
        const expected = redisConnectionsOf({ api: false, worker: { agentTypes: 3, conductor: false, webhooks: false } });
        expect(await settledClients(redis, runtime.workerId, expected)).to.have.length(expected);
      } finally {
        // Closed even when a count fails: its connections would otherwise outlive the run.
        await runtime.close();
      }
      await pollUntil('every connection of the runtime is closed', async () => (await clientsOf(redis, runtime.workerId)).length === 0);
      expect(await clientsOf(redis, runtime.workerId)).to.deep.equal([]);
    } finally {
      await h.close();
    }
  });
});
