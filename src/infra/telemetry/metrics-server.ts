// A worker process's own small HTTP server: GET /health (liveness: the process answers) and
// GET /metrics (its Prometheus registry). Port 0 listens on an ephemeral port (tests).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsSource } from './metrics.js';

export interface MetricsServer {
  /** The bound port (after start). */
  port(): number;
  start(): Promise<void>;
  close(): Promise<void>;
}

export function createMetricsServer(options: {
  port: number;
  host?: string;
  metrics: MetricsSource;
  onError?: (error: Error) => void;
}): MetricsServer {
  const { metrics } = options;
  let server: Server | undefined;
  return {
    port: () => (server?.address() as AddressInfo | null)?.port ?? 0,
    async start() {
      const s = createServer((req, res) => {
        const path = (req.url ?? '/').split('?')[0];
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          res.writeHead(405, { Allow: 'GET, HEAD' }).end();
          return;
        }
        if (path === '/health') {
          res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: 'ok' }));
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
      });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(options.port, options.host ?? '0.0.0.0', () => {
          s.off('error', reject);
          resolve();
        });
      });
      server = s;
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
