// The bench's `http` phase: POST /pipelines over real HTTP against a bare Express endpoint, each
// server in its own process, autocannon in the bench process, runs alternated bare → platform
// → bare → platform…; the verdict is the median of the paired ratios against the 80% target.
import { readFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { agentQueueName } from '../../src/infra/queue/queue-names.js';
import { createTestKey } from '../../test/support/keys.js';
import { readdirSync } from 'node:fs';
import { fire, loadResult, type LoadResult, type LoadSettings } from './load.js';
import { startBareServer, startPlatformServer, type ServerChild } from './servers.js';

export const HTTP_TARGET = 0.8;

export interface HttpPhaseOptions {
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  observer: pg.Pool;
  settings: LoadSettings;
  /** Paired runs (bare then platform each). */
  pairs: number;
  /** Lets Postgres settle before each run (checkpoint, autovacuum). */
  settle: () => Promise<void>;
  /** Node's --cpu-prof for both servers, into `<dir>/platform` and `<dir>/bare`. */
  cpuProfDir?: string;
  log: (line: string) => void;
}

export interface HttpRun extends LoadResult {
  server: 'bare' | 'platform';
  pair: number;
  /** CPU per 2xx, in ms: the server's process, every postgres process, redis-server, and the bench process (autocannon). */
  cpuPerRequest: { server: number; postgres: number; redis: number; loadTool: number };
  /** Platform only: statements on the API's pg pool per 2xx, by statement name (its /metrics). */
  statements?: Record<string, number>;
}

export interface HttpPhaseResult {
  runs: HttpRun[];
  /** platform / bare requests/s of each pair. */
  ratios: number[];
  /** Rows and jobs found after the runs against the 2xx answers (warm-ups included). */
  recorded: {
    /** connections × pipelining: requests that may be in flight when a run ends. */
    inFlight: number;
    platformOk: number;
    pipelines: number;
    stages: number;
    audits: number;
    rootJobs: number;
    bareOk: number;
    bareRows: number;
    bareJobs: number;
  };
}

const CLOCK_TICKS_PER_SECOND = 100;

/** stat(5)'s fields from the 3rd (state) on, or undefined when the process is gone. */
function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

const ticksToMs = (ticks: number) => (ticks * 1000) / CLOCK_TICKS_PER_SECOND;

/** User + system CPU of one process so far, in ms (Linux /proc). */
function processCpuMs(pid: number): number {
  const fields = statFields(pid);
  return fields ? ticksToMs(Number(fields[11]) + Number(fields[12])) : Number.NaN;
}

/**
 * CPU so far of one Postgres cluster, in ms: its postmaster (with its reaped backends' time)
 * and its live children. Other clusters on the machine (tests start private ones) are left out.
 */
function clusterCpuMs(postmaster: number): number {
  const own = statFields(postmaster);
  if (!own) return Number.NaN;
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(entry);
    if (fields && Number(fields[1]) === postmaster) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticksToMs(ticks);
}

/** The postmaster of the bench's Postgres: the parent of one of its backends. */
async function postmasterPid(observer: pg.Pool): Promise<number> {
  const { rows } = await observer.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return Number(statFields(rows[0]!.pid)?.[1] ?? Number.NaN);
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const STATEMENT_COUNT = /^agentic_db_statement_duration_seconds_count\{statement="([^"]+)"\} (\d+)/gm;

/** The API pool's statement counts by name, from the platform's /metrics (an operator's key). */
async function statementCounts(server: ServerChild, operatorKey: string): Promise<Map<string, number>> {
  const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${operatorKey}` } });
  if (!response.ok) throw new Error(`GET /metrics answered ${response.status}`);
  return new Map([...(await response.text()).matchAll(STATEMENT_COUNT)].map((m) => [m[1]!, Number(m[2])]));
}

async function measure(
  pids: { redis: number; postgres: number },
  operatorKey: string,
  server: ServerChild,
  kind: HttpRun['server'],
  pair: number,
  path: string,
  headers: Record<string, string>,
  settings: LoadSettings,
): Promise<HttpRun> {
  const url = `${server.url}${path}`;
  const warm = settings.warmupS > 0 ? await fire(url, headers, settings, settings.warmupS) : undefined;
  const countsBefore = kind === 'platform' ? await statementCounts(server, operatorKey) : undefined;
  const serverStart = processCpuMs(server.pid);
  const redisStart = processCpuMs(pids.redis);
  const postgresStart = clusterCpuMs(pids.postgres);
  const selfStart = process.cpuUsage();
  const r = await fire(url, headers, settings, settings.durationS);
  const self = process.cpuUsage(selfStart);
  const postgresEnd = clusterCpuMs(pids.postgres);
  const redisEnd = processCpuMs(pids.redis);
  const result = loadResult(r, warm);
  const per = (ms: number) => ms / Math.max(1, result.ok);
  const countsAfter = countsBefore ? await statementCounts(server, operatorKey) : undefined;
  const statements = countsAfter
    ? Object.fromEntries(
        [...countsAfter].map(([name, n]): [string, number] => [name, per(n - (countsBefore?.get(name) ?? 0))]).filter(([, n]) => n > 0),
      )
    : undefined;
  return {
    ...result,
    server: kind,
    pair,
    cpuPerRequest: {
      server: per(processCpuMs(server.pid) - serverStart),
      postgres: per(postgresEnd - postgresStart),
      redis: per(redisEnd - redisStart),
      loadTool: per((self.user + self.system) / 1000),
    },
    statements,
  };
}

/** The pid of the Redis server itself (its CPU; another redis-server on the machine is not ours). */
async function redisProcessId(url: string): Promise<number> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    return Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1] ?? Number.NaN);
  } finally {
    redis.disconnect();
  }
}

/** Waits until the phase's row counts stop moving (two equal reads 300 ms apart; 15 s at most). */
async function untilRowsSettle(observer: pg.Pool): Promise<void> {
  const read = async () =>
    (
      await observer.query<{ n: string }>(
        "SELECT (SELECT count(*) FROM pipelines WHERE name LIKE 'bench-http-%') + (SELECT count(*) FROM bare_pipelines) AS n",
      )
    ).rows[0]!.n;
  const deadline = Date.now() + 15_000;
  let last = await read();
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const now = await read();
    if (now === last) return;
    last = now;
  }
}

async function countRecorded(options: HttpPhaseOptions, runs: readonly HttpRun[]): Promise<HttpPhaseResult['recorded']> {
  const { rows } = await options.observer.query<{ pipelines: number; stages: number; audits: number; bare: number }>(
    // This phase's pipelines only (other phases of the same run share the schema).
    `WITH mine AS (SELECT id FROM pipelines WHERE name LIKE 'bench-http-%')
     SELECT (SELECT count(*)::int FROM mine) AS pipelines,
            (SELECT count(*)::int FROM stages WHERE pipeline_id IN (SELECT id FROM mine)) AS stages,
            (SELECT count(*)::int FROM audit_events WHERE action = 'pipeline.submitted' AND pipeline_id IN (SELECT id FROM mine)) AS audits,
            (SELECT count(*)::int FROM bare_pipelines) AS bare`,
  );
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  // Waiting to run: the platform adds every job with a priority (its pipeline's), so its jobs
  // wait in the prioritized set, the bare endpoint's in the waiting list.
  const waiting = async (name: string) => {
    const queue = new Queue(name, { connection: redis, prefix: options.prefix });
    try {
      const counts = await queue.getJobCounts('waiting', 'prioritized');
      return (counts.waiting ?? 0) + (counts.prioritized ?? 0);
    } finally {
      await queue.close();
    }
  };
  try {
    const sum = (kind: HttpRun['server']) => runs.filter((r) => r.server === kind).reduce((n, r) => n + r.okWithWarmup, 0);
    return {
      inFlight: options.settings.connections * options.settings.pipelining,
      platformOk: sum('platform'),
      pipelines: rows[0]!.pipelines,
      stages: rows[0]!.stages,
      audits: rows[0]!.audits,
      rootJobs: await waiting(agentQueueName('noop')),
      bareOk: sum('bare'),
      bareRows: rows[0]!.bare,
      bareJobs: await waiting('bare-pipelines'),
    };
  } finally {
    redis.disconnect();
  }
}

export async function measureHttp(options: HttpPhaseOptions): Promise<HttpPhaseResult> {
  const { settings, log } = options;
  const servers: ServerChild[] = [];
  const stopServers = async () => {
    // In reverse: the platform's profile is written as it exits.
    for (const server of servers.splice(0).reverse()) {
      await server.stop().catch((error: unknown) => log(`http: stopping ${server.name} failed: ${(error as Error).message}`));
    }
  };
  try {
    // A submitter key in the bench's schema, as `cli keys create` makes one.
    const key = await createTestKey(options.databaseUrl, 'bench-submitter', ['submitter']);
    // Reads the platform's /metrics around each run: its statements per request.
    const operator = await createTestKey(options.databaseUrl, 'bench-operator', ['operator']);
    const serverOptions = {
      databaseUrl: options.databaseUrl,
      redisUrl: options.redisUrl,
      prefix: options.prefix,
      cpuProfDir: options.cpuProfDir,
    };
    log('http: starting the platform API (src/server.ts) and the bare endpoint, each in its own process…');
    const platform = await startPlatformServer(serverOptions);
    servers.push(platform);
    const bare = await startBareServer(serverOptions);
    servers.push(bare);
    const pids = { redis: await redisProcessId(options.redisUrl), postgres: await postmasterPid(options.observer) };
    const runs: HttpRun[] = [];
    const { connections, pipelining, durationS, warmupS } = settings;
    for (let pair = 1; pair <= options.pairs; pair++) {
      for (const [kind, server, path, headers] of [
        ['bare', bare, '/pipelines', {}],
        // `Prefer: return=minimal`: the platform answers the id, status and links, as the bare endpoint answers its id only.
        ['platform', platform, '/api/v1/pipelines', { authorization: `Bearer ${key.key}`, prefer: 'return=minimal' }],
      ] as const) {
        await options.settle();
        log(
          `http: pair ${pair}/${options.pairs}, ${kind}: ${connections} connections × pipelining ${pipelining}, ${warmupS} s warm-up + ${durationS} s…`,
        );
        const run = await measure(pids, operator.key, server, kind, pair, path, headers, settings);
        runs.push(run);
        log(`  ${Math.round(run.perSecond)} req/s, p50 ${run.p50} ms, p99 ${run.p99} ms, non-2xx ${run.non2xx}, errors ${run.errors}`);
      }
    }
    const ratios = Array.from({ length: options.pairs }, (_, i) => {
      const of = (kind: HttpRun['server']) => runs.find((r) => r.pair === i + 1 && r.server === kind)!.perSecond;
      return of('platform') / of('bare');
    });
    // autocannon leaves up to connections × pipelining requests running at its deadline: the
    // servers finish them (a stopping server would cut those whose client is gone), then stop.
    await untilRowsSettle(options.observer);
    await stopServers();
    return { runs, ratios, recorded: await countRecorded(options, runs) };
  } finally {
    await stopServers();
  }
}

/** What makes the figures worthless: a non-2xx answer, a connection error, or a 2xx without its rows and job. */
export function httpFailures(result: HttpPhaseResult): string[] {
  const failures: string[] = [];
  for (const r of result.runs) {
    if (r.non2xx > 0 || r.errors > 0)
      failures.push(
        `${r.server} pair ${r.pair}: ${r.non2xx} non-2xx (${JSON.stringify(r.statusCodes)}), ${r.errors} errors (${r.timeouts} timeouts)`,
      );
  }
  // autocannon stops at the deadline without waiting for the requests in flight, which the
  // server still records: up to connections × pipelining more rows than 2xx per run and warm-up.
  const c = result.recorded;
  const runsPerServer = result.runs.length / 2;
  const slack = c.inFlight * runsPerServer * 2;
  const covers = (rows: number, ok: number) => rows >= ok && rows - ok <= slack;
  if (!covers(c.pipelines, c.platformOk) || c.audits !== c.pipelines || c.stages !== 5 * c.pipelines || c.rootJobs !== c.pipelines)
    failures.push(
      `platform: ${c.platformOk} 2xx but ${c.pipelines} pipelines, ${c.stages} stages, ${c.audits} audit events, ${c.rootJobs} root jobs`,
    );
  if (!covers(c.bareRows, c.bareOk) || c.bareJobs !== c.bareRows)
    failures.push(`bare: ${c.bareOk} 2xx but ${c.bareRows} rows, ${c.bareJobs} jobs`);
  return failures;
}

const fixed = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
/** autocannon's latencies are whole milliseconds; a median of two may be a half. */
const latency = (n: number) => `${Number.isInteger(n) ? n : n.toFixed(1)} ms`;

function statementLine(statements: Record<string, number> | undefined): string {
  if (!statements) return 'n/a';
  const entries = Object.entries(statements).sort((a, b) => b[1] - a[1]);
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  return `${fixed(total)} (${entries.map(([name, n]) => `${name} ${fixed(n)}`).join(', ')})`;
}

export function renderHttp(result: HttpPhaseResult, settings: LoadSettings): string {
  const header = ['Pair', 'Server', 'Requests/s', 'p50', 'p99', '2xx', 'non-2xx', 'Errors', 'CPU/req server+pg+redis', 'Load tool CPU/req'];
  const body = result.runs.map((r) => [
    String(r.pair),
    r.server,
    Math.round(r.perSecond).toLocaleString('en-US'),
    latency(r.p50),
    latency(r.p99),
    r.ok.toLocaleString('en-US'),
    String(r.non2xx),
    String(r.errors),
    `${fixed(r.cpuPerRequest.server)}+${fixed(r.cpuPerRequest.postgres)}+${fixed(r.cpuPerRequest.redis)} ms`,
    `${fixed(r.cpuPerRequest.loadTool)} ms`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i]!.length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i < 2 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  const of = (kind: HttpRun['server']) => result.runs.filter((r) => r.server === kind);
  const med = (kind: HttpRun['server'], pick: (r: HttpRun) => number) => median(of(kind).map(pick));
  const ratio = median(result.ratios);
  const c = result.recorded;
  return [
    `POST /pipelines over HTTP: ${settings.connections} connections, pipelining ${settings.pipelining}, ${settings.warmupS} s warm-up + ${settings.durationS} s per run`,
    line(header),
    rule,
    ...body.map(line),
    `medians: bare ${Math.round(med('bare', (r) => r.perSecond))} req/s (p50 ${latency(med('bare', (r) => r.p50))}, p99 ${latency(med('bare', (r) => r.p99))}), ` +
      `platform ${Math.round(med('platform', (r) => r.perSecond))} req/s (p50 ${latency(med('platform', (r) => r.p50))}, p99 ${latency(med('platform', (r) => r.p99))})`,
    'CPU/req: user+system CPU per 2xx of the server process, of the Postgres cluster (its postmaster and backends) and of redis-server, both shared: other clients count too; ' +
      'load tool: the bench process (autocannon). Latency: autocannon, per response, whole milliseconds.',
    `platform API statements per 2xx (last pair, from its /metrics): ${statementLine(result.runs.filter((r) => r.server === 'platform').at(-1)?.statements)}`,
    `platform / bare per pair: ${result.ratios.map((r) => `${(r * 100).toFixed(0)}%`).join(', ')}`,
    `platform / bare requests/s (median of pairs)  ${(ratio * 100).toFixed(0)}%   target ≥ ${HTTP_TARGET * 100}%   ${ratio >= HTTP_TARGET ? 'PASS' : 'MISS'}`,
    `recorded: platform ${c.platformOk} 2xx → ${c.pipelines} pipelines, ${c.stages} stages, ${c.audits} submission audit events, ${c.rootJobs} root jobs waiting; ` +
      `bare ${c.bareOk} 2xx → ${c.bareRows} rows, ${c.bareJobs} jobs waiting (warm-ups included)`,
  ].join('\n');
}
