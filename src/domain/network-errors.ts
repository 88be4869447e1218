// The one list of "a dependency could not be reached": what Node, undici, ioredis, pg and Prisma
// throw when a socket fails or a server refuses to serve. Pure: it reads `code`, `message`,
// `cause` and AggregateError's `errors`, so it also recognises errors that crossed a process
// boundary as data.

/**
 * - `unreachable`: no connection was made (refused, DNS, no route);
 * - `connection_lost`: an open connection broke (reset, closed, terminated);
 * - `timeout`: no answer in time (connect, headers, body or command timeout);
 * - `server_unavailable`: the server answered that it cannot serve now (shutting down, starting
 *   up, too many clients).
 */
export type NetworkErrorKind = 'unreachable' | 'connection_lost' | 'timeout' | 'server_unavailable';

export interface NetworkFailure {
  kind: NetworkErrorKind;
  /** The code that matched (`ECONNREFUSED`, `57P01`, `P1001`…); absent when only the message did. */
  code?: string;
  /** `redis`: only a Redis client says this (its connection to Redis, not to Postgres, failed). */
  via?: 'redis';
}

/** Node and undici socket codes, Postgres SQLSTATEs and Prisma codes, each with its kind. */
export const NETWORK_ERROR_CODES: Readonly<Record<string, NetworkErrorKind>> = {
  ECONNREFUSED: 'unreachable',
  ENOTFOUND: 'unreachable',
  EAI_AGAIN: 'unreachable',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  ECONNRESET: 'connection_lost',
  ECONNABORTED: 'connection_lost',
  EPIPE: 'connection_lost',
  UND_ERR_SOCKET: 'connection_lost',
  ETIMEDOUT: 'timeout',
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
  // Postgres: admin_shutdown (pg_ctl stop -m fast), crash_shutdown, cannot_connect_now (starting
  // up or shutting down), too_many_connections. Class 08 (connection exception) is matched below.
  '57P01': 'server_unavailable',
  '57P02': 'server_unavailable',
  '57P03': 'server_unavailable',
  '53300': 'server_unavailable',
  // Prisma: can't reach the server, timed out reaching it, server closed the connection.
  P1001: 'unreachable',
  P1002: 'timeout',
  P1017: 'connection_lost',
};

/** Postgres SQLSTATE class 08: connection exception. */
const CONNECTION_EXCEPTION = /^08[0-9A-Z]{3}$/;

/** Messages of drivers that break a connection without a code of their own (or wrap the code in text). */
const NETWORK_ERROR_MESSAGES: ReadonlyArray<readonly [RegExp, NetworkErrorKind, NetworkFailure['via']?]> = [
  [/\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)\b|Connection refused|Can't reach database server/i, 'unreachable'],
  [
    /\b(ECONNRESET|EPIPE)\b|Connection terminated|Server has closed the connection|Client has encountered a connection error/i,
    'connection_lost',
  ],
  [/\bETIMEDOUT\b|timeout exceeded when trying to connect/i, 'timeout'],
  // ioredis: a closed connection, a producer's command refused while it is down
  // (enableOfflineQueue: false), a command out of retries or out of time.
  [/Connection is closed|Stream isn't writeable|enableOfflineQueue|max retries per request/i, 'connection_lost', 'redis'],
  [/Command timed out/i, 'timeout', 'redis'],
  [
    /terminating connection|the database system is (starting up|shutting down|not yet accepting connections|in recovery mode)|sorry, too many clients/i,
    'server_unavailable',
  ],
];

/** How deep `cause` chains and AggregateError lists are followed. */
const MAX_DEPTH = 5;

function classifyOne(value: object): NetworkFailure | null {
  const { code, message } = value as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    const kind = Object.hasOwn(NETWORK_ERROR_CODES, code) ? NETWORK_ERROR_CODES[code] : undefined;
    if (kind) return { kind, code };
    if (CONNECTION_EXCEPTION.test(code)) return { kind: 'connection_lost', code };
  }
  if (typeof message === 'string') {
    for (const [pattern, kind, via] of NETWORK_ERROR_MESSAGES) if (pattern.test(message)) return via ? { kind, via } : { kind };
  }
  return null;
}

function walk(value: unknown, depth: number): NetworkFailure | null {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return null;
  const own = classifyOne(value);
  // A code found deeper is more precise than a message matched here (`fetch failed` ← ECONNREFUSED).
  if (own?.code) return own;
  const { cause, errors } = value as { cause?: unknown; errors?: unknown };
  const nested = [cause, ...(Array.isArray(errors) ? errors : [])];
  for (const inner of nested) {
    const found = walk(inner, depth + 1);
    if (found) return found;
  }
  return own;
}

/**
 * What kind of network failure `error` is, looking through its `cause` chain and an
 * AggregateError's `errors` (Node's happy-eyeballs connect); null when it is none (a bug, a
 * constraint violation, a 4xx…).
 */
export function classifyNetworkError(error: unknown): NetworkFailure | null {
  return walk(error, 0);
}

/** True when `error` says a dependency could not be reached or served nothing for now: retrying later is the fix. */
export function isNetworkError(error: unknown): boolean {
  return classifyNetworkError(error) !== null;
}
