// The HTTP service: a request handler on node:http, with no framework, so the service starts fast
// and has nothing to install at run time.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Answers one request; add routes here. */
export function handle(req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (req.method === 'GET' && path === '/health') return sendJson(res, 200, { status: 'ok' });
  sendJson(res, 404, { error: 'not found', path });
}

/** The service's server, not yet listening. */
export function createAppServer(): Server {
  return createServer(handle);
}
