// Pipeline definitions and submission helpers for chaos cases (built-in agents only: worker
// processes load the built-in catalog, so `sleep`, `noop` and `fail` are what they can run;
// stage_runs is the effect record).
import { randomUUID } from 'node:crypto';
import { request, type JsonResponse, type Loose } from '../http.js';

export interface StageSpec {
  key: string;
  agent: string;
  input?: Record<string, unknown>;
  dependsOn?: string[];
  retry?: Record<string, unknown>;
}

/** A chain: sleep(ms) → sleep(ms) → … → noop, `sleeps` sleeps long. */
export function sleepChain(
  name: string,
  sleeps: number,
  ms: number,
  retry?: Record<string, unknown>,
): { name: string; stages: StageSpec[] } {
  const stages: StageSpec[] = [];
  for (let i = 0; i < sleeps; i++) {
    stages.push({
      key: `s${i}`,
      agent: 'sleep',
      input: { ms },
      ...(i > 0 ? { dependsOn: [`s${i - 1}`] } : {}),
      ...(retry ? { retry } : {}),
    });
  }
  stages.push({ key: 'done', agent: 'noop', input: {}, dependsOn: sleeps > 0 ? [`s${sleeps - 1}`] : [], ...(retry ? { retry } : {}) });
  return { name, stages };
}

/** POSTs one pipeline with an Idempotency-Key and times the answer. */
export async function postPipeline(
  baseUrl: string,
  body: unknown,
  key = `chaos-${randomUUID()}`,
): Promise<JsonResponse<Loose> & { key: string; ms: number }> {
  const started = performance.now();
  const res = await request(baseUrl, 'POST', '/api/v1/pipelines', body, { 'Idempotency-Key': key });
  return { ...res, key, ms: performance.now() - started };
}

/** Submits `count` pipelines, `parallel` at a time; every answer must be 202. Returns their ids in order. */
export async function submitMany(baseUrl: string, count: number, build: (i: number) => unknown, parallel = 10): Promise<string[]> {
  const ids: string[] = new Array<string>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, count) }, async () => {
      while (next < count) {
        const i = next++;
        const res = await postPipeline(baseUrl, build(i));
        if (res.status !== 202) throw new Error(`POST /pipelines #${i}: ${res.status} ${JSON.stringify(res.body)}`);
        ids[i] = res.body.id as string;
      }
    }),
  );
  return ids;
}

/** Milliseconds since `since` (performance.now()), rounded. */
export const msSince = (since: number) => Math.round(performance.now() - since);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Prints a figure line in the mocha output (the suite's report is these lines). */
export function figure(label: string, value: unknown): void {
  process.stdout.write(`      [chaos] ${label}: ${typeof value === 'string' ? value : JSON.stringify(value)}\n`);
}
