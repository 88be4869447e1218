// Cross-site request forgery closes here for every present and future route: a browser sends a
// cross-site form or a `text/plain` beacon without asking the server first (no CORS preflight),
// but only these three content types. A mutation carrying any body that is not JSON is refused
// before authentication, rate limits or any effect; a mutation with no body (a cancel) passes,
// with or without a JSON Content-Type.
import type { NextFunction, Request, Response } from 'express';
import { ValidationError } from '../../domain/errors.js';
import { declaresJson } from '../validate.js';

const MUTATIONS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function carriesBody(req: Request): boolean {
  const length = req.get('content-length');
  return req.get('transfer-encoding') !== undefined || (length !== undefined && length.trim() !== '0');
}

export function jsonBodiesOnly() {
  return function refuseNonJsonMutation(req: Request, _res: Response, next: NextFunction) {
    if (!MUTATIONS.has(req.method)) return next();
    const declared = req.get('content-type') !== undefined;
    if (!declared && !carriesBody(req)) return next();
    if (declaresJson(req)) return next();
    next(
      new ValidationError('UNSUPPORTED_MEDIA_TYPE', 'A request that changes something takes a JSON body or none.', {
        details: [
          {
            field: 'Content-Type',
            message: declared ? `expected application/json, got ${req.get('content-type')}` : 'a body needs Content-Type: application/json',
          },
        ],
      }),
    );
  };
}
