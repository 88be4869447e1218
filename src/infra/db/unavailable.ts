// Recognises "Postgres is unreachable right now" in what pg and Prisma throw. No driver import,
// so the HTTP error middleware can use it without loading the database layer.

/** Node socket codes, SQLSTATEs and Prisma codes that mean "the server is not reachable right now". */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  // admin_shutdown (pg_ctl stop -m fast), crash_shutdown, cannot_connect_now (starting up or
  // shutting down), too_many_connections.
  '57P01',
  '57P02',
  '57P03',
  '53300',
  // Prisma: can't reach the server, timed out reaching it, server closed the connection.
  'P1001',
  'P1002',
  'P1017',
]);

/** What pg and Prisma say when the connection broke without a code of their own. */
const UNAVAILABLE_MESSAGE =
  /Connection terminated|terminating connection|the database system is (starting up|shutting down|not yet accepting connections|in recovery mode)|Can't reach database server|Server has closed the connection|timeout exceeded when trying to connect|Client has encountered a connection error|Connection refused|sorry, too many clients/i;

/**
 * True when `error` (or one of its causes) says Postgres is unreachable for now: the statement
 * did not run, or its outcome is unknown, and repeating it later is the fix. Class 08
 * (connection exception) SQLSTATEs count too.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    const { code, message, cause } = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true;
    current = cause;
  }
  return false;
}
