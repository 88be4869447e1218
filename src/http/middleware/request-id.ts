// Correlation id: takes a well-formed X-Request-Id from the client (not one of the platform's
// reserved ids), else makes one; echoes it and runs the rest of the request inside its log
// context. With a logger, one line per request once the response is sent: refused, failed or
// slow at info, other successes at http, probes of /health and /metrics at debug. The log context
// and the trace ids come from telemetry through `context`, which the composition root passes in.
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../../domain/logger.js';
import { PROBE_PATH } from './probe-path.js';
import { isScheduleRequestId } from '../../domain/schedule.js';

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
/** A request slower than this is logged at info even when it succeeded. */
export const SLOW_REQUEST_MS = 1000;

declare module 'express-serve-static-core' {
  interface Request {
    requestId: string;
  }
}

/** Where log lines find the request's id, and the active trace (src/infra/telemetry); absent: neither. */
export interface RequestContext {
  run<T>(context: { requestId: string }, fn: () => T): T;
  traceIds(): { traceId: string; spanId: string } | undefined;
}

const NO_CONTEXT: RequestContext = { run: (_context, fn) => fn(), traceIds: () => undefined };

export function requestId({
  header = 'x-request-id',
  logger,
  context = NO_CONTEXT,
}: { header?: string; logger?: Logger; context?: RequestContext } = {}) {
  return function requestIdMiddleware(req: Request, res: Response, next: NextFunction) {
    const offered = req.get(header);
    // A reserved prefix (a scheduled run's) is the platform's to give: refused as a malformed id is.
    const usable = offered && REQUEST_ID_PATTERN.test(offered) && !isScheduleRequestId(offered);
    req.requestId = usable ? offered : randomUUID();
    res.setHeader('X-Request-Id', req.requestId);
    if (logger) {
      const started = process.hrtime.bigint();
      const id = req.requestId;
      // 'finish' fires outside the request's async context: the span's ids are taken now.
      const traceIds = context.traceIds();
      // Also taken now: by 'finish' a mounted router has cut req.path down to its own part.
      const path = req.path;
      res.once('finish', () => {
        const meta = {
          requestId: id,
          ...traceIds,
          method: req.method,
          path,
          status: res.statusCode,
          durationMs: Number(process.hrtime.bigint() - started) / 1e6,
        };
        if (PROBE_PATH.test(path)) logger.debug('request completed', meta);
        // Most lines of a busy log otherwise: a plain success goes at `http` (LOG_LEVEL=http shows it).
        else if (res.statusCode < 400 && meta.durationMs < SLOW_REQUEST_MS) {
          if (logger.http) logger.http('request completed', meta);
          else logger.debug('request completed', meta);
        } else logger.info('request completed', meta);
      });
    }
    context.run({ requestId: req.requestId }, next);
  };
}
