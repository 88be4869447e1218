// Unit tests for masking (src/config/masking.ts) where configuration is shown: `config print`
// (src/composition/config-cli.ts, text and JSON), /health/detailed's section (maskedConfig), and
// the values the logger masks (configSecrets).
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { parseConfig, type LoadedConfig } from '../../src/config.js';
import { formatConfig, printableConfig } from '../../src/composition/config-cli.js';
import { maskedConfig, maskUrl, MASK } from '../../src/config/masking.js';
import { configSecrets } from '../../src/infra/telemetry/config-secrets.js';
import { createRedactor } from '../../src/domain/redact.js';

const strong = (seed: string) => createHash('sha256').update(seed).digest('hex');
const S = {
  metrics: strong('metrics'),
  jwt: strong('jwt'),
  webhook: strong('webhook'),
  unleash: strong('unleash'),
  db: strong('db-password'),
  redis: strong('redis-password'),
  hookToken: strong('hook-token'),
};
const ENV = {
  NODE_ENV: 'production',
  DATABASE_URL: `postgresql://agentic:${S.db}@db.internal:5432/agentic_sdlc?sslmode=require`,
  REDIS_URL: `rediss://default:${S.redis}@cache.internal:6380`,
  METRICS_TOKEN: S.metrics,
  JWT_SECRET: S.jwt,
  JWT_ISSUER: 'https://id.example.com',
  JWT_AUDIENCE: 'agentic-sdlc',
  WEBHOOK_URLS: `https://hooks.example.com/in?token=${S.hookToken}`,
  WEBHOOK_SECRET: S.webhook,
  UNLEASH_URL: 'https://unleash.internal/api',
  UNLEASH_API_TOKEN: S.unleash,
};

function loaded(): LoadedConfig {
  const config = parseConfig(ENV);
  const sources = Object.fromEntries(Object.keys(config).map((name) => [name, name in ENV ? ('env' as const) : ('default' as const)]));
  return { config, profile: 'production', sources, envFile: { path: '/srv/.env', found: false }, warnings: [] };
}

describe('configuration masking (unit)', () => {
  it('maskUrl: the password and credential-like query values masked; user, host, path and other parameters kept', () => {
    expect(maskUrl('postgresql://agentic:s3cret@db.internal:5432/app?sslmode=require&password=x')).to.equal(
      `postgresql://agentic:${MASK}@db.internal:5432/app?sslmode=require&password=${MASK}`,
    );
    expect(maskUrl('redis://:s3cret@cache:6379')).to.equal(`redis://:${MASK}@cache:6379`);
    expect(maskUrl('https://hooks.example.com/in?token=abc&team=ops')).to.equal(`https://hooks.example.com/in?token=${MASK}&team=ops`);
    expect(maskUrl('redis://127.0.0.1:6379')).to.equal('redis://127.0.0.1:6379');
  });

  it("maskUrl: on http(s) a user without a password is a credential (https://<token>@host); a user with one, or a database URL's, stays", () => {
    expect(maskUrl('https://ghp_0123456789abcdef@github.com/org/repo.git')).to.equal(`https://${MASK}@github.com/org/repo.git`);
    expect(maskUrl('http://user:pw@proxy.internal:3128/')).to.equal(`http://user:${MASK}@proxy.internal:3128/`);
    expect(maskUrl('postgresql://agentic@db.internal:5432/app')).to.equal('postgresql://agentic@db.internal:5432/app');
  });

  it('maskUrl with path: a webhook URL keeps its host and first path segment, the rest is masked', () => {
    const slack = 'https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX';
    expect(maskUrl(slack, { path: true })).to.equal(`https://hooks.slack.com/services/${MASK}`);
    expect(maskUrl('https://hooks.example.com/in', { path: true })).to.equal(`https://hooks.example.com/${MASK}`);
    expect(maskUrl('https://hooks.example.com/', { path: true })).to.equal('https://hooks.example.com/');
    expect(maskUrl(slack)).to.equal(slack);
  });

  it('config print (text): secrets as ••••(length), URL passwords masked, every value with its source', () => {
    const text = formatConfig(printableConfig(loaded()));
    for (const secret of Object.values(S)) expect(text).not.to.contain(secret);
    expect(text).to.match(/METRICS_TOKEN\s+••••\(64\)\s+\(env\)/);
    expect(text).to.match(/DATABASE_URL\s+postgresql:\/\/agentic:••••@db\.internal:5432\/agentic_sdlc\?sslmode=require\s+\(env\)/);
    expect(text).to.match(/WEBHOOK_URLS\s+https:\/\/hooks\.example\.com\/••••\?token=••••\s+\(env\)/);
    expect(text).to.match(/PORT\s+3000\s+\(default\)/);
    // a JSON-valued variable prints as JSON, not [object Object]
    expect(text).to.match(/AGENT_LIMITS\s+\{\}\s+\(default\)/);
    expect(text).to.contain('profile: production');
    expect(text).to.contain('production refusals: none');
  });

  it('config print --json: the same, as data', () => {
    const printed = JSON.parse(JSON.stringify(printableConfig(loaded()))) as { variables: Array<Record<string, unknown>>; profile: string };
    const json = JSON.stringify(printed);
    for (const secret of Object.values(S)) expect(json).not.to.contain(secret);
    expect(printed.profile).to.equal('production');
    expect(printed.variables.find((v) => v.name === 'JWT_SECRET')).to.deep.equal({
      name: 'JWT_SECRET',
      group: 'Identity',
      value: '••••(64)',
      source: 'env',
      secret: true,
    });
  });

  it('/health/detailed config section: every variable, nothing secret in it', () => {
    const section = maskedConfig(parseConfig(ENV));
    expect(Object.keys(section)).to.include.members(['NODE_ENV', 'DATABASE_URL', 'METRICS_TOKEN', 'HTTP_BODY_LIMIT']);
    const json = JSON.stringify(section);
    for (const secret of Object.values(S)) expect(json).not.to.contain(secret);
    expect(section.UNLEASH_API_TOKEN).to.equal('••••(64)');
    expect(section.CONFIG_MASTER_KEY).to.equal('');
  });

  it('configSecrets (the logger): every secret variable set, and URL passwords of 8 characters or more', () => {
    const secrets = configSecrets(parseConfig(ENV));
    expect(secrets).to.include.members([S.metrics, S.jwt, S.webhook, S.unleash, S.db, S.redis]);
    // 7 characters, and a password that is part of its own URL (postgres in postgresql://): not masked by value.
    expect(configSecrets(parseConfig({ REDIS_URL: 'redis://:pw12345@127.0.0.1:6379' }))).to.deep.equal([]);
    expect(configSecrets(parseConfig({ DATABASE_URL: 'postgresql://postgres:postgres@127.0.0.1/app' }))).to.deep.equal([]);
    expect(configSecrets(parseConfig({ REDIS_URL: 'redis://:longpass1@127.0.0.1:6379' }))).to.deep.equal(['longpass1']);
    const redact = createRedactor(secrets);
    expect(redact(`token ${S.unleash} and password ${S.db}`)).to.equal('token *** and password ***');
  });
});
