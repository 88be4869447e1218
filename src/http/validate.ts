// Request parsing helpers: zod at the HTTP boundary, errors that name the field.
import { z } from 'zod';
import { ValidationError } from '../domain/errors.js';
import { zodIssuesToDetails } from '../domain/pipeline-definition.js';

export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, message: string, prefix: PropertyKey[] = []): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(message, zodIssuesToDetails(result.error, prefix));
  return result.data;
}

export const uuidParam = z.object({ id: z.uuid('must be a UUID') });
