// Every query string goes through here: a NUL (`?name=%00`), a lone surrogate or an over-long
// parameter name or value is refused with a 400 naming the parameter (`?name`), before any route
// passes it to Postgres (which cannot store a NUL and answered 500). So is a parameter given more
// than once that no route takes more than once (`?limit=1&limit=2`), which the route's schema
// would only have seen as an array (zod: "expected number, received NaN"), and any parameter of a
// mutation under the API, which takes none.
import type { NextFunction, Request, Response } from 'express';
import { ValidationError } from '../../domain/errors.js';
import { findUnsafeText, unsafeTextError, type TextLimits } from '../unsafe-text.js';
import { refuseQuery } from '../validate.js';

export interface QueryGuardOptions extends TextLimits {
  /** Parameters a route takes more than once (`label=team:a&label=tier:1`); default none. */
  repeatable?: readonly string[];
  /**
   * A path prefix (`/api/v1`) under which no mutation (POST, PUT, PATCH, DELETE) takes query
   * parameters: any is refused, naming it, as a GET route refuses one it does not know, so that
   * `POST /pipelines?dryRun=true` is not a real submission with the parameter ignored. Default none.
   */
  mutationsWithoutQuery?: string;
}

const MUTATIONS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The 400 for parameters given more than once: one detail each, naming it as the routes' schemas do. */
function repeatedParameters(query: Request['query'], repeatable: ReadonlySet<string>): ValidationError | undefined {
  const repeated = Object.entries(query).flatMap(([name, value]) =>
    Array.isArray(value) && !repeatable.has(name) ? [[name, value] as const] : [],
  );
  if (repeated.length === 0) return undefined;
  return new ValidationError('VALIDATION_FAILED', `Invalid query: ${repeated.map(([name]) => name).join(', ')} given more than once.`, {
    details: repeated.map(([name, values]) => ({
      field: name,
      code: 'repeated_parameter',
      message: `given ${values.length} times; send it once`,
    })),
  });
}

export function queryGuard(options: QueryGuardOptions) {
  const { repeatable = [], mutationsWithoutQuery, ...limits } = options;
  const repeatableNames = new Set(repeatable);
  const mutationPrefix = mutationsWithoutQuery?.toLowerCase();
  // As Express routes it: any case, doubled slashes.
  const isQuerylessMutation = (req: Request) => {
    if (mutationPrefix === undefined || !MUTATIONS.has(req.method)) return false;
    const path = req.path.toLowerCase().replace(/\/{2,}/g, '/');
    return path === mutationPrefix || path.startsWith(`${mutationPrefix}/`);
  };
  return function refuseUnsafeQuery(req: Request, _res: Response, next: NextFunction) {
    // Most requests have no query string: nothing to parse.
    if (!req.url.includes('?')) return next();
    const found = findUnsafeText(req.query, { ...limits, prefix: '?' });
    if (found.length > 0) return next(unsafeTextError(found));
    const repeated = repeatedParameters(req.query, repeatableNames);
    if (repeated) return next(repeated);
    if (isQuerylessMutation(req)) refuseQuery(req);
    next();
  };
}
