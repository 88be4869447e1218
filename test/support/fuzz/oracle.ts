// The properties every fuzzed request must hold, checked per request: a JSON 2xx or a JSON 4xx
// with `error.code` (never 5xx, never HTML or an empty error), no write for a 4xx, and no
// `error`-level log line (client mistakes log at warn or below).
import type { Agent } from 'node:http';
import { Writable } from 'node:stream';
import winston from 'winston';
import { createLogger, type Logger } from '../../../src/infra/telemetry/logger.js';
import { send, type FuzzRequest, type FuzzResponse } from './send.js';
import type { WriteWatch } from './write-watch.js';

/** A logger whose error-level lines are kept for the suite to fail on (warn and below are dropped). */
export function createErrorCapturingLogger(): { logger: Logger; errors: string[] } {
  const errors: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) errors.push(line);
      callback();
    },
  });
  return { logger: createLogger({ level: 'error', service: 'fuzz', transports: [new winston.transports.Stream({ stream })] }), errors };
}

export interface OracleOptions {
  baseUrl: string;
  agent: Agent;
  watch: WriteWatch;
  /** The error-level lines logged so far (see createErrorCapturingLogger). */
  errors: string[];
  /** When given, failures are added here instead of thrown (a long run that lists every distinct failure). */
  collect?: string[];
}

/** What each route may answer besides JSON: an event stream (200), or 204 with no body. */
export interface Expectation {
  eventStream?: boolean;
}

function describe(req: FuzzRequest, res: FuzzResponse): string {
  const body = req.body === undefined ? '' : req.body.toString('utf8');
  return JSON.stringify({
    request: {
      method: req.method,
      path: req.path,
      headers: req.headers,
      body: body.length > 600 ? `${body.slice(0, 600)}… (${body.length} chars)` : body,
    },
    response: { status: res.status, contentType: res.headers['content-type'], text: res.text.slice(0, 600) },
  });
}

/** Why this answer breaks the properties, or undefined when it holds them. */
function answerProblem(req: FuzzRequest, res: FuzzResponse, expect: Expectation): string | undefined {
  const type = String(res.headers['content-type'] ?? '');
  if (res.status >= 500) return `answered ${res.status}`;
  if (res.status < 200 || (res.status >= 300 && res.status < 400)) return `answered ${res.status}, neither 2xx nor 4xx`;
  if (res.status === 204) return res.text === '' ? undefined : '204 with a body';
  if (res.status === 200 && expect.eventStream && type.startsWith('text/event-stream')) return undefined;
  if (!/^application\/json/.test(type)) return `answered ${res.status} as "${type}", not JSON`;
  // HEAD: the headers of the GET, without its body.
  if (req.method === 'HEAD') return res.text === '' ? undefined : 'HEAD with a body';
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    return 'the body is not valid JSON';
  }
  if (res.status >= 400) {
    const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
    if (typeof code !== 'string' || code === '') return 'a 4xx without error.code';
  }
  return undefined;
}

export interface Oracle {
  /** Sends the request and throws (with the request, the answer and the seed's context) when a property fails. */
  check(req: FuzzRequest, expect?: Expectation): Promise<FuzzResponse>;
  /** Answers seen per status, for the suite's summary. */
  statuses: Map<number, number>;
}

export function createOracle({ baseUrl, agent, watch, errors, collect }: OracleOptions): Oracle {
  const statuses = new Map<number, number>();
  const fail = (message: string) => {
    if (!collect) throw new Error(message);
    collect.push(message);
  };
  // Nothing but the fuzzed requests writes, one at a time: the state after one request is the
  // state before the next, so one snapshot per request does.
  let last: string | undefined;
  return {
    statuses,
    async check(req, expect = {}) {
      const before = last ?? JSON.stringify(await watch.snapshot());
      const logged = errors.length;
      last = undefined;
      const res = await send(baseUrl, agent, req).catch((error: Error): FuzzResponse => {
        fail(`no answer (${error.message}): ${JSON.stringify({ method: req.method, path: req.path, headers: req.headers })}`);
        return { status: 0, headers: {}, text: '' };
      });
      if (res.status === 0) return res;
      const after = JSON.stringify(await watch.snapshot());
      last = after;
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const problem = answerProblem(req, res, expect);
      if (problem) fail(`${problem}: ${describe(req, res)}`);
      if (errors.length > logged) fail(`logged at error level: ${errors.slice(logged).join('\n')}\n${describe(req, res)}`);
      if (res.status >= 400 && after !== before) fail(`a ${res.status} wrote: before ${before} after ${after}\n${describe(req, res)}`);
      return res;
    },
  };
}
