// Keyset pagination cursors (createdAt, id) shared by the list endpoints: opaque to clients.
import { z } from 'zod';
import { ValidationError } from '../domain/errors.js';

export function encodeCursor(item: { createdAt: Date; id: string }): string {
  return Buffer.from(`${item.createdAt.toISOString()}|${item.id}`).toString('base64url');
}

export function decodeCursor(cursor: string, idSchema: z.ZodType<string> = z.uuid()): { createdAt: Date; id: string } {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(iso ?? '');
  // Only what encodeCursor writes: an ISO instant that round-trips, in years Postgres also stores
  // (a forged `+275760-…` is a valid JS date that Postgres refuses).
  const year = createdAt.getUTCFullYear();
  const exact = !Number.isNaN(createdAt.getTime()) && createdAt.toISOString() === iso && year >= 1970 && year <= 9999;
  if (!id || !exact || !idSchema.safeParse(id).success) {
    throw new ValidationError('VALIDATION_FAILED', 'Invalid cursor.', {
      details: [{ field: 'cursor', message: 'not a cursor returned by this API' }],
    });
  }
  return { createdAt, id };
}

/** One page of a list fetched with limit + 1: the extra item says whether a next page exists. */
export function page<T extends { createdAt: Date; id: string }>(items: T[], limit: number): { items: T[]; nextCursor: string | null } {
  const shown = items.slice(0, limit);
  return { items: shown, nextCursor: items.length > limit ? encodeCursor(shown[shown.length - 1]!) : null };
}
