// Request parsing helpers: zod at the HTTP boundary, errors that name the field.
import { z } from 'zod';
import type { Request } from 'express';
import { ValidationError } from '../domain/errors.js';
import { zodIssuesToDetails } from '../domain/pipeline-definition.js';

export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, message: string, prefix: PropertyKey[] = []): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError('VALIDATION_FAILED', message, { details: zodIssuesToDetails(result.error, prefix) });
  return result.data;
}

export const uuidParam = z.object({ id: z.uuid('must be a UUID') });

/** A body that is not JSON gets a 415 naming Content-Type (not a 400 about a missing field). */
export function requireJson(req: Request, what: string): void {
  if (!req.is('application/json')) {
    throw new ValidationError('UNSUPPORTED_MEDIA_TYPE', `Send ${what} as JSON.`, {
      details: [{ field: 'Content-Type', message: 'expected application/json' }],
    });
  }
}
