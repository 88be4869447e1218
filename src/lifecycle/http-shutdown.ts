// Stops an HTTP server the graceful way: no new connections, in-flight requests finish,
// keep-alive connections close as soon as they are idle, and a deadline cuts what is left.
import type { Server } from 'node:http';

/** How often idle keep-alive connections are swept while the server drains. */
const IDLE_SWEEP_MS = 100;

/** The handlers still at work (http/middleware/in-flight.ts). */
export interface RunningHandlers {
  /** Resolves true once none is running, false when `timeoutMs` passes first. */
  settled(timeoutMs: number): Promise<boolean>;
}

/**
 * Stops accepting connections at once (`server.close`), lets in-flight requests finish, and
 * closes keep-alive connections once idle (Node keeps them open for `keepAliveTimeout`
 * otherwise). After `graceMs` every connection still open is closed. Resolves when the server
 * has closed and, with `handlers`, when the handlers of requests whose client hung up have
 * answered too (within the same `graceMs`): what closes Redis and Postgres next must not cut them.
 */
export function stopHttpServer(server: Server, graceMs: number, handlers?: RunningHandlers): Promise<void> {
  const started = Date.now();
  return new Promise((resolve) => {
    const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
    const deadline = setTimeout(() => server.closeAllConnections(), graceMs);
    // An error here only means it was not listening: closed either way.
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(deadline);
      if (!handlers) return resolve();
      void handlers.settled(graceMs - (Date.now() - started)).then(() => resolve());
    });
  });
}
