// The configuration as it may be shown (`config print`, /health/detailed) or logged: secrets
// masked as `••••(length)`, URL credentials (passwords, an http(s) user, credential-like query
// parameters, a webhook URL's path) as `••••`.
import { namedSecrets } from './secret-values.js';
import { VARIABLES, type Config } from './registry.js';
import type { VariableSpec } from './variable.js';

export const MASK = '••••';

/** A secret of `length` characters. */
export function maskSecret(value: string): string {
  return `${MASK}(${[...value].length})`;
}

const CREDENTIAL_PARAM = /pass|secret|token|key|auth|sig|credential/i;

/**
 * A URL with its credentials masked: the password, credential-like query values, the fragment,
 * and on http(s) a user without a password (`https://<token>@host` is how a token is passed).
 * Scheme and host stay; the path stays unless `options.path` says it is a credential (webhook
 * URLs such as Slack's `/services/T…/B…/<secret>`), in which case only its first segment is kept.
 */
export function maskUrl(text: string, options: { path?: boolean } = {}): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  const web = url.protocol === 'http:' || url.protocol === 'https:';
  // Rebuilt by hand: the URL setters would percent-encode the mask.
  // A user with a password is a name; a user alone, on http(s), is the credential itself.
  const username = web && url.username !== '' && url.password === '' ? MASK : url.username;
  const user = username === '' ? '' : `${username}${url.password === '' ? '' : `:${MASK}`}@`;
  const host = url.username === '' && url.password !== '' ? `:${MASK}@${url.host}` : url.host;
  const query = [...url.searchParams.entries()]
    .map(([name, value]) => `${encodeURIComponent(name)}=${CREDENTIAL_PARAM.test(name) ? MASK : encodeURIComponent(value)}`)
    .join('&');
  return `${url.protocol}//${user}${host}${options.path ? maskedPath(url.pathname) : url.pathname}${query ? `?${query}` : ''}${url.hash ? `#${MASK}` : ''}`;
}

/** `/services/T0/B0/x` → `/services/••••`; `/in` → `/••••`; `/` stays. */
function maskedPath(pathname: string): string {
  const segments = pathname.split('/').filter((segment) => segment !== '');
  if (segments.length === 0) return pathname;
  return segments.length === 1 ? `/${MASK}` : `/${segments[0]}/${MASK}`;
}

/** A parsed value as it may be shown: secrets masked, URLs without their credentials. */
export function maskValue(spec: Pick<VariableSpec, 'secret' | 'url'>, value: unknown): unknown {
  if (value === undefined || value === '') return value;
  if (spec.secret) return typeof value === 'string' ? maskSecret(value) : MASK;
  if (spec.url) {
    const options = { path: spec.url === 'path' };
    return Array.isArray(value)
      ? value.map((v) => (typeof v === 'string' ? maskUrl(v, options) : v))
      : typeof value === 'string'
        ? maskUrl(value, options)
        : value;
  }
  return value;
}

/** Every variable of `config` as it may be shown, in registry order. */
export function maskedConfig(config: Config): Record<string, unknown> {
  const values = config as Record<string, unknown>;
  return Object.fromEntries(VARIABLES.map((spec) => [spec.name, maskValue(spec, values[spec.name])]));
}

/** Below this a URL password is not masked by value in log lines (it would mask ordinary words); its URL is masked anyway. */
const MIN_MASKED_PASSWORD = 8;

/**
 * The values a logger masks wherever they appear: every secret variable set, and URL passwords of
 * 8 characters or more, except one that is part of its own URL (`postgres://postgres:postgres@…`):
 * masking it would mangle every scheme and host name that holds the word, and it guards nothing.
 */
export function secretsToMask(config: Partial<Record<string, unknown>>): string[] {
  return namedSecrets(config)
    .filter(
      (secret) =>
        secret.urlWithoutPassword === undefined ||
        (secret.value.length >= MIN_MASKED_PASSWORD && !secret.urlWithoutPassword.includes(secret.value)),
    )
    .map((secret) => secret.value);
}
