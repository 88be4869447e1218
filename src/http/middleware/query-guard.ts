// Every query string goes through here: a NUL (`?name=%00`), a lone surrogate or an over-long
// parameter name or value is refused with a 400 naming the parameter (`?name`), before any route
// passes it to Postgres (which cannot store a NUL and answered 500).
import type { NextFunction, Request, Response } from 'express';
import { findUnsafeText, unsafeTextError, type TextLimits } from '../unsafe-text.js';

export function queryGuard(limits: TextLimits) {
  return function refuseUnsafeQuery(req: Request, _res: Response, next: NextFunction) {
    // Most requests have no query string: nothing to parse.
    if (!req.url.includes('?')) return next();
    const found = findUnsafeText(req.query, { ...limits, prefix: '?' });
    next(found.length > 0 ? unsafeTextError(found) : undefined);
  };
}
