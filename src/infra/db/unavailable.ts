// Recognises "Postgres is unreachable right now" in what pg and Prisma throw, through the one
// network-error classifier of the domain. No driver import, so the HTTP error middleware and the
// worker's database-down hold can use it without loading the database layer.
import { classifyNetworkError } from '../../domain/network-errors.js';

/**
 * True when `error` (or one of its causes) says Postgres is unreachable for now: the statement
 * did not run, or its outcome is unknown, and repeating it later is the fix. What only a Redis
 * client says (its own connection failed) does not count.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const failure = classifyNetworkError(error);
  return failure !== null && failure.via !== 'redis';
}
