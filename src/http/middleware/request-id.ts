// Correlation id: takes a well-formed X-Request-Id from the client, else makes one; echoes it
// and runs the rest of the request inside its log context.
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { withLogContext } from '../../infra/telemetry/log-context.js';

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

declare module 'express-serve-static-core' {
  interface Request {
    requestId: string;
  }
}

export function requestId({ header = 'x-request-id' }: { header?: string } = {}) {
  return function requestIdMiddleware(req: Request, res: Response, next: NextFunction) {
    const offered = req.get(header);
    req.requestId = offered && REQUEST_ID_PATTERN.test(offered) ? offered : randomUUID();
    res.setHeader('X-Request-Id', req.requestId);
    withLogContext({ requestId: req.requestId }, next);
  };
}
