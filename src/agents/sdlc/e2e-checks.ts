// The e2e_test agent's HTTP checks: their schema (stage input or the project's e2e-checks.json),
// running one against the started service, and comparing the answer (status, text, JSON subset).
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { jsonValueSchema, type JsonValue } from '../../domain/json.js';

const EXCERPT_CHARS = 1000;

export const checkSchema = z
  .object({
    /** Shown in the report (default "METHOD path"). */
    name: z.string().max(200).optional(),
    method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']).default('GET'),
    /** Path and query on the started service; always that service (appended to its origin). */
    path: z
      .string()
      .max(2000)
      .regex(/^\/[^\s]*$/, 'must start with / and hold no spaces'),
    headers: z.record(z.string(), z.string().max(8000)).optional(),
    /** A string is sent as it is; anything else as JSON (with content-type application/json). */
    body: jsonValueSchema.optional(),
    expectStatus: z.number().int().min(100).max(599).default(200),
    /** Text the response body must contain. */
    bodyContains: z.string().max(10_000).optional(),
    /** A JSON value the response must contain: objects by subset, arrays and scalars exactly. */
    json: jsonValueSchema.optional(),
  })
  .strict();

export type Check = z.output<typeof checkSchema>;

/** e2e-checks.json: `{ "checks": [...] }` or the array alone. */
const checksFileSchema = z.union([
  z.object({ checks: z.array(checkSchema) }).loose(),
  z.array(checkSchema).transform((checks) => ({ checks })),
]);

export interface CheckResult {
  name: string;
  request: { method: string; path: string; body?: string };
  response: { status: number | null; bodyExcerpt: string; error?: string };
  ok: boolean;
  /** Why it failed, one line per expectation missed. */
  problems: string[];
  durationMs: number;
}

/** The checks of the project's e2e-checks.json, null when it has none; a malformed file throws with the reason. */
export async function readChecksFile(path: string): Promise<Check[] | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return null;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`e2e-checks.json is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = checksFileSchema.safeParse(json);
  if (!parsed.success) throw new Error(`e2e-checks.json is invalid: ${z.prettifyError(parsed.error)}`);
  return parsed.data.checks;
}

/** True when `actual` holds `expected`: objects key by key (extra keys allowed), the rest exactly. */
export function containsJson(actual: unknown, expected: JsonValue): boolean {
  if (expected === null || typeof expected !== 'object') return actual === expected;
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((item, i) => containsJson(actual[i], item));
  }
  if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
  const record = actual as Record<string, unknown>;
  return Object.entries(expected).every(([key, value]) => Object.hasOwn(record, key) && containsJson(record[key], value));
}

const excerpt = (text: string) => (text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}…` : text);

/** Sends one check's request to `origin` and compares the answer. Never throws but on `signal`. */
export async function runCheck(origin: string, check: Check, timeoutMs: number, signal: AbortSignal): Promise<CheckResult> {
  const name = check.name ?? `${check.method} ${check.path}`;
  const headers: Record<string, string> = { ...check.headers };
  let body: string | undefined;
  if (check.body !== undefined) {
    body = typeof check.body === 'string' ? check.body : JSON.stringify(check.body);
    if (typeof check.body !== 'string' && !Object.keys(headers).some((key) => key.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/json';
    }
  }
  const request = { method: check.method, path: check.path, ...(body === undefined ? {} : { body: excerpt(body) }) };
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let status: number;
  let text: string;
  try {
    const response = await fetch(`${origin}${check.path}`, {
      method: check.method,
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    });
    status = response.status;
    text = await response.text();
  } catch (error) {
    signal.throwIfAborted();
    const message =
      error instanceof Error ? (error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message) : String(error);
    return {
      name,
      request,
      response: { status: null, bodyExcerpt: '', error: message },
      ok: false,
      problems: [`no answer: ${message}`],
      durationMs: elapsed(),
    };
  }

  const problems: string[] = [];
  if (status !== check.expectStatus) problems.push(`status ${status}, expected ${check.expectStatus}`);
  if (check.bodyContains !== undefined && !text.includes(check.bodyContains))
    problems.push(`body does not contain ${JSON.stringify(check.bodyContains)}`);
  if (check.json !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      problems.push('body is not JSON');
    }
    if (parsed !== undefined && !containsJson(parsed, check.json))
      problems.push(`JSON body does not contain ${JSON.stringify(check.json)}`);
  }
  return { name, request, response: { status, bodyExcerpt: excerpt(text) }, ok: problems.length === 0, problems, durationMs: elapsed() };
}
