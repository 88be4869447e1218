// Unit tests for the environment schema (src/config.ts): parseConfig takes a plain record, no I/O.
import { expect } from 'chai';
import { ConfigError, parseConfig } from '../../src/config.js';

/** Runs parseConfig expecting a ConfigError and returns it. */
function configErrorOf(env: Record<string, string | undefined>): ConfigError {
  try {
    parseConfig(env);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return error as ConfigError;
  }
  expect.fail('expected parseConfig to throw');
}

describe('parseConfig', () => {
  it('CORS_ORIGINS: exact origins only; a path, a trailing slash or another scheme is refused naming the variable', () => {
    expect(parseConfig({ CORS_ORIGINS: 'https://ops.example.com, http://localhost:5173' }).CORS_ORIGINS).to.deep.equal([
      'https://ops.example.com',
      'http://localhost:5173',
    ]);
    for (const bad of ['https://ops.example.com/', 'https://ops.example.com/app', 'ftp://ops.example.com', '*']) {
      expect(configErrorOf({ CORS_ORIGINS: bad }).problems.join('\n'), bad).to.match(/^CORS_ORIGINS: /);
    }
  });

  it('WEBHOOK_URLS: http(s) URLs only, comma-separated', () => {
    expect(configErrorOf({ WEBHOOK_URLS: 'https://a.example/hook, nope', WEBHOOK_SECRET: 'x'.repeat(16) }).problems.join('\n')).to.match(
      /^WEBHOOK_URLS: /,
    );
  });

  it('WEBHOOK_SECRET_PREVIOUS: empty by default, 16 characters at least when set', () => {
    expect(parseConfig({}).WEBHOOK_SECRET_PREVIOUS).to.equal('');
    expect(configErrorOf({ WEBHOOK_SECRET_PREVIOUS: 'short' }).problems.join('\n')).to.match(/^WEBHOOK_SECRET_PREVIOUS: /);
    expect(parseConfig({ WEBHOOK_SECRET_PREVIOUS: 'p'.repeat(16) }).WEBHOOK_SECRET_PREVIOUS).to.equal('p'.repeat(16));
  });

  it('comma-separated lists are parsed here: trimmed, empty items dropped, empty value is none', () => {
    const config = parseConfig({ WORKER_AGENTS: ' noop, sleep,, ', JWT_ALGORITHMS: 'RS256,ES256', WEBHOOK_URLS: '' });
    expect(config.WORKER_AGENTS).to.deep.equal(['noop', 'sleep']);
    expect(config.JWT_ALGORITHMS).to.deep.equal(['RS256', 'ES256']);
    expect(config.WEBHOOK_URLS).to.deep.equal([]);
    expect(configErrorOf({ JWT_ALGORITHMS: 'HS256, none' }).problems.join('\n')).to.match(/^JWT_ALGORITHMS: /);
  });

  it('empty environment: applies the documented defaults', () => {
    // Arrange
    const env = {};

    // Act
    const config = parseConfig(env);

    // Assert
    expect(config.REDIS_URL).to.equal('redis://127.0.0.1:6379');
    expect(config.DATABASE_URL).to.equal('postgresql://postgres@127.0.0.1:5432/agentic_sdlc');
    expect(config.PORT).to.equal(3000);
    expect(config.NODE_ENV).to.equal('development');
    expect(config.HTTP_BODY_LIMIT).to.equal('2mb');
    expect(config.QUEUE_PREFIX).to.equal('{sdlc}');
    expect(config.BACKLOG_HIGH_WATER).to.equal(1000);
    expect(config.MAX_STAGES_PER_PIPELINE).to.equal(100);
    expect(config.MAX_SUBMISSION_INPUT_BYTES).to.equal(1024 * 1024);
    expect(config.RESPONSE_PAGE_BYTES).to.equal(1024 * 1024);
    expect(config.MAX_EVENT_STREAMS_PER_IDENTITY).to.equal(10);
    expect(config.MAX_EVENT_STREAMS).to.equal(1000);
  });

  it('MAX_STAGES_PER_PIPELINE over the definition ceiling (500): throws naming it', () => {
    const error = configErrorOf({ MAX_STAGES_PER_PIPELINE: '501' });

    expect(error.problems[0]).to.match(/^MAX_STAGES_PER_PIPELINE: /);
  });

  it('valid values: parses them, coercing numbers', () => {
    const config = parseConfig({ PORT: '8080', REDIS_URL: 'rediss://cache.example:6380', DATABASE_URL: 'postgres://db.example/app' });

    expect(config.PORT).to.equal(8080);
    expect(config.REDIS_URL).to.equal('rediss://cache.example:6380');
    expect(config.DATABASE_URL).to.equal('postgres://db.example/app');
  });

  it('non-numeric PORT: throws a ConfigError naming PORT', () => {
    const error = configErrorOf({ PORT: 'eighty' });

    expect(error.message).to.contain('PORT');
    expect(error.problems).to.have.length(1);
    expect(error.problems[0]).to.match(/^PORT: /);
  });

  it('PORT out of range: throws a ConfigError naming PORT', () => {
    const error = configErrorOf({ PORT: '70000' });

    expect(error.problems[0]).to.match(/^PORT: /);
  });

  it('REDIS_URL with the wrong protocol: throws a ConfigError naming REDIS_URL', () => {
    const error = configErrorOf({ REDIS_URL: 'http://127.0.0.1:6379' });

    expect(error.message).to.contain('REDIS_URL');
    expect(error.problems).to.have.length(1);
    expect(error.problems[0]).to.match(/^REDIS_URL: /);
  });

  it('REDIS_URL that is not a URL: throws a ConfigError naming REDIS_URL', () => {
    const error = configErrorOf({ REDIS_URL: 'not a url' });

    expect(error.problems[0]).to.match(/^REDIS_URL: /);
  });

  it('several bad variables: names every one of them', () => {
    const error = configErrorOf({ PORT: 'x', REDIS_URL: 'x' });

    expect(error.problems.map((p) => p.split(':')[0])).to.have.members(['PORT', 'REDIS_URL']);
  });

  it('empty strings: fall back to the defaults', () => {
    const config = parseConfig({ PORT: '', REDIS_URL: '', DATABASE_URL: '', HTTP_BODY_LIMIT: '' });

    expect(config.PORT).to.equal(3000);
    expect(config.REDIS_URL).to.equal('redis://127.0.0.1:6379');
    expect(config.DATABASE_URL).to.equal('postgresql://postgres@127.0.0.1:5432/agentic_sdlc');
    expect(config.HTTP_BODY_LIMIT).to.equal('2mb');
  });

  it('undefined values: fall back to the defaults', () => {
    const config = parseConfig({ PORT: undefined, REDIS_URL: undefined });

    expect(config.PORT).to.equal(3000);
    expect(config.REDIS_URL).to.equal('redis://127.0.0.1:6379');
  });
});
