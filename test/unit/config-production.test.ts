// Unit tests for the production refusals (src/config/production-refusals.ts): each reason case by
// case on a configuration that is otherwise good, every reason of a bad one at once, and no
// message that quotes a value. Pure: parseConfig and productionRefusals take plain records.
import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { ConfigError, parseConfig, type Config } from '../../src/config.js';
import { placeholdersIn, renderEnvExample } from '../../src/config/env-example.js';
import {
  assertProductionReady,
  productionRefusals,
  refusedConfigError,
  type ProductionFacts,
  type Refusal,
} from '../../src/config/production-refusals.js';
import { secretWeakness } from '../../src/config/secret-strength.js';

/** A strong, deterministic secret (64 hex digits) per seed. */
const strong = (seed: string) => createHash('sha256').update(seed).digest('hex');

const GOOD: Record<string, string> = {
  NODE_ENV: 'production',
  DATABASE_URL: `postgresql://agentic:${strong('db')}@db.internal:5432/agentic_sdlc?sslmode=verify-full`,
  REDIS_URL: `rediss://default:${strong('redis')}@cache.internal:6380`,
};
const NOEVICTION: ProductionFacts = { redisEvictionPolicy: 'noeviction' };

function production(env: Record<string, string> = {}): Config {
  return parseConfig({ ...GOOD, ...env });
}

function refusalsOf(env: Record<string, string> = {}, facts: ProductionFacts = NOEVICTION): Refusal[] {
  return productionRefusals(production(env), facts);
}

/** The one refusal `env` causes (a test fails when it causes none, or more). */
function onlyRefusal(env: Record<string, string>, facts: ProductionFacts = NOEVICTION): Refusal {
  const refusals = refusalsOf(env, facts);
  expect(refusals, JSON.stringify(refusals)).to.have.length(1);
  return refusals[0]!;
}

describe('production refusals (unit)', () => {
  it('a good production configuration: no reason', () => {
    expect(refusalsOf()).to.deep.equal([]);
    expect(
      refusalsOf({
        METRICS_TOKEN: strong('metrics'),
        JWT_SECRET: strong('jwt'),
        JWT_ISSUER: 'https://id.example.com',
        JWT_AUDIENCE: 'agentic-sdlc',
        WEBHOOK_URLS: 'https://hooks.example.com/in',
        WEBHOOK_SECRET: randomBytes(24).toString('base64'),
        UNLEASH_URL: 'https://unleash.internal/api',
        UNLEASH_API_TOKEN: `default:production.${strong('unleash')}`,
        HTTP_BODY_LIMIT: '32mb',
        HOST: '10.0.3.7',
      }),
    ).to.deep.equal([]);
  });

  describe('missing auth secrets', () => {
    it('DATABASE_URL without a password', () => {
      const refusal = onlyRefusal({ DATABASE_URL: 'postgresql://agentic@db.internal:5432/agentic_sdlc?sslmode=require' });
      expect(refusal.field).to.equal('DATABASE_URL');
      expect(refusal.message).to.match(/has no password/);
    });

    it('REDIS_URL without a password (a user name alone is none)', () => {
      for (const url of ['rediss://cache.internal:6380', 'rediss://default@cache.internal:6380']) {
        const refusal = onlyRefusal({ REDIS_URL: url });
        expect(refusal.field, url).to.equal('REDIS_URL');
        expect(refusal.message).to.match(/has no password/);
      }
    });

    it('WEBHOOK_SECRET missing while WEBHOOK_URLS is set (the schema already refuses it; the check holds on its own)', () => {
      expect(() => production({ WEBHOOK_URLS: 'https://hooks.example.com/in' })).to.throw(ConfigError, /WEBHOOK_SECRET/);
      const config: Config = { ...production(), WEBHOOK_URLS: ['https://hooks.example.com/in'], WEBHOOK_SECRET: '' };
      expect(productionRefusals(config, NOEVICTION).map((r) => r.field)).to.deep.equal(['WEBHOOK_SECRET']);
    });

    it('UNLEASH_API_TOKEN missing while UNLEASH_URL is set', () => {
      const refusal = onlyRefusal({ UNLEASH_URL: 'https://unleash.internal/api' });
      expect(refusal.field).to.equal('UNLEASH_API_TOKEN');
      expect(refusal.message).to.match(/required when UNLEASH_URL is set/);
    });
  });

  describe('weak secrets', () => {
    it('shorter than 32 characters: each secret variable, and the passwords in DATABASE_URL and REDIS_URL', () => {
      const short = randomBytes(10).toString('hex'); // 20 random characters
      const cases: Array<[Record<string, string>, string]> = [
        [{ WEBHOOK_URLS: 'https://hooks.example.com/in', WEBHOOK_SECRET: short }, 'WEBHOOK_SECRET'],
        [{ UNLEASH_URL: 'https://unleash.internal/api', UNLEASH_API_TOKEN: short }, 'UNLEASH_API_TOKEN'],
        [{ DATABASE_URL: `postgresql://agentic:${short}@db.internal/agentic_sdlc?sslmode=require` }, 'DATABASE_URL (password)'],
        [{ REDIS_URL: `rediss://:${short}@cache.internal:6380` }, 'REDIS_URL (password)'],
      ];
      for (const [env, field] of cases) {
        const refusal = onlyRefusal(env);
        expect(refusal.field).to.equal(field);
        expect(refusal.message).to.match(/is 20 characters long; production needs 32 at least/);
      }
    });

    it('low entropy: one character, a repeated pattern, a repeated word, a run of neighbours, a long run', () => {
      const weak: Array<[string, RegExp]> = [
        ['a'.repeat(32), /only 1 distinct characters/],
        ['0123456789'.repeat(4), /repeats a 10-character pattern/],
        ['password'.repeat(4), /only 7 distinct characters/],
        ['Passw0rd!'.repeat(4), /repeats a 9-character pattern/],
        ['abcdefghijklmnopqrstuvwxyzABCDEF', /run of neighbouring characters/],
        [`${'x'.repeat(16)}${strong('tail').slice(0, 16)}`, /repeats 16 times in a row/],
      ];
      for (const [value, why] of weak) {
        for (const name of ['METRICS_TOKEN', 'JWT_SECRET'] as const) {
          const jwt: Record<string, string> = name === 'JWT_SECRET' ? { JWT_ISSUER: 'iss', JWT_AUDIENCE: 'aud' } : {};
          const refusal = onlyRefusal({ [name]: value, ...jwt });
          expect(refusal.field).to.equal(name);
          expect(refusal.message, value).to.match(why);
          expect(refusal.message).to.match(/has low entropy/);
        }
      }
    });

    it('random secrets of openssl rand -hex 16 / -hex 32 / -base64 24 always pass', () => {
      for (let i = 0; i < 2000; i++) {
        for (const value of [randomBytes(16).toString('hex'), randomBytes(32).toString('hex'), randomBytes(24).toString('base64')]) {
          expect(secretWeakness(value), value).to.equal(undefined);
        }
      }
    });

    it('the master keys are secrets too', () => {
      const refusal = onlyRefusal({ CONFIG_MASTER_KEY_PREVIOUS: 'k'.repeat(44) });
      expect(refusal.field).to.equal('CONFIG_MASTER_KEY_PREVIOUS');
    });
  });

  it('the same value for two secrets: one reason naming both (variables, and URL passwords)', () => {
    const shared = strong('shared');
    const refusal = onlyRefusal({ METRICS_TOKEN: shared, WEBHOOK_URLS: 'https://hooks.example.com/in', WEBHOOK_SECRET: shared });
    expect(refusal.field).to.equal('WEBHOOK_SECRET');
    expect(refusal.message).to.equal('has the same value as METRICS_TOKEN: give every secret its own value');

    const password = strong('one-password');
    const twice = onlyRefusal({
      DATABASE_URL: `postgresql://agentic:${password}@db.internal/agentic_sdlc?sslmode=require`,
      REDIS_URL: `rediss://:${password}@cache.internal:6380`,
    });
    expect(twice.field).to.equal('DATABASE_URL (password)');
    expect(twice.message).to.contain('REDIS_URL (password)');
  });

  describe('values from .env.production.example', () => {
    it("the example's DATABASE_URL and REDIS_URL, copied as they are", () => {
      const example = placeholdersIn(renderEnvExample());
      expect([...example]).to.include.members(['change-me-database-password', 'change-me-redis-password']);
      const refusals = refusalsOf({
        DATABASE_URL: 'postgresql://agentic:change-me-database-password@db.internal.example.com:5432/agentic_sdlc?sslmode=verify-full',
        REDIS_URL: 'rediss://default:change-me-redis-password@redis.internal.example.com:6380',
      });
      expect(refusals.map((r) => r.field)).to.deep.equal(['DATABASE_URL (password)', 'REDIS_URL (password)']);
      for (const r of refusals) expect(r.message).to.match(/placeholder from \.env\.production\.example/);
    });

    it('any secret holding change-me (the old example password too), and any placeholder the example file holds', () => {
      const refusal = onlyRefusal({ WEBHOOK_URLS: 'https://hooks.example.com/in', WEBHOOK_SECRET: 'change-me-webhook-secret' });
      expect(refusal.field).to.equal('WEBHOOK_SECRET');
      expect(onlyRefusal({ REDIS_URL: 'rediss://default:change-me-example-only@cache.internal:6380' }).field).to.equal(
        'REDIS_URL (password)',
      );

      // An example file whose password placeholder holds no mark is still read for its values.
      const custom = placeholdersIn(
        '# A comment\nDATABASE_URL=postgresql://app:Xk29fLq0PzW8vN3sT6yB1cR5mH7jD4gE@db/app\n# METRICS_TOKEN=abc\n',
      );
      const placeholder = 'Xk29fLq0PzW8vN3sT6yB1cR5mH7jD4gE';
      const refused = productionRefusals(production({ DATABASE_URL: `postgresql://app:${placeholder}@db.internal/app?sslmode=require` }), {
        ...NOEVICTION,
        placeholders: custom,
      });
      expect(refused.map((r) => r.field)).to.deep.equal(['DATABASE_URL (password)']);
    });
  });

  describe('Redis eviction', () => {
    it('a maxmemory-policy other than noeviction is a reason on REDIS_URL; an unknown policy (CONFIG refused) is not', () => {
      const refusal = onlyRefusal({}, { redisEvictionPolicy: 'allkeys-lru' });
      expect(refusal.field).to.equal('REDIS_URL');
      expect(refusal.message).to.contain('maxmemory-policy "allkeys-lru"');
      expect(refusalsOf({}, {})).to.deep.equal([]);
    });

    it('REDIS_EVICTION_CHECK=warn is refused in production', () => {
      expect(onlyRefusal({ REDIS_EVICTION_CHECK: 'warn' }).field).to.equal('REDIS_EVICTION_CHECK');
    });
  });

  describe('limits outside the production bounds', () => {
    it('HTTP_BODY_LIMIT: over 32mb refused in production, over 256mb refused everywhere (100000mb among them)', () => {
      expect(refusalsOf({ HTTP_BODY_LIMIT: '32mb' })).to.deep.equal([]);
      const refusal = onlyRefusal({ HTTP_BODY_LIMIT: '33mb' });
      expect(refusal).to.deep.include({ field: 'HTTP_BODY_LIMIT' });
      expect(refusal.message).to.contain('at most 32mb');
      for (const profile of ['development', 'production']) {
        expect(() => parseConfig({ ...GOOD, NODE_ENV: profile, HTTP_BODY_LIMIT: '100000mb' })).to.throw(
          ConfigError,
          /HTTP_BODY_LIMIT: at most 256mb/,
        );
      }
    });

    it('DATABASE_POOL_SIZE over 100, each rate limit at 0, JSON caps, quotas and SHUTDOWN_GRACE_MS out of bounds', () => {
      const cases: Record<string, string> = {
        DATABASE_POOL_SIZE: '101',
        RATE_LIMIT_PER_ADDRESS: '0',
        RATE_LIMIT_PER_IDENTITY: '0',
        RATE_LIMIT_SUBMIT: '0',
        RATE_LIMIT_AUTH_FAILURES: '0',
        JSON_MAX_DEPTH: '65',
        JSON_MAX_KEY_LENGTH: '4097',
        JSON_MAX_STRING_LENGTH: String(16 * 1024 * 1024 + 1),
        MAX_SUBMISSION_INPUT_BYTES: String(32 * 1024 * 1024 + 1),
        SHUTDOWN_GRACE_MS: '0',
        MAX_EVENT_STREAMS: '100001',
      };
      for (const [name, value] of Object.entries(cases)) {
        const refusal = onlyRefusal({ [name]: value });
        expect(refusal.field).to.equal(name);
        expect(refusal.message).to.match(/is outside the production bounds \(/);
      }
    });

    it('the same values are accepted by the development and test profiles', () => {
      const config = parseConfig({ NODE_ENV: 'development', DATABASE_POOL_SIZE: '150', RATE_LIMIT_SUBMIT: '0', HTTP_BODY_LIMIT: '64mb' });
      expect([config.DATABASE_POOL_SIZE, config.RATE_LIMIT_SUBMIT, config.HTTP_BODY_LIMIT]).to.deep.equal([150, 0, '64mb']);
    });
  });

  describe('bind address and TLS', () => {
    it('NODE_TLS_REJECT_UNAUTHORIZED=0 is refused; 1 or unset is fine', () => {
      expect(onlyRefusal({ NODE_TLS_REJECT_UNAUTHORIZED: '0' }).field).to.equal('NODE_TLS_REJECT_UNAUTHORIZED');
      expect(refusalsOf({ NODE_TLS_REJECT_UNAUTHORIZED: '1' })).to.deep.equal([]);
    });

    it('HOST: a public IP address is refused; wildcard, loopback, private addresses and host names are not', () => {
      for (const host of ['203.0.113.7', '8.8.8.8', '2001:4860:4860::8888']) {
        const refusal = onlyRefusal({ HOST: host });
        expect(refusal.field, host).to.equal('HOST');
        expect(refusal.message).to.contain('TLS-terminating proxy');
      }
      for (const host of [
        '0.0.0.0',
        '::',
        '127.0.0.1',
        '::1',
        '10.1.2.3',
        '172.20.0.5',
        '192.168.1.10',
        '100.64.0.1',
        'fd00::5',
        'api.internal',
      ])
        expect(refusalsOf({ HOST: host }), host).to.deep.equal([]);
    });

    it('WORKER_METRICS_HOST: a public IP address is refused (the worker answers /health and /metrics without credentials); wildcard and private are not', () => {
      for (const host of ['203.0.113.7', '2001:4860:4860::8888']) {
        const refusal = onlyRefusal({ WORKER_METRICS_HOST: host });
        expect(refusal.field, host).to.equal('WORKER_METRICS_HOST');
        expect(refusal.message).to.contain('without credentials');
      }
      for (const host of ['0.0.0.0', '::', '127.0.0.1', '10.1.2.3', 'fd00::5', 'worker.internal'])
        expect(refusalsOf({ WORKER_METRICS_HOST: host }), host).to.deep.equal([]);
    });

    it('plaintext Postgres to a host that is not loopback: refused without sslmode, or with disable/prefer', () => {
      for (const query of ['', '?sslmode=disable', '?sslmode=prefer']) {
        const refusal = onlyRefusal({ DATABASE_URL: `postgresql://agentic:${strong('db')}@db.internal:5432/agentic_sdlc${query}` });
        expect(refusal.field, query).to.equal('DATABASE_URL');
        expect(refusal.message).to.contain('without TLS');
      }
      for (const query of ['?sslmode=require', '?sslmode=verify-ca', '?ssl=true'])
        expect(
          refusalsOf({ DATABASE_URL: `postgresql://agentic:${strong('db')}@db.internal:5432/agentic_sdlc${query}` }),
          query,
        ).to.deep.equal([]);
    });

    it('plaintext Redis (redis://) to a host that is not loopback: refused', () => {
      const refusal = onlyRefusal({ REDIS_URL: `redis://:${strong('redis')}@cache.internal:6379` });
      expect(refusal.field).to.equal('REDIS_URL');
      expect(refusal.message).to.contain('redis://, not rediss://');
    });

    it('loopback and Unix sockets need no TLS; BACKEND_TLS=optional allows plaintext on a private network', () => {
      const local = {
        DATABASE_URL: `postgresql://agentic:${strong('db')}@127.0.0.1:5432/agentic_sdlc`,
        REDIS_URL: `redis://:${strong('redis')}@localhost:6379`,
      };
      expect(refusalsOf(local)).to.deep.equal([]);
      expect(refusalsOf({ DATABASE_URL: `postgresql://agentic:${strong('db')}@db/agentic_sdlc?host=/run/postgresql` })).to.deep.equal([]);
      const compose = {
        BACKEND_TLS: 'optional',
        DATABASE_URL: `postgresql://postgres:${strong('db')}@postgres:5432/agentic_sdlc`,
        REDIS_URL: `redis://:${strong('redis')}@redis:6379`,
      };
      expect(refusalsOf(compose)).to.deep.equal([]);
    });
  });

  it('a bad configuration: every reason at once, one line each, no secret value printed', () => {
    const secrets = { metrics: 'a'.repeat(32), jwt: 'short-jwt-secret-0123456789abcdef'.slice(0, 20), db: 'change-me-database-password' };
    const env = {
      HOST: '203.0.113.7',
      DATABASE_URL: `postgresql://agentic:${secrets.db}@db.internal.example.com:5432/agentic_sdlc`,
      REDIS_URL: 'redis://cache.internal:6379',
      METRICS_TOKEN: secrets.metrics,
      WEBHOOK_URLS: 'https://hooks.example.com/in',
      WEBHOOK_SECRET: secrets.metrics,
      HTTP_BODY_LIMIT: '100mb',
      RATE_LIMIT_PER_ADDRESS: '0',
      NODE_TLS_REJECT_UNAUTHORIZED: '0',
      REDIS_EVICTION_CHECK: 'warn',
    };
    const refusals = refusalsOf(env, { redisEvictionPolicy: 'allkeys-lru' });
    expect(refusals.map((r) => r.field)).to.deep.equal([
      'REDIS_URL',
      'DATABASE_URL (password)',
      'WEBHOOK_SECRET',
      'METRICS_TOKEN',
      'WEBHOOK_SECRET',
      'REDIS_EVICTION_CHECK',
      'REDIS_URL',
      'HTTP_BODY_LIMIT',
      'RATE_LIMIT_PER_ADDRESS',
      'NODE_TLS_REJECT_UNAUTHORIZED',
      'HOST',
      'DATABASE_URL',
      'REDIS_URL',
    ]);
    const error = refusedConfigError(refusals);
    expect(error).to.be.instanceOf(ConfigError);
    expect(error.code).to.equal('CONFIG_REFUSED');
    expect(error.details).to.have.length(refusals.length);
    const lines = error.message.split('\n');
    expect(lines[0]).to.match(/^Refusing to start: the production profile \(NODE_ENV=production\) does not accept 13 setting\(s\):$/);
    expect(lines.filter((l) => l.startsWith('  - '))).to.have.length(13);
    for (const value of Object.values(secrets)) expect(error.message).not.to.contain(value);
  });

  it('assertProductionReady: throws CONFIG_REFUSED; adds "Redis unreachable" only beside other reasons', () => {
    expect(() =>
      assertProductionReady(production(), { ...NOEVICTION, redisUnreachable: 'Redis is unreachable at cache.internal:6380' }),
    ).not.to.throw();
    try {
      assertProductionReady(production({ RATE_LIMIT_SUBMIT: '0' }), {
        redisUnreachable: 'Redis is unreachable at cache.internal:6380 (REDIS_URL)',
      });
      expect.fail('expected a refusal');
    } catch (error) {
      expect(error).to.be.instanceOf(ConfigError);
      expect((error as ConfigError).code).to.equal('CONFIG_REFUSED');
      expect((error as ConfigError).problems).to.deep.equal([
        'RATE_LIMIT_SUBMIT: is outside the production bounds (at least 1): production keeps every rate limit on (0 turns it off)',
        'REDIS_URL: Redis is unreachable at cache.internal:6380 (REDIS_URL)',
      ]);
    }
  });
});
