// The Idempotency-Key rules POST /pipelines, POST /pipelines/:id/rerun and POST /schedules share:
// how a request body is hashed for comparison, and the conflict a key reused with another body
// gets. Keys are scoped to the identity that sends them; the repositories' unique indexes decide
// between concurrent requests with one key.
import { createHash } from 'node:crypto';
import { ConflictError, IdempotencyKeyTakenError } from './errors.js';

/** sha256 (hex) of the body as JSON with object keys sorted: equal bodies hash equally whatever their key order. */
export function hashRequest(body: unknown): string {
  return createHash('sha256').update(stableStringify(body)).digest('hex');
}

/** JSON with object keys sorted, so equal bodies hash equally whatever their key order. */
function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** 409 IDEMPOTENCY_KEY_REUSED: the caller's key already stands for another body; the detail names what it created (`pipeline <id>`). */
export function idempotencyKeyReused(created: string): ConflictError {
  return new ConflictError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request body.', {
    details: [{ field: 'Idempotency-Key', message: `already used by ${created}` }],
  });
}

/**
 * The repositories' word that another request holds the key (the unique index refused this one):
 * the service answers with that request's result, or idempotencyKeyReused. `by` says which.
 */
export function idempotencyKeyTaken(key: string, by: string): IdempotencyKeyTakenError {
  return new IdempotencyKeyTakenError('IDEMPOTENCY_KEY_REUSED', `Idempotency-Key ${key} was taken by ${by}.`);
}
