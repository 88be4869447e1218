// Small fetch helpers for tests: JSON in, status + JSON out, and polling until a pipeline ends.
export interface JsonResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

// Test code reads arbitrary JSON; a loose record type keeps assertions short.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = Record<string, any>;

export async function request<T = Loose>(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as T };
}

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

/** Polls GET /pipelines/:id until it is terminal (or the deadline passes, which throws). */
export async function waitForPipeline(baseUrl: string, id: string, timeoutMs = 30_000): Promise<Loose> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await request(baseUrl, 'GET', `/api/v1/pipelines/${id}`);
    if (TERMINAL.has(body.status)) return body;
    if (Date.now() > deadline) throw new Error(`pipeline ${id} still ${body.status} after ${timeoutMs} ms: ${JSON.stringify(body.stages?.map((s: Loose) => [s.key, s.status]))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
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
