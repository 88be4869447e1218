// What the production profile refuses to start with, every reason at once: missing or weak
// secrets, secrets used twice or copied from the example file, an evicting Redis, limits outside
// their production bounds, a public bind address, TLS turned off. Pure: the caller brings what it
// learned from Redis. Reasons name the variable and never quote a value.
import { parseClusterNode } from '../domain/redis-cluster.js';
import { boundsViolation } from './bounds.js';
import { ConfigError, problemLines } from './config-error.js';
import { PLACEHOLDER_MARK, placeholdersIn, renderEnvExample } from './env-example.js';
import { isLoopbackHost, isPublicIpAddress } from './network-address.js';
import { VARIABLES, type Config } from './registry.js';
import { secretWeakness } from './secret-strength.js';
import { ownSecrets, urlPassword } from './secret-values.js';

export interface Refusal {
  field: string;
  message: string;
}

export interface ProductionFacts {
  /** Redis' maxmemory-policy as read at boot; undefined when it could not be read. */
  redisEvictionPolicy?: string;
  /** Placeholder values of the example file (default: those of the generated .env.production.example). */
  placeholders?: ReadonlySet<string>;
}

let generatedPlaceholders: Set<string> | undefined;
const defaultPlaceholders = () => (generatedPlaceholders ??= placeholdersIn(renderEnvExample()));

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}

/** Credentials production cannot run without. */
function missingSecrets(config: Config): Refusal[] {
  const refusals: Refusal[] = [];
  if (urlPassword(config.DATABASE_URL) === undefined)
    refusals.push({ field: 'DATABASE_URL', message: 'has no password: production connects to Postgres with password authentication' });
  if (urlPassword(config.REDIS_URL) === undefined)
    refusals.push({
      field: 'REDIS_URL',
      message: 'has no password: production needs a Redis that requires one (requirepass or an ACL user)',
    });
  if (config.WEBHOOK_URLS.length > 0 && config.WEBHOOK_SECRET === '')
    refusals.push({ field: 'WEBHOOK_SECRET', message: 'is required when WEBHOOK_URLS is set: receivers check the signature made with it' });
  if (config.UNLEASH_URL !== undefined && config.UNLEASH_API_TOKEN === '')
    refusals.push({ field: 'UNLEASH_API_TOKEN', message: 'is required when UNLEASH_URL is set: a client token of that Unleash server' });
  return refusals;
}

/** Weak, reused or example secrets. */
function badSecrets(config: Config, placeholders: ReadonlySet<string>): Refusal[] {
  const refusals: Refusal[] = [];
  const secrets = ownSecrets(config);
  for (const secret of secrets) {
    if (placeholders.has(secret.value) || secret.value.toLowerCase().includes(PLACEHOLDER_MARK)) {
      refusals.push({
        field: secret.field,
        message: `is a placeholder from .env.production.example (${PLACEHOLDER_MARK}…): set a real secret`,
      });
      continue;
    }
    const weakness = secretWeakness(secret.value);
    if (weakness) refusals.push({ field: secret.field, message: `${weakness}; make one with \`openssl rand -hex 32\`` });
  }
  const byValue = new Map<string, string[]>();
  for (const secret of secrets) byValue.set(secret.value, [...(byValue.get(secret.value) ?? []), secret.field]);
  for (const fields of byValue.values()) {
    const [first, ...others] = fields;
    if (first !== undefined && others.length > 0)
      refusals.push({ field: first, message: `has the same value as ${others.join(', ')}: give every secret its own value` });
  }
  return refusals;
}

function redisRefusals(config: Config, policy: string | undefined): Refusal[] {
  const refusals: Refusal[] = [];
  if (config.REDIS_EVICTION_CHECK === 'warn')
    refusals.push({ field: 'REDIS_EVICTION_CHECK', message: '`warn` is refused in production: an evicting Redis loses jobs and locks' });
  if (policy !== undefined && policy !== 'noeviction')
    refusals.push({
      field: 'REDIS_URL',
      message: `Redis has maxmemory-policy "${policy}"; BullMQ needs "noeviction" (CONFIG SET maxmemory-policy noeviction, then CONFIG REWRITE)`,
    });
  return refusals;
}

function boundsRefusals(config: Config): Refusal[] {
  return VARIABLES.flatMap((spec) => {
    const message = boundsViolation(spec, (config as Record<string, unknown>)[spec.name]);
    return message ? [{ field: spec.name, message }] : [];
  });
}

/** Postgres over TLS: `sslmode` require, verify-ca or verify-full (or `ssl=true`). */
function postgresUsesTls(url: string): boolean {
  try {
    const params = new URL(url).searchParams;
    return ['require', 'verify-ca', 'verify-full'].includes(params.get('sslmode') ?? '') || ['true', '1'].includes(params.get('ssl') ?? '');
  } catch {
    return false;
  }
}

/** A Postgres reached through a Unix socket (`?host=/run/postgresql`, or no host at all) never leaves the machine. */
function postgresIsLocal(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return parsed.hostname === '' || (parsed.searchParams.get('host') ?? '').startsWith('/') || isLoopbackHost(parsed.hostname);
}

function networkRefusals(config: Config): Refusal[] {
  const refusals: Refusal[] = [];
  if (config.NODE_TLS_REJECT_UNAUTHORIZED === '0')
    refusals.push({
      field: 'NODE_TLS_REJECT_UNAUTHORIZED',
      message: '`0` turns off certificate checks for every TLS connection: unset it',
    });
  if (isPublicIpAddress(config.HOST))
    refusals.push({
      field: 'HOST',
      message: 'is a public IP address: the API speaks plain HTTP; bind to a private or wildcard address behind a TLS-terminating proxy',
    });
  if (isPublicIpAddress(config.WORKER_METRICS_HOST))
    refusals.push({
      field: 'WORKER_METRICS_HOST',
      message:
        "is a public IP address: the worker's /health and /metrics answer without credentials; bind to a private or wildcard address on a private network",
    });
  if (config.BACKEND_TLS === 'required') {
    const optOut = 'use TLS, or set BACKEND_TLS=optional on a private network you trust';
    if (!postgresUsesTls(config.DATABASE_URL) && !postgresIsLocal(config.DATABASE_URL))
      refusals.push({
        field: 'DATABASE_URL',
        message: `reaches a host that is not loopback without TLS (sslmode missing or not require/verify-*): ${optOut}`,
      });
    if (new URL(config.REDIS_URL).protocol === 'redis:' && !isLoopbackHost(hostOf(config.REDIS_URL)))
      refusals.push({
        field: 'REDIS_URL',
        message: `reaches a host that is not loopback without TLS (redis://, not rediss://): ${optOut}`,
      });
    // Cluster nodes take their TLS from REDIS_URL's scheme.
    if (
      new URL(config.REDIS_URL).protocol === 'redis:' &&
      config.REDIS_CLUSTER_NODES.some((node) => !isLoopbackHost(parseClusterNode(node).host))
    )
      refusals.push({
        field: 'REDIS_CLUSTER_NODES',
        message: `names a host that is not loopback, and REDIS_URL says redis:// (no TLS) for every node: make it rediss://, or set BACKEND_TLS=optional on a private network you trust`,
      });
  }
  return refusals;
}

/** Every reason the production profile refuses `config`, in a stable order; empty when it may start. */
export function productionRefusals(config: Config, facts: ProductionFacts = {}): Refusal[] {
  return [
    ...missingSecrets(config),
    ...badSecrets(config, facts.placeholders ?? defaultPlaceholders()),
    ...redisRefusals(config, facts.redisEvictionPolicy),
    ...boundsRefusals(config),
    ...networkRefusals(config),
  ];
}

/** The error that stops a refused production start: one line, and one detail, per reason. */
export function refusedConfigError(refusals: readonly Refusal[]): ConfigError {
  const message = problemLines(
    `Refusing to start: the production profile (NODE_ENV=production) does not accept ${refusals.length} setting(s):`,
    refusals,
  );
  return new ConfigError('CONFIG_REFUSED', `${message}\nFix each one (docs/configuration.md, "Production refusals"), then start again.`, {
    details: refusals.map(({ field, message: why }) => ({ field, message: why })),
  });
}

/**
 * Throws CONFIG_REFUSED naming every reason when production refuses `config`. `redisUnreachable`
 * (the first line of that error) joins the list when there are other reasons, so one start shows
 * them all; alone, the caller throws its own, more helpful error.
 */
export function assertProductionReady(config: Config, facts: ProductionFacts & { redisUnreachable?: string } = {}): void {
  const refusals = productionRefusals(config, facts);
  if (refusals.length === 0) return;
  if (facts.redisUnreachable) refusals.push({ field: 'REDIS_URL', message: facts.redisUnreachable });
  throw refusedConfigError(refusals);
}
