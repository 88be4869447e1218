// Sends one fuzzed request byte for byte: node:http keeps the path as written (fetch would
// normalise `..` and re-encode it) and takes any body bytes. An event stream is closed as soon
// as its headers arrive; every other body is read whole.
import { Agent, request, type IncomingHttpHeaders } from 'node:http';

export interface FuzzRequest {
  method: string;
  /** Sent as written: only characters U+0021..U+00FF (node:http refuses others). */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export interface FuzzResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** One keep-alive pool per suite: thousands of requests without a socket each. */
export function createFuzzAgent(): Agent {
  return new Agent({ keepAlive: true, maxSockets: 4 });
}

/** An answer slower than this is a failure of its own: the API must answer every request. */
const ANSWER_TIMEOUT_MS = 15_000;

export function send(baseUrl: string, agent: Agent, req: FuzzRequest): Promise<FuzzResponse> {
  const { hostname, port } = new URL(baseUrl);
  const headers: Record<string, string> = { ...req.headers };
  if (req.body !== undefined) headers['content-length'] = String(req.body.length);
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: hostname, port: Number(port), method: req.method, path: req.path, headers, agent }, (res) => {
      const status = res.statusCode ?? 0;
      if (String(res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
        res.destroy();
        resolve({ status, headers: res.headers, text: '' });
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => resolve({ status, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    outgoing.setTimeout(ANSWER_TIMEOUT_MS, () => outgoing.destroy(new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms`)));
    outgoing.on('error', reject);
    outgoing.end(req.body);
  });
}
