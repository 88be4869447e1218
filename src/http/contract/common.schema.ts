// Building blocks of the public response shapes: instants as ISO strings, JSON values, pages.
// Every response schema of src/http/contract is built from these, so the OpenAPI document
// (openapi.ts) and the mapping functions agree on how a date or a free JSON value looks.
import { z } from 'zod';

/**
 * A UUID a client sends (a path's `:id`, a `?pipelineId=`), in lower case from here on. Upper case
 * is the same UUID (RFC 9562) and Postgres compares it so, but ids are also compared as strings in
 * the process (an event stream's filter, BullMQ job ids, an Idempotency-Key's request hash).
 */
export const uuidInput = (message = 'must be a UUID') => z.uuid(message).transform((id) => id.toLowerCase());

/**
 * A whole-number query parameter (`limit`, `attempt`) from `min` to `max`: decimal digits only.
 * `z.coerce.number()` took `0x10`, `1e1` and ` 5`, and answered `abc` or `true` with zod's
 * "expected number, received NaN" and an empty value with "too small"; each now gets one message
 * naming the range. The document still describes an integer with its bounds.
 */
export function wholeNumberParam(min: number, max: number) {
  const message = `must be a whole number from ${min} to ${max}`;
  return z.preprocess(
    (value) => (typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value),
    z.number({ error: message }).int(message).min(min, message).max(max, message),
  );
}

/** An Idempotency-Key header: 1 to 255 printable ASCII characters, no spaces (docs/api.md). */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** The optional Idempotency-Key request header of a create, described for its route. */
export const idempotencyKeyHeader = (description: string) => z.string().regex(IDEMPOTENCY_KEY_PATTERN).optional().meta({ description });

/** An instant on the wire: `2026-05-01T12:00:00.000Z` (what `Date.toISOString()` writes). */
export const isoDate = z.iso.datetime({ offset: true }).meta({ description: 'An ISO 8601 instant (UTC).' });

export const toIso = (date: Date): string => date.toISOString();
export const toIsoOrNull = (date: Date | null | undefined): string | null => (date ? date.toISOString() : null);

/**
 * Any JSON value. Stage outputs, inputs and event data are the agents' and the submitter's own
 * shapes: the contract promises JSON, not a structure.
 */
export const jsonValue = z.unknown().meta({ description: 'Any JSON value.' });
export const jsonObject = z.record(z.string(), z.unknown()).meta({ description: 'A JSON object.' });

/** A list page with an opaque cursor (null on the last page). */
export function cursorPage<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

/** A list answered whole (no cursor). */
export function itemList<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item) });
}
