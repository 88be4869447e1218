// One HTTP request and its response, capped, over node:http(s) with the guard's DNS lookup: no
// redirect is followed here (the http agent decides), and the body stops at a byte cap.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';

export interface Exchange {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: Buffer;
  lookup: LookupFunction;
  signal: AbortSignal;
  maxResponseBytes: number;
}

export interface ExchangeResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** True when the body was cut at `maxResponseBytes` (the rest was not read). */
  truncated: boolean;
}

/** Sends one request; rejects with the socket's or the lookup's error, or the signal's reason. */
export function exchange({ method, url, headers, body, lookup, signal, maxResponseBytes }: Exchange): Promise<ExchangeResult> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
    };
    const req = send(url, { method, headers, lookup, signal }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = (truncated: boolean) =>
        settle(() => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), truncated }));
      res.on('data', (chunk: Buffer) => {
        const room = maxResponseBytes - size;
        if (chunk.length <= room) {
          chunks.push(chunk);
          size += chunk.length;
          return;
        }
        chunks.push(chunk.subarray(0, room));
        size = maxResponseBytes;
        finish(true);
        res.destroy(); // the rest is not wanted: stop reading it
      });
      res.on('end', () => finish(false));
      res.on('error', (error) => settle(() => reject(error)));
    });
    req.on('error', (error) => settle(() => reject(signal.aborted ? signal.reason : error)));
    req.end(body);
  });
}
