// The CLI's HTTP client: one request to the agentic-sdlc API, its answer checked against the
// API's own response schema (src/http/contract), and every failure turned into a CliError with
// its exit code: no key, no answer or 401 → 4, any other error answer → 1.
import type { z } from 'zod';
import { errorBodySchema } from '../http/contract/errors.schema.js';
import type { Connection } from './connection.js';
import { CliError, EXIT } from './exit-codes.js';
import { tty } from './terminal-text.js';

export interface ApiAnswer<T> {
  /** The answer as the schema reads it (unknown fields stripped): what tables are made from. */
  data: T;
  /** The answer as sent: what `--json` prints, so fields added to the API reach scripts at once. */
  raw: unknown;
}

export interface RequestOptions {
  body?: unknown;
  /** Outside /api/v1 (the operator endpoints: /health/detailed). */
  root?: boolean;
}

export interface ApiClient {
  readonly baseUrl: string;
  request<S extends z.ZodType>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    schema: S,
    options?: RequestOptions,
  ): Promise<ApiAnswer<z.output<S>>>;
}

/**
 * The lines an error answer is told with: `CODE: message`, then one `  field: message` per detail.
 * Each part is escaped on its own (a message or a field path may echo what a client sent), so the
 * lines are exactly these.
 */
function describeError(status: number, body: unknown): string {
  const parsed = errorBodySchema.safeParse(body);
  if (!parsed.success) return tty`HTTP ${status}: ${JSON.stringify(body)}`;
  const { code, message, details } = parsed.data.error;
  return [tty`${code}: ${message}`, ...details.map((d) => tty`  ${d.field}: ${d.message}`)].join('\n');
}

/** A proxy without an upstream, an API shutting down or a dependency down: the same request may work later. */
const TRANSIENT_STATUSES = new Set([502, 503, 504]);

export function createApiClient(connection: Connection): ApiClient {
  const { baseUrl, key, keySource } = connection;
  return {
    baseUrl,
    async request(method, path, schema, { body, root = false } = {}) {
      if (!key)
        throw new CliError(
          `no API key: pass --key, set SDLC_API_KEY, or in development start the platform once (it writes ${keySource})`,
          EXIT.unreachable,
        );
      const url = `${baseUrl}${root ? '' : '/api/v1'}${path}`;
      let res: Response;
      try {
        res = await fetch(url, {
          method,
          headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        throw new CliError(
          `cannot reach the API at ${baseUrl}: ${cause?.code ?? cause?.message ?? (error as Error).message} (set --server, SDLC_API_URL or PORT)`,
          EXIT.unreachable,
          true,
        );
      }
      const text = await res.text();
      let raw: unknown;
      try {
        raw = text === '' ? null : JSON.parse(text);
      } catch {
        throw new CliError(`${method} ${url}: HTTP ${res.status}, not JSON (is ${baseUrl} the agentic-sdlc API?)`, EXIT.failed);
      }
      if (res.status === 401) throw new CliError(`not authenticated (key from ${keySource}): ${describeError(401, raw)}`, EXIT.unreachable);
      if (!res.ok) throw new CliError(describeError(res.status, raw), EXIT.failed, TRANSIENT_STATUSES.has(res.status));
      const parsed = schema.safeParse(raw);
      if (!parsed.success)
        throw new CliError(
          `${method} ${path}: unexpected answer from the API: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
          EXIT.failed,
        );
      return { data: parsed.data, raw };
    },
  };
}
