// A worker process's own small HTTP server: GET /health (liveness: the process answers, always
// 200, with what `health` adds, such as the workspace disk) and GET /metrics (its Prometheus
// registry). Port 0 listens on an ephemeral port (tests). A port in use falls back to the next
// ones (several workers on one machine each get their own).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsSource } from './metrics.js';

/** Ports tried after the configured one when it is in use: 9464 → 9465 … 9473. */
export const METRICS_PORT_FALLBACKS = 9;

export interface MetricsServer {
  /** The bound port (after start). */
  port(): number;
  /** The bound interface (after start): `127.0.0.1` unless `host` said otherwise. */
  address(): string | undefined;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Every port of the range was taken (the message names the range and what to do). */
export class MetricsPortsInUseError extends Error {
  override readonly name = 'MetricsPortsInUseError';
  constructor(
    readonly first: number,
    readonly last: number,
  ) {
    super(`ports ${first}–${last} are all in use`);
  }
}

export function createMetricsServer(options: {
  port: number;
  /** The interface to bind (WORKER_METRICS_HOST); default loopback: the server answers without credentials. */
  host?: string;
  metrics: MetricsSource;
  /** Fields GET /health adds to `status: "ok"` (never a reason for another status; a failure adds none). */
  health?: () => Promise<Record<string, unknown>>;
  /** Further ports tried, one up each, when the port is in use (default METRICS_PORT_FALLBACKS; 0: none). */
  fallbacks?: number;
  onError?: (error: Error) => void;
}): MetricsServer {
  const { metrics } = options;
  const fallbacks = options.port === 0 ? 0 : (options.fallbacks ?? METRICS_PORT_FALLBACKS);
  let server: Server | undefined;
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/health') {
      const send = (fields: Record<string, unknown>) =>
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: 'ok', ...fields }));
      (options.health?.() ?? Promise.resolve({})).then(send, (error: Error) => {
        options.onError?.(error);
        send({});
      });
      return;
    }
    if (path === '/metrics') {
      metrics.metrics().then(
        (body) => res.writeHead(200, { 'Content-Type': metrics.contentType }).end(body),
        (error: Error) => {
          options.onError?.(error);
          res.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics unavailable\n');
        },
      );
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
  };
  return {
    port: () => (server?.address() as AddressInfo | null)?.port ?? 0,
    address: () => (server?.address() as AddressInfo | null)?.address,
    async start() {
      const last = Math.min(options.port + fallbacks, 65_535);
      for (let port = options.port; port <= last; port++) {
        const s = createServer(handle);
        const bound = await new Promise<boolean>((resolve, reject) => {
          s.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? resolve(false) : reject(error)));
          s.listen(port, options.host ?? '127.0.0.1', () => resolve(true));
        });
        if (bound) {
          s.removeAllListeners('error');
          server = s;
          return;
        }
      }
      throw new MetricsPortsInUseError(options.port, last);
    },
    async close() {
      const s = server;
      if (!s) return;
      server = undefined;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}
