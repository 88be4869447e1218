// Requests with the path sent exactly as written (`//admin/queues`, `/admin/queues/%2e%2e/`):
// fetch() normalises URLs, node:http does not. No default credential. An event stream is
// answered as soon as its headers arrive (its body never ends).
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import type { Loose } from './http.js';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed, when it is JSON. */
  json: Loose | undefined;
}

export interface RawRequestOptions {
  /** An array sends the header once per value (two `Authorization` lines). */
  headers?: Record<string, string | string[]>;
  /** Sent as JSON. */
  body?: unknown;
  agent?: Agent;
}

export function rawRequest(baseUrl: string, method: string, path: string, options: RawRequestOptions = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string | string[]> = { ...options.headers };
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port: Number(port), method, path, headers, agent: options.agent }, (res) => {
      const status = res.statusCode ?? 0;
      if (String(res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
        res.destroy();
        resolve({ status, headers: res.headers, text: '', json: undefined });
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Loose | undefined;
        if (/^application\/json/.test(String(res.headers['content-type'] ?? '')) && text !== '') {
          try {
            json = JSON.parse(text) as Loose;
          } catch {
            json = undefined;
          }
        }
        resolve({ status, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}
