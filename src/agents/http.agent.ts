// The `http` agent: one HTTP call to a host the deployment allows (SSRF guard in http-guard.ts),
// with a timeout, a capped response body and redirects followed only on the same host. 5xx, 408,
// 429 and network failures are DownstreamErrors (retried, counted by the agent's breaker); other
// refusals fail the stage at once.
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import { AppError, DownstreamError, UnrecoverableStageError } from '../domain/errors.js';
import { defineAgent, type Agent } from './define-agent.js';
import { exchange } from './http-exchange.js';
import { createHostGuard, type HostGuard, type Resolver } from './http-guard.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
/** Headers the agent owns (framing, routing): a stage may not set them. */
const RESERVED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'keep-alive', 'te', 'trailer']);
/** The response headers an output keeps; the rest are not worth storing with every run. */
const KEPT_HEADERS = [
  'content-type',
  'content-length',
  'location',
  'etag',
  'last-modified',
  'cache-control',
  'retry-after',
  'x-request-id',
];
const RETRYABLE_STATUS = (status: number) => status >= 500 || status === 408 || status === 429;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;
const EXCERPT = 500;

export interface HttpAgentOptions {
  /** `host` (default port), `host:port`, `*.domain` or `*.domain:port`; nothing else may be called. Required. */
  allowedHosts: readonly string[];
  /** The timeout of a call that sets none (default 30 s). */
  timeoutMs?: number;
  /** The longest `input.timeoutMs` a stage may ask for (default 5 minutes). */
  maxTimeoutMs?: number;
  /** Kept bytes of a response body (default 256 KiB); the output says when it was cut. */
  maxResponseBytes?: number;
  /** Name resolution (default the system resolver); tests give their own. */
  resolve?: Resolver;
  /** Sent as User-Agent unless the stage sets one (default `agentic-sdlc-http-agent/1.0`). */
  userAgent?: string;
}

const outputSchema = z.object({
  /** The URL that answered (after same-host redirects). */
  url: z.string(),
  status: z.number().int(),
  headers: z.record(z.string(), z.string()),
  /** Parsed JSON for a complete JSON response, else the body as text. */
  body: z.json(),
  truncated: z.boolean(),
  durationMs: z.number(),
});

function inputSchema(guard: HostGuard, maxTimeoutMs: number) {
  return z
    .object({
      method: z.enum(METHODS).default('GET'),
      url: z
        .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
        .refine((url) => !new URL(url).username && !new URL(url).password, 'must not hold credentials: send them in a header')
        .refine((url) => guard.allows(new URL(url)) !== undefined, {
          error: (issue) =>
            `host ${new URL(String(issue.input)).host} is not in the http agent's allowedHosts (${guard.entries.join(', ') || 'none'})`,
        }),
      headers: z
        .record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/), z.string().max(8192))
        .default({})
        .refine((headers) => Object.keys(headers).every((name) => !RESERVED_HEADERS.has(name.toLowerCase())), {
          error: `must not set ${[...RESERVED_HEADERS].join(', ')}`,
        }),
      /** A string is sent as is; anything else as JSON. */
      body: z.json().optional(),
      /** The status that succeeds (default any 2xx). */
      expectStatus: z.number().int().min(100).max(599).optional(),
      timeoutMs: z.number().int().min(1).max(maxTimeoutMs).optional(),
    })
    .strict()
    .refine((input) => input.body === undefined || !['GET', 'HEAD'].includes(input.method), {
      path: ['body'],
      error: 'a GET or HEAD request has no body',
    });
}

function keptHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const value = headers[name];
    if (value !== undefined) kept[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return kept;
}

function decodeBody(body: Buffer, contentType: string | undefined, truncated: boolean): z.infer<typeof outputSchema>['body'] {
  const text = body.toString('utf8');
  if (truncated || !/[/+]json\b/i.test(contentType ?? '') || text === '') return text;
  try {
    return JSON.parse(text) as z.infer<typeof outputSchema>['body'];
  } catch {
    return text; // a server that says JSON and sends something else: keep what it sent
  }
}

/** The `http` agent for a deployment's allow-list. */
export function createHttpAgent(options: HttpAgentOptions): Agent {
  const { timeoutMs: defaultTimeoutMs = 30_000, maxTimeoutMs = 5 * 60_000, maxResponseBytes = 256 * 1024 } = options;
  const { userAgent = 'agentic-sdlc-http-agent/1.0' } = options;
  const guard = createHostGuard(options.allowedHosts, options.resolve);
  return defineAgent({
    type: 'http',
    version: '1.0.0',
    description: 'Calls an allowed HTTP endpoint and fails unless it answers with the expected status.',
    input: inputSchema(guard, maxTimeoutMs),
    output: outputSchema,
    handler: async ({ input, signal: stageSignal, reportMetrics, stageId }) => {
      const timeoutMs = input.timeoutMs ?? defaultTimeoutMs;
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = AbortSignal.any([stageSignal, timeout]);
      const started = performance.now();
      const json = input.body !== undefined && typeof input.body !== 'string';
      const headers: Record<string, string> = {
        'user-agent': userAgent,
        'idempotency-key': stageId, // a retried stage repeats the same call: let the server tell
        ...(json ? { 'content-type': 'application/json' } : {}),
        ...input.headers,
      };
      let body = input.body === undefined ? undefined : Buffer.from(json ? JSON.stringify(input.body) : String(input.body));
      let method: string = input.method;
      let url = new URL(input.url);
      for (let hop = 0; ; hop++) {
        if (!guard.allows(url)) throw new UnrecoverableStageError('HTTP_HOST_NOT_ALLOWED', `host ${url.host} is not in allowedHosts`);
        const where = `${method} ${url.origin}${url.pathname}`;
        const res = await exchange({ method, url, headers, body, lookup: guard.lookupFor(url), signal, maxResponseBytes }).catch(
          (error: unknown) => {
            if (stageSignal.aborted) throw stageSignal.reason; // cancel or shutdown: the runner's to classify
            if (error instanceof AppError) throw error; // the guard's refusal
            const why = timeout.aborted ? `no answer within ${timeoutMs} ms` : error instanceof Error ? error.message : String(error);
            throw new DownstreamError('HTTP_UNREACHABLE', `${where}: ${why}`, { cause: error });
          },
        );
        const location = res.headers.location;
        if (REDIRECTS.has(res.status) && res.status !== input.expectStatus && location) {
          const next = new URL(location, url);
          if (next.host !== url.host || next.protocol !== url.protocol || hop >= MAX_REDIRECTS) {
            throw new UnrecoverableStageError(
              'HTTP_REDIRECT_REFUSED',
              `${where} redirected to ${next.origin}${next.pathname}${hop >= MAX_REDIRECTS ? ` after ${MAX_REDIRECTS} redirects` : ', another host'}`,
            );
          }
          if (res.status === 303 || (res.status !== 307 && res.status !== 308 && method === 'POST')) {
            method = 'GET'; // as browsers do: the body was for the first URL
            body = undefined;
            delete headers['content-type'];
          }
          url = next;
          continue;
        }
        const durationMs = Math.round(performance.now() - started);
        reportMetrics({ status: res.status, durationMs, responseBytes: res.body.length });
        const ok = input.expectStatus === undefined ? res.status >= 200 && res.status < 300 : res.status === input.expectStatus;
        if (!ok) {
          const message = `${where} answered ${res.status}${input.expectStatus ? ` (expected ${input.expectStatus})` : ''}: ${res.body.toString('utf8').slice(0, EXCERPT)}`;
          if (RETRYABLE_STATUS(res.status)) throw new DownstreamError('HTTP_SERVER_ERROR', message);
          throw new UnrecoverableStageError(
            res.status >= 400 && res.status < 500 ? 'HTTP_CLIENT_ERROR' : 'HTTP_UNEXPECTED_STATUS',
            message,
          );
        }
        const kept = keptHeaders(res.headers);
        return {
          url: url.href,
          status: res.status,
          headers: kept,
          body: decodeBody(res.body, kept['content-type'], res.truncated),
          truncated: res.truncated,
          durationMs,
        };
      }
    },
  });
}
