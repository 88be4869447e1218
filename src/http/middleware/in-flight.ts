// The requests whose handler has not answered yet, so that a shutdown waits for them. The HTTP
// server's close waits for connections, not handlers: a client that hangs up mid-request closes
// its connection while its handler still writes to Postgres and Redis, and a shutdown that closed
// those then would cut the handler between the two (a pipeline committed, its root job not added).
import type { RequestHandler, Response } from 'express';

export interface InFlightRequests {
  /** The first middleware: counts the request until its answer is ended. */
  track: RequestHandler;
  count(): number;
  /** Resolves true once no request is in flight, false when `timeoutMs` passes first. */
  settled(timeoutMs: number): Promise<boolean>;
}

export function createInFlightRequests(): InFlightRequests {
  let running = 0;
  const waiters = new Set<() => void>();

  const track: RequestHandler = (_req, res, next) => {
    running += 1;
    let counted = true;
    const done = () => {
      if (!counted) return;
      counted = false;
      running -= 1;
      if (running === 0) for (const wake of [...waiters]) wake();
    };
    // Every answer ends with res.end (a route's json, the error handler's), whether or not its
    // client is still there: that is when the handler's effects are done.
    const end = res.end.bind(res) as (...args: unknown[]) => Response;
    res.end = ((...args: unknown[]) => {
      done();
      return end(...args);
    }) as Response['end'];
    // A stream (an SSE feed, a log) that started its answer has no more effects to finish once its
    // client is gone; an answer not started yet means a handler still at work.
    res.once('close', () => {
      if (res.headersSent) done();
    });
    next();
  };

  return {
    track,
    count: () => running,
    settled(timeoutMs) {
      if (running === 0) return Promise.resolve(true);
      return new Promise((resolve) => {
        const finish = (idle: boolean) => {
          clearTimeout(timer);
          waiters.delete(wake);
          resolve(idle);
        };
        const wake = () => finish(true);
        const timer = setTimeout(() => finish(false), Math.max(0, timeoutMs));
        waiters.add(wake);
      });
    },
  };
}
