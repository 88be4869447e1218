// The load of the bench's `http` phase: autocannon (in the bench process, never in a server's)
// POSTing one 5-stage definition, with a unique name and Idempotency-Key per request, to a server.
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';

export interface LoadSettings {
  connections: number;
  pipelining: number;
  /** Measured seconds per run. */
  durationS: number;
  /** Unmeasured seconds before each run (JIT, pools, prepared statements). */
  warmupS: number;
}

export interface LoadResult {
  /** 2xx responses per second over the measured run. */
  perSecond: number;
  /** Latency of every response, in ms. */
  p50: number;
  p99: number;
  ok: number;
  /** Non-2xx answers, connection errors (timeouts included) and timeouts, warm-up included: each must be 0. */
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Status code → count over the warm-up and the run. */
  statusCodes: Record<string, number>;
  seconds: number;
  /** Every 2xx of this run and its warm-up: rows the server must have recorded. */
  okWithWarmup: number;
}

/**
 * The definition both servers take: five `noop` stages, one root (build → test, lint → review →
 * deploy), so the platform adds one job per submission, as the bare endpoint does.
 */
export function fiveStageDefinition(name: string) {
  return {
    name,
    input: { project: 'shop', ref: 'main' },
    stages: [
      { key: 'build', agent: 'noop', input: { step: 'build' } },
      { key: 'test', agent: 'noop', dependsOn: ['build'], input: { step: 'test' } },
      { key: 'lint', agent: 'noop', dependsOn: ['build'], input: { step: 'lint' } },
      { key: 'review', agent: 'noop', dependsOn: ['test', 'lint'], input: { step: 'review' } },
      { key: 'deploy', agent: 'noop', dependsOn: ['review'], input: { step: 'deploy' } },
    ],
  };
}

/** One autocannon run; unique names and keys come from a run tag and a counter. */
export function fire(url: string, headers: Record<string, string>, settings: LoadSettings, durationS: number): Promise<autocannon.Result> {
  const tag = randomBytes(4).toString('hex');
  let n = 0;
  return autocannon({
    url,
    method: 'POST',
    connections: settings.connections,
    pipelining: settings.pipelining,
    duration: durationS,
    timeout: 10,
    headers: { 'content-type': 'application/json', ...headers },
    requests: [
      {
        setupRequest: (request) => {
          n++;
          return {
            ...request,
            headers: { ...request.headers, 'idempotency-key': `bench-${tag}-${n}` },
            body: JSON.stringify(fiveStageDefinition(`bench-http-${tag}-${n}`)),
          };
        },
      },
    ],
  });
}

/** A measured run's figures; `warm` is its warm-up, whose 2xx and refusals are counted too. */
export function loadResult(r: autocannon.Result, warm: autocannon.Result | undefined): LoadResult {
  const statusCodes: Record<string, number> = {};
  for (const run of [warm, r])
    for (const [code, { count }] of Object.entries(run?.statusCodeStats ?? {}))
      statusCodes[code] = (statusCodes[code] ?? 0) + Number(count ?? 0);
  return {
    perSecond: r['2xx'] / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    ok: r['2xx'],
    non2xx: r.non2xx + (warm?.non2xx ?? 0),
    errors: r.errors + (warm?.errors ?? 0),
    timeouts: r.timeouts + (warm?.timeouts ?? 0),
    statusCodes,
    seconds: r.duration,
    okWithWarmup: r['2xx'] + (warm?.['2xx'] ?? 0),
  };
}
