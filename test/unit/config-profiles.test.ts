// Unit tests for the profiles (src/config/profile.ts, src/config/env-schema.ts) and the registry
// they are built from (src/config/registry.ts): NODE_ENV is read first and picks the defaults.
import { expect } from 'chai';
import { ConfigError, parseConfig } from '../../src/config.js';
import { parseByteSize } from '../../src/config/byte-size.js';
import { exampleValueOf, PLACEHOLDER_MARK } from '../../src/config/env-example.js';
import { PROFILES } from '../../src/config/profile.js';
import { REGISTRY, SECRET_VARIABLES, VARIABLES } from '../../src/config/registry.js';
import { defaultFor } from '../../src/config/variable.js';

describe('configuration profiles (unit)', () => {
  it('each profile has its documented defaults; NODE_ENV unset is development', () => {
    const pick = (profile: string | undefined) => {
      const c = parseConfig(profile === undefined ? {} : { NODE_ENV: profile });
      return [c.NODE_ENV, c.LOG_LEVEL, c.LOG_FORMAT, c.HOST, c.REDIS_EVICTION_CHECK, c.BACKEND_TLS];
    };
    expect(pick(undefined)).to.deep.equal(['development', 'info', 'pretty', '127.0.0.1', 'warn', 'optional']);
    expect(pick('development')).to.deep.equal(['development', 'info', 'pretty', '127.0.0.1', 'warn', 'optional']);
    expect(pick('test')).to.deep.equal(['test', 'warn', 'json', '127.0.0.1', 'warn', 'optional']);
    expect(pick('production')).to.deep.equal(['production', 'info', 'json', '0.0.0.0', 'refuse', 'required']);
  });

  it('a value set wins over any profile default', () => {
    const config = parseConfig({ NODE_ENV: 'production', LOG_LEVEL: 'debug', HOST: '10.0.0.5', REDIS_EVICTION_CHECK: 'warn' });
    expect([config.LOG_LEVEL, config.HOST, config.REDIS_EVICTION_CHECK]).to.deep.equal(['debug', '10.0.0.5', 'warn']);
  });

  it('an unknown NODE_ENV is reported with the other problems (the rest parsed for development)', () => {
    try {
      parseConfig({ NODE_ENV: 'staging', PORT: 'x' });
      expect.fail('expected a ConfigError');
    } catch (error) {
      expect(error).to.be.instanceOf(ConfigError);
      expect((error as ConfigError).problems.map((p) => p.split(':')[0])).to.have.members(['NODE_ENV', 'PORT']);
    }
  });

  it('HTTP_BODY_LIMIT: a size, kept as written, up to 256mb; 0 and other units refused', () => {
    expect(parseConfig({ HTTP_BODY_LIMIT: '256mb' }).HTTP_BODY_LIMIT).to.equal('256mb');
    expect(parseConfig({ HTTP_BODY_LIMIT: '512KB' }).HTTP_BODY_LIMIT).to.equal('512KB');
    expect(parseByteSize('512KB')).to.equal(512 * 1024);
    for (const bad of ['257mb', '100000mb', '0mb', '1gb', 'big']) {
      expect(() => parseConfig({ HTTP_BODY_LIMIT: bad }), bad).to.throw(ConfigError, /HTTP_BODY_LIMIT/);
    }
  });

  it('the flag, master-key, ENV_FILE and BACKEND_TLS variables are in the registry with their defaults', () => {
    const config = parseConfig({});
    expect(config.UNLEASH_URL).to.equal(undefined);
    expect([config.UNLEASH_API_TOKEN, config.UNLEASH_APP_NAME, config.UNLEASH_ENVIRONMENT]).to.deep.equal(['', 'agentic-sdlc', 'default']);
    expect([config.UNLEASH_REFRESH_MS, config.FLAGS_FILE]).to.deep.equal([15_000, 'flags/flags.json']);
    expect([config.CONFIG_MASTER_KEY, config.CONFIG_MASTER_KEY_FILE, config.CONFIG_MASTER_KEY_PREVIOUS]).to.deep.equal(['', '', '']);
    expect(config.ENV_FILE).to.equal('.env');
    expect(SECRET_VARIABLES.map((v) => v.name)).to.have.members([
      'LLM_API_KEY',
      'DEPLOY_HOOK_TOKEN',
      'GITHUB_TOKEN',
      'WEBHOOK_SECRET',
      'WEBHOOK_SECRET_PREVIOUS',
      'METRICS_TOKEN',
      'JWT_SECRET',
      'UNLEASH_API_TOKEN',
      'CONFIG_MASTER_KEY',
      'CONFIG_MASTER_KEY_PREVIOUS',
    ]);
  });

  it('registry: every variable without a default may be unset, every default parses in every profile', () => {
    for (const spec of VARIABLES) {
      for (const profile of PROFILES) {
        const fallback = defaultFor(spec, profile);
        const parsed = spec.schema.safeParse(fallback);
        expect(parsed.success, `${spec.name} default in ${profile}: ${JSON.stringify(fallback)}`).to.equal(true);
      }
      expect(spec.description.length, `${spec.name} has a description`).to.be.greaterThan(10);
    }
  });

  it('registry: every secret has a change-me placeholder in the example; every variable a type', () => {
    for (const spec of SECRET_VARIABLES) expect(exampleValueOf(spec), spec.name).to.contain(PLACEHOLDER_MARK);
    for (const spec of VARIABLES) expect(spec.type, spec.name).to.be.a('string').and.not.equal('');
    expect(Object.keys(REGISTRY)).to.have.length(VARIABLES.length);
  });
});
