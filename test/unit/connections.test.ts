// Unit tests for the connection pieces that need no server: the statement labels of the measured
// pool, the pool metrics (label cap, timeouts, gauges read at scrape), the pool settings each
// profile gives and the production bounds on them, and the Redis connection formula and names.
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { parseConfig } from '../../src/config.js';
import { productionRefusals } from '../../src/config/production-refusals.js';
import { DEFAULT_POOL_SETTINGS, poolSettings } from '../../src/infra/db/database.js';
import { isStatementTimeout } from '../../src/domain/statement-timeout.js';
import { statementLabel } from '../../src/infra/db/measured-pool.js';
import { redisConnectionName } from '../../src/infra/queue/redis-connection.js';
import { redisConnectionsOf } from '../../src/infra/queue/redis-connection-count.js';
import { createDatabaseMetrics, MAX_STATEMENT_LABELS, type PoolCounts } from '../../src/infra/telemetry/database-metrics.js';
import { sampleValue } from '../support/promtool.js';

const timeoutError = () => Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' });

describe('connections (unit)', () => {
  describe('statement labels', () => {
    it('a named statement is its name; Prisma (rows as arrays) is prisma; BEGIN/COMMIT/ROLLBACK are transaction; the rest unnamed', () => {
      expect(statementLabel({ name: 'stage_claim', text: 'SELECT 1', values: [] })).to.equal('stage_claim');
      expect(statementLabel({ text: 'SELECT "id" FROM "pipelines"', values: [], rowMode: 'array' })).to.equal('prisma');
      expect(statementLabel({ name: 'x', text: 'SELECT 1', rowMode: 'array' })).to.equal('x');
      for (const control of ['BEGIN', 'COMMIT', 'ROLLBACK']) {
        expect(statementLabel(control)).to.equal('transaction');
        expect(statementLabel({ text: control })).to.equal('transaction');
      }
      expect(statementLabel('SELECT 1')).to.equal('unnamed');
      expect(statementLabel({ text: 'SELECT 1', name: '' })).to.equal('unnamed');
      expect(statementLabel(undefined)).to.equal('unnamed');
    });

    it('a statement timeout is SQLSTATE 57014 with "statement timeout" in its message; a cancel by request is not', () => {
      expect(isStatementTimeout(timeoutError())).to.equal(true);
      expect(isStatementTimeout(Object.assign(new Error('canceling statement due to user request'), { code: '57014' }))).to.equal(false);
      expect(isStatementTimeout(new Error('canceling statement due to statement timeout'))).to.equal(false);
      expect(isStatementTimeout(undefined)).to.equal(false);
    });
  });

  describe('pool metrics', () => {
    it('statements by name, timeouts by name, the wait, and the gauges read from the pool at each scrape', async () => {
      let counts: PoolCounts | undefined = { totalCount: 7, idleCount: 3, waitingCount: 2 };
      const metrics = createDatabaseMetrics({ maxClients: 10, pool: () => counts });
      metrics.executed('stage_claim', 0.001, undefined);
      metrics.executed('stage_claim', 0.002, undefined);
      metrics.executed('stage_finish', 30, timeoutError());
      metrics.waited(0.0001);
      let text = await metrics.metrics();
      expect(sampleValue(text, 'agentic_db_statement_duration_seconds_count', { statement: 'stage_claim' })).to.equal(2);
      expect(sampleValue(text, 'agentic_db_statement_duration_seconds_count', { statement: 'stage_finish' })).to.equal(1);
      expect(sampleValue(text, 'agentic_db_statement_timeouts_total', { statement: 'stage_finish' })).to.equal(1);
      expect(sampleValue(text, 'agentic_db_statement_timeouts_total', { statement: 'stage_claim' })).to.equal(0);
      expect(sampleValue(text, 'agentic_db_pool_wait_seconds_count')).to.equal(1);
      expect(sampleValue(text, 'agentic_db_pool_clients', { state: 'idle' })).to.equal(3);
      expect(sampleValue(text, 'agentic_db_pool_clients', { state: 'busy' })).to.equal(4);
      expect(sampleValue(text, 'agentic_db_pool_waiting_requests')).to.equal(2);
      expect(sampleValue(text, 'agentic_db_pool_max_clients')).to.equal(10);
      counts = { totalCount: 1, idleCount: 1, waitingCount: 0 };
      text = await metrics.metrics();
      expect(sampleValue(text, 'agentic_db_pool_clients', { state: 'busy' })).to.equal(0);
      expect(sampleValue(text, 'agentic_db_pool_waiting_requests')).to.equal(0);
    });

    it(`past ${MAX_STATEMENT_LABELS} names, new ones count as "other" (the series stay bounded)`, async () => {
      const metrics = createDatabaseMetrics({ maxClients: 1, pool: () => undefined });
      for (let i = 0; i < MAX_STATEMENT_LABELS + 20; i++) metrics.executed(`s${i}`, 0.001, undefined);
      metrics.executed('s0', 0.001, undefined);
      metrics.executed(`s${MAX_STATEMENT_LABELS + 50}`, 0.001, timeoutError());
      const text = await metrics.metrics();
      const series = new Set([...text.matchAll(/agentic_db_statement_duration_seconds_count\{statement="([^"]+)"\}/g)].map((m) => m[1]));
      expect(series.size).to.equal(MAX_STATEMENT_LABELS + 1);
      expect(sampleValue(text, 'agentic_db_statement_duration_seconds_count', { statement: 's0' })).to.equal(2);
      expect(sampleValue(text, 'agentic_db_statement_duration_seconds_count', { statement: 'other' })).to.equal(21);
      expect(sampleValue(text, 'agentic_db_statement_timeouts_total', { statement: 'other' })).to.equal(1);
    });
  });

  describe('pool settings', () => {
    it('each profile has its defaults (production keeps idle connections longer), and DEFAULT_POOL_SETTINGS are the development ones', () => {
      const development = poolSettings(parseConfig({ NODE_ENV: 'development' }));
      expect(development).to.deep.equal({
        size: 10,
        idleTimeoutMs: 10_000,
        connectTimeoutMs: 5000,
        statementTimeoutMs: 30_000,
        jit: 'off',
      });
      expect(development).to.deep.equal(DEFAULT_POOL_SETTINGS);
      expect(poolSettings(parseConfig({ NODE_ENV: 'test' }))).to.deep.equal(DEFAULT_POOL_SETTINGS);
      expect(poolSettings(parseConfig({ NODE_ENV: 'production' })).idleTimeoutMs).to.equal(30_000);
      expect(
        poolSettings(
          parseConfig({
            DATABASE_POOL_SIZE: '4',
            DATABASE_POOL_IDLE_TIMEOUT_MS: '0',
            DATABASE_CONNECT_TIMEOUT_MS: '250',
            DATABASE_STATEMENT_TIMEOUT_MS: '0',
            DATABASE_JIT: 'server',
          }),
        ),
      ).to.deep.equal({ size: 4, idleTimeoutMs: 0, connectTimeoutMs: 250, statementTimeoutMs: 0, jit: 'server' });
    });

    it('out-of-range values are refused naming the variable; production holds them to its bounds', () => {
      for (const [name, value] of Object.entries({
        DATABASE_CONNECT_TIMEOUT_MS: '50',
        DATABASE_STATEMENT_TIMEOUT_MS: '-1',
        DATABASE_POOL_IDLE_TIMEOUT_MS: 'soon',
      })) {
        expect(() => parseConfig({ [name]: value }), name).to.throw(new RegExp(`^  - ${name}: `, 'm'));
      }
      const strong = (seed: string) => createHash('sha256').update(seed).digest('hex');
      const good = {
        NODE_ENV: 'production',
        DATABASE_URL: `postgresql://agentic:${strong('db')}@db.internal:5432/agentic_sdlc?sslmode=verify-full`,
        REDIS_URL: `rediss://default:${strong('redis')}@cache.internal:6380`,
      };
      const refused = (env: Record<string, string>) =>
        productionRefusals(parseConfig({ ...good, ...env }), { redisEvictionPolicy: 'noeviction' }).map((r) => r.field);
      expect(refused({})).to.deep.equal([]);
      expect(refused({ DATABASE_STATEMENT_TIMEOUT_MS: '0' }), '0 leaves the server its own setting').to.deep.equal([]);
      expect(refused({ DATABASE_STATEMENT_TIMEOUT_MS: '600001' })).to.deep.equal(['DATABASE_STATEMENT_TIMEOUT_MS']);
      expect(refused({ DATABASE_CONNECT_TIMEOUT_MS: '999' })).to.deep.equal(['DATABASE_CONNECT_TIMEOUT_MS']);
      expect(refused({ DATABASE_CONNECT_TIMEOUT_MS: '60001' })).to.deep.equal(['DATABASE_CONNECT_TIMEOUT_MS']);
      expect(refused({ DATABASE_POOL_IDLE_TIMEOUT_MS: '600001' })).to.deep.equal(['DATABASE_POOL_IDLE_TIMEOUT_MS']);
    });
  });

  describe('Redis connections', () => {
    it('the formula: API 1; worker 2 + one per agent type + conductor + webhooks; npm start both', () => {
      expect(redisConnectionsOf({ api: true })).to.equal(1);
      expect(redisConnectionsOf({ api: false, worker: { agentTypes: 10, conductor: true, webhooks: false } })).to.equal(13);
      expect(redisConnectionsOf({ api: false, worker: { agentTypes: 10, conductor: false, webhooks: false } })).to.equal(12);
      expect(redisConnectionsOf({ api: false, worker: { agentTypes: 1, conductor: true, webhooks: true } })).to.equal(5);
      expect(redisConnectionsOf({ api: true, worker: { agentTypes: 12, conductor: true, webhooks: true } })).to.equal(17);
    });

    it('names: agentic-sdlc:<role>, then the owner with anything Redis refuses (spaces, controls) replaced', () => {
      expect(redisConnectionName('producer')).to.equal('agentic-sdlc:producer');
      expect(redisConnectionName('worker', 'host-1:123:ab12cd34')).to.equal('agentic-sdlc:worker:host-1:123:ab12cd34');
      expect(redisConnectionName('subscriber', 'my host\n:1')).to.equal('agentic-sdlc:subscriber:my_host_:1');
    });
  });
});
