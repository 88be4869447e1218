// Small fetch helpers for tests: JSON in, status + JSON out, error assertions, and polling until a pipeline ends.
import { expect } from 'chai';
import { checkAnswer } from './api-contract.js';
export interface JsonResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

// Test code reads arbitrary JSON; a loose record type keeps assertions short.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = Record<string, any>;

/** The API key sent to each base URL unless a request names its own credential (see startHarness). */
const defaultKeys = new Map<string, string>();

export function setDefaultKey(baseUrl: string, key: string | undefined): void {
  if (key === undefined) defaultKeys.delete(baseUrl);
  else defaultKeys.set(baseUrl, key);
}

/** Base URLs of apps a test builds from parts (a middleware under test): their routes are not the API's. */
const notTheApi = new Set<string>();

/** Answers from `baseUrl` are not checked against the API contract (an app made of test routes, not createApp). */
export function markNotTheApi(baseUrl: string): void {
  notTheApi.add(baseUrl);
}

/** An `Authorization: Bearer` header for a key. */
export const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });
/** Headers that send no credential at all (an anonymous caller). */
export const ANONYMOUS: Record<string, string> = { authorization: '' };

/**
 * The headers of a test request: the base URL's default key unless the caller sends its own
 * `authorization` or `x-api-key` (an empty value drops the header: an anonymous request).
 */
export function withAuth(baseUrl: string, headers: Record<string, string>): Record<string, string> {
  const names = Object.keys(headers).map((h) => h.toLowerCase());
  const own = names.includes('authorization') || names.includes('x-api-key');
  const key = defaultKeys.get(baseUrl);
  const merged: Record<string, string> = own || !key ? { ...headers } : { authorization: `Bearer ${key}`, ...headers };
  for (const [name, value] of Object.entries(merged)) if (value === '') delete merged[name];
  return merged;
}

export async function request<T = Loose>(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const sent = withAuth(baseUrl, headers);
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: body === undefined ? sent : { 'content-type': 'application/json', ...sent },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  // Every answer is checked against the API contract (the OpenAPI document's source): a shape
  // that drifts from it fails the test that read it.
  if (!notTheApi.has(baseUrl)) checkAnswer({ method, path, status: res.status, contentType: res.headers.get('content-type'), text });
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as T };
}

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

/** Polls GET /pipelines/:id until it is terminal (or the deadline passes, which throws). */
export async function waitForPipeline(baseUrl: string, id: string, timeoutMs = 30_000): Promise<Loose> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await request(baseUrl, 'GET', `/api/v1/pipelines/${id}`);
    if (TERMINAL.has(body.status)) return body;
    if (Date.now() > deadline)
      throw new Error(
        `pipeline ${id} still ${body.status} after ${timeoutMs} ms: ${JSON.stringify(body.stages?.map((s: Loose) => [s.key, s.status]))}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Submits a pipeline whose one stage (`charge`) fails for good on its first attempt, so its job is
 * dead-lettered and a DLQ replay succeeds, and waits until the pipeline has failed.
 */
export async function submitFailedOnce(baseUrl: string, name: string): Promise<{ pipelineId: string; jobId: string }> {
  const created = await request(baseUrl, 'POST', '/api/v1/pipelines', {
    name,
    stages: [{ key: 'charge', agent: 'fail', input: { failAttempts: 1, unrecoverable: true } }],
  });
  expect(created.status, JSON.stringify(created.body)).to.equal(202);
  const failed = await waitForPipeline(baseUrl, created.body.id);
  expect(failed.status).to.equal('failed');
  return { pipelineId: failed.id as string, jobId: (failed.stages as Loose[])[0]!.id as string };
}

/** Polls until `predicate` holds for the pipeline. */
export async function waitUntil(baseUrl: string, id: string, predicate: (p: Loose) => boolean, timeoutMs = 30_000): Promise<Loose> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await request(baseUrl, 'GET', `/api/v1/pipelines/${id}`);
    if (predicate(body)) return body;
    if (Date.now() > deadline) throw new Error(`condition not met for pipeline ${id} within ${timeoutMs} ms (status ${body.status})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Asserts an error answer: its status and `error.code` (the body is the message on failure). */
export function expectError(res: JsonResponse<Loose>, status: number, code: string): void {
  expect(res.status, JSON.stringify(res.body)).to.equal(status);
  expect(res.body.error?.code, JSON.stringify(res.body)).to.equal(code);
}

/** Asserts a 400 VALIDATION_FAILED whose details name `field`. */
export function expectValidationError(res: JsonResponse<Loose>, field: string): void {
  expectError(res, 400, 'VALIDATION_FAILED');
  expect(
    (res.body.error.details as Loose[]).map((d) => d.field),
    JSON.stringify(res.body.error.details),
  ).to.include(field);
}
