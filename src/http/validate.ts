// Request parsing helpers: zod at the HTTP boundary, errors that name the field.
import { z } from 'zod';
import type { Request } from 'express';
import { ValidationError } from '../domain/errors.js';
import { zodIssuesToDetails } from '../domain/pipeline-definition.js';
import { uuidInput } from './contract/common.schema.js';

export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, message: string, prefix: PropertyKey[] = []): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError('VALIDATION_FAILED', message, { details: zodIssuesToDetails(result.error, prefix) });
  return result.data;
}

export const uuidParam = z.object({ id: uuidInput() });

const noQuery = z.object({}).strict();

/**
 * For a route that takes no query parameters: any is refused, naming it (`unknown property "x"`),
 * as the list routes' strict schemas refuse a parameter they do not know, never ignored.
 */
export function refuseQuery(req: Request): void {
  parseOrThrow(noQuery, req.query, 'Invalid query.');
}

/**
 * True when the request declares `Content-Type: application/json` (any parameters), whether or not
 * it carries a body. `req.is()` answers null for a request with neither Content-Length nor
 * Transfer-Encoding, which is what `curl -X POST -H 'content-type: application/json'` without `-d`
 * sends: that request declared JSON and sent none, and is answered as bodyless, not as 415.
 */
export function declaresJson(req: Request): boolean {
  const type = req.get('content-type');
  return type !== undefined && /^application\/json[ \t]*(?:;|$)/i.test(type.trim());
}

/**
 * A body that is not JSON gets a 415 naming Content-Type (not a 400 about a missing field); a
 * request that declares JSON but sends no body goes on, for the route's schema to name `(body)`.
 */
export function requireJson(req: Request, what: string): void {
  if (!declaresJson(req)) {
    throw new ValidationError('UNSUPPORTED_MEDIA_TYPE', `Send ${what} as JSON.`, {
      details: [{ field: 'Content-Type', message: 'expected application/json' }],
    });
  }
}
