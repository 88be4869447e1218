// Recognises "Postgres cancelled the statement because it ran past statement_timeout"
// (DATABASE_STATEMENT_TIMEOUT_MS) in what pg and Prisma throw. Pure: it reads `code`, `message`,
// `cause` and Prisma's `meta.driverAdapterError`, so the HTTP error handler, classifyError and the
// pool's metrics share one rule without loading the database layer.

/** SQLSTATE query_canceled: a statement timeout, or a pg_cancel_backend (which is not one). */
export const QUERY_CANCELED = '57014';

/** How deep `cause` chains are followed (Prisma nests the pg error two levels down). */
const MAX_DEPTH = 5;

const field = (value: object, key: string): unknown => (value as Record<string, unknown>)[key];

function isOne(value: object): boolean {
  // pg: `code` and `message`; Prisma's driver adapter keeps the pg error as `originalCode` / `originalMessage`.
  const code = field(value, 'code') ?? field(value, 'originalCode');
  const message = field(value, 'message') ?? field(value, 'originalMessage');
  return code === QUERY_CANCELED && typeof message === 'string' && message.includes('statement timeout');
}

function walk(value: unknown, depth: number): boolean {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return false;
  if (isOne(value)) return true;
  const meta = field(value, 'meta');
  // Prisma: a model query throws DriverAdapterError { cause }; a raw query P2010 { meta: { driverAdapterError } }.
  const nested = [field(value, 'cause'), meta !== null && typeof meta === 'object' ? field(meta, 'driverAdapterError') : undefined];
  return nested.some((inner) => walk(inner, depth + 1));
}

/**
 * True when `error` (or what it wraps) is a statement Postgres cancelled for running longer than
 * `statement_timeout`. A cancel by pg_cancel_backend carries the same SQLSTATE and is not one.
 */
export function isStatementTimeout(error: unknown): boolean {
  return walk(error, 0);
}

/** Prisma's code for its interactive transactions' own errors (past `timeout`, or no connection within `maxWait`). */
const PRISMA_TRANSACTION_API_ERROR = 'P2028';

/**
 * True when Prisma gave up on one of its interactive transactions (P2028): it ran past Prisma's
 * own limit (5 s), which comes before DATABASE_STATEMENT_TIMEOUT_MS (30 s by default), or could not
 * start within its wait. Like a statement timeout, the database was too slow for the request:
 * nothing was committed, and a retry may pass.
 */
export function isTransactionTimeout(error: unknown): boolean {
  return error !== null && typeof error === 'object' && field(error, 'code') === PRISMA_TRANSACTION_API_ERROR;
}
