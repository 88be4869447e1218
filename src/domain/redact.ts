// Redaction of secrets in text bound for a log or a terminal: URLs lose their userinfo, query and
// fragment (wherever they appear in a string), API keys keep only their public id, Bearer/Basic
// credentials and JWTs are masked, and values known to be secret are masked wherever they occur.
// Pure: the logger (src/infra/telemetry/logger.ts) applies it to every string of every line.
import { API_KEY_PREFIX } from './api-key-format.js';

export const MASK = '***';

// A character that cannot be part of a URL written in running text, JSON or a stack: whitespace,
// quotes, angle brackets, backticks and the backslash of an escaped quote.
const STOP = String.raw`\s"'<>\x60\\`;
const URL_IN_TEXT = new RegExp(String.raw`\b([a-z][a-z0-9+.-]*:\/\/)([^${STOP}/?#]*)([^${STOP}?#]*)(\?[^${STOP}#]*)?(#[^${STOP}]*)?`, 'gi');
// `sdlc_` + 12-character public id + secret + checksum; the id is not secret (keys are listed by it).
const API_KEY_IN_TEXT = new RegExp(String.raw`\b${API_KEY_PREFIX}([0-9A-Za-z]{12})[0-9A-Za-z]{8,}`, 'g');
// Long enough not to take "Bearer tokens" or `Basic realm="…"` for a credential.
const AUTH_SCHEME_CREDENTIAL = /\b(Bearer|Basic)( +)[A-Za-z0-9._~+/=-]{16,}/gi;
const JWT_IN_TEXT = /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;

/** Declared secrets shorter than this are not masked by value (they would mask ordinary words). */
export const MIN_KNOWN_SECRET_LENGTH = 8;

function redactMatchedUrl(_match: string, scheme: string, authority: string, path: string, query?: string, fragment?: string): string {
  const at = authority.lastIndexOf('@');
  const host = at === -1 ? authority : `${MASK}@${authority.slice(at + 1)}`;
  return `${scheme}${host}${path}${query && query.length > 1 ? `?${MASK}` : (query ?? '')}${fragment && fragment.length > 1 ? `#${MASK}` : (fragment ?? '')}`;
}

/**
 * Every `scheme://…` URL in `text` without its secrets: userinfo becomes `***@`, a query `?***`
 * and a fragment `#***`; scheme, host, port and path stay, so a line still says where it went.
 * `redis://:pw@cache:6379/0` → `redis://***@cache:6379/0`,
 * `https://hooks.example.com/in?token=abc` → `https://hooks.example.com/in?***`.
 */
export function redactUrlsIn(text: string): string {
  return text.replace(URL_IN_TEXT, redactMatchedUrl);
}

/** One URL without userinfo, query or fragment (see redactUrlsIn); text that is no URL comes back as it is. */
export function redactUrl(url: string): string {
  return redactUrlsIn(url);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A function that redacts a string: the `secrets` given (and their percent-encoded forms) wherever
 * they occur, then URLs (redactUrlsIn), `Bearer`/`Basic` credentials, API keys (`sdlc_<id>***`)
 * and JWTs. Secrets shorter than MIN_KNOWN_SECRET_LENGTH are ignored.
 */
export function createRedactor(secrets: readonly string[] = []): (text: string) => string {
  const values = [...new Set(secrets.flatMap((s) => [s, encodeURIComponent(s)]))]
    .filter((s) => s.length >= MIN_KNOWN_SECRET_LENGTH)
    // Longest first, so a secret that contains another is masked whole.
    .sort((a, b) => b.length - a.length);
  const known = values.length > 0 ? new RegExp(values.map(escapeRegExp).join('|'), 'g') : undefined;
  return (text) => {
    const masked = known ? text.replace(known, MASK) : text;
    // A Bearer credential is masked whole before the key pattern would leave its id.
    return redactUrlsIn(masked)
      .replace(AUTH_SCHEME_CREDENTIAL, (_m, scheme: string, space: string) => `${scheme}${space}${MASK}`)
      .replace(API_KEY_IN_TEXT, (_m, id: string) => `${API_KEY_PREFIX}${id}${MASK}`)
      .replace(JWT_IN_TEXT, MASK);
  };
}

/** Redacts URLs, API keys, Bearer/Basic credentials and JWTs (no known secret values). */
export const redactText = createRedactor();
