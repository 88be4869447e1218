// Small measurement helpers: percentiles, a peak-RSS sampler, statement counting on a pg Pool,
// and waiting for a condition with a stall guard.
import { readdirSync, readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import type pg from 'pg';

export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles of a sample (milliseconds in, milliseconds out). */
export function percentiles(values: readonly number[]): Percentiles {
  if (values.length === 0) return { count: 0, p50: Number.NaN, p95: Number.NaN, p99: Number.NaN, max: Number.NaN, mean: Number.NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  const mean = sorted.reduce((sum, v) => sum + v, 0) / sorted.length;
  return { count: sorted.length, p50: rank(50), p95: rank(95), p99: rank(99), max: sorted[sorted.length - 1]!, mean };
}

export interface PhaseUsage {
  rss: number;
  heapUsed: number;
  /** CPU time of this process (user + system) during the phase, in ms. */
  cpuMs: number;
  /** The system (kernel) part of cpuMs. */
  cpuSystemMs: number;
  /** Share of the phase the main thread's event loop was busy (1 = saturated). */
  eventLoop: number;
  /** Share of the whole machine's CPU time that was busy during the phase (all processes). */
  machineBusy: number;
  /** Redis commands and round trips of this process during the phase. */
  redis: RedisCounts;
  /** Postgres statements sent through the counted pools during the phase. */
  pgStatements: number;
  /** CPU time of the machine's postgres and redis-server processes during the phase, in ms. */
  postgresCpuMs: number;
  redisCpuMs: number;
}

const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU time (ms) of every process named postgres / redis-server, read from /proc (Linux). The
 * servers are shared, so this includes other clients' work: compare with the idle load printed
 * at the start. Exited backends are counted through the postmaster's children times.
 */
export function serverCpu(): { postgres: number; redis: number } {
  const totals = { postgres: 0, redis: 0 };
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return { postgres: Number.NaN, redis: Number.NaN };
  }
  for (const pid of entries) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const key = comm === 'postgres' ? 'postgres' : comm === 'redis-server' ? 'redis' : undefined;
      if (!key) continue;
      const fields = stat.slice(close + 2).split(' ');
      // fields[0] is stat(5)'s field 3 (state): utime, stime, cutime, cstime are fields 14–17.
      // cutime/cstime hold the time of exited, reaped children: the postmaster's include the
      // backends that closed during the phase.
      const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
      totals[key] += (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
    } catch {
      // the process ended while we looked
    }
  }
  return totals;
}

/** Statements seen by every pool passed to countStatements(). */
let pgTotal = 0;

/** Aggregate CPU jiffies from /proc/stat (Linux); undefined elsewhere. */
function machineCpu(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((sum, v) => sum + v, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** The machine's CPU utilisation over the next `durationMs` (other users' load, before a run). */
export async function machineBusyOver(durationMs: number): Promise<number> {
  const start = machineCpu();
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  const end = machineCpu();
  return start && end && end.total > start.total ? (end.busy - start.busy) / (end.total - start.total) : Number.NaN;
}

/**
 * Samples process RSS (and heap) every `everyMs` until stopped; returns the peaks in bytes, the
 * process's CPU time and the machine's CPU utilisation over the phase.
 */
export function startRssSampler(everyMs = 100): { stop(): PhaseUsage } {
  const cpuStart = process.cpuUsage();
  const eluStart = performance.eventLoopUtilization();
  const machineStart = machineCpu();
  const redisStart = redisCounts ? { ...redisCounts } : { commands: 0, roundTrips: 0 };
  const pgStart = pgTotal;
  const serversStart = serverCpu();
  let rss = 0;
  let heapUsed = 0;
  const sample = () => {
    const usage = process.memoryUsage();
    rss = Math.max(rss, usage.rss);
    heapUsed = Math.max(heapUsed, usage.heapUsed);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      sample();
      const cpu = process.cpuUsage(cpuStart);
      const machineEnd = machineCpu();
      const machineBusy =
        machineStart && machineEnd && machineEnd.total > machineStart.total
          ? (machineEnd.busy - machineStart.busy) / (machineEnd.total - machineStart.total)
          : Number.NaN;
      const redisEnd = redisCounts ?? { commands: 0, roundTrips: 0 };
      const redis = { commands: redisEnd.commands - redisStart.commands, roundTrips: redisEnd.roundTrips - redisStart.roundTrips };
      const serversEnd = serverCpu();
      return {
        rss,
        heapUsed,
        cpuMs: (cpu.user + cpu.system) / 1000,
        cpuSystemMs: cpu.system / 1000,
        eventLoop: performance.eventLoopUtilization(eluStart).utilization,
        machineBusy,
        redis,
        pgStatements: pgTotal - pgStart,
        postgresCpuMs: serversEnd.postgres - serversStart.postgres,
        redisCpuMs: serversEnd.redis - serversStart.redis,
      };
    },
  };
}

let gcFn: (() => void) | undefined | null;

/** A full GC between phases, so one phase's garbage does not inflate the next one's RSS. */
export function collectGarbage(): void {
  if (gcFn === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    } catch {
      gcFn = null;
    }
  }
  gcFn?.();
}

export type StatementKind = string;

/** One statement seen on the pool while tracing: its label, scalar parameters and timing. */
export interface StatementRecord {
  kind: StatementKind;
  /** Scalar string parameters (ids); array parameters are left out. */
  params: string[];
  start: number;
  end: number;
}

export interface StatementCounter {
  snapshot(): Map<StatementKind, number>;
  reset(): void;
  /** Starts (or stops) keeping a timed record of every statement. */
  trace(on: boolean): void;
  records(): StatementRecord[];
}

/**
 * Counts the statements sent through a pg Pool, grouped by a short label derived from the SQL,
 * by wrapping each pooled client's `query` when it connects; optionally records each one's
 * timing (performance.now()) and scalar parameters. Cheap: a regex test per call.
 */
export function countStatements(pool: pg.Pool): StatementCounter {
  let counts = new Map<StatementKind, number>();
  let tracing = false;
  let records: StatementRecord[] = [];
  pool.on('connect', (client) => {
    const target = client as unknown as { query: (...args: unknown[]) => unknown };
    const original = target.query.bind(client) as (...args: unknown[]) => unknown;
    target.query = (...args: unknown[]) => {
      const first = args[0];
      const config = first && typeof first === 'object' ? (first as { text?: unknown; values?: unknown }) : undefined;
      const text = typeof first === 'string' ? first : String(config?.text ?? '');
      const name = (config as { name?: unknown } | undefined)?.name;
      const kind = (typeof name === 'string' && NAMED_KINDS[name]) || classify(text);
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
      pgTotal++;
      if (!tracing) return original(...args);
      const values = Array.isArray(args[1]) ? (args[1] as unknown[]) : Array.isArray(config?.values) ? (config.values as unknown[]) : [];
      const record: StatementRecord = {
        kind,
        params: values.filter((v): v is string => typeof v === 'string').flatMap(batchedIds),
        start: performance.now(),
        end: Number.NaN,
      };
      records.push(record);
      const done = () => {
        record.end = performance.now();
      };
      // pg-pool's pool.query() passes a callback; direct client use gets a promise.
      const last = args.length - 1;
      const callback = args[last];
      if (typeof callback === 'function') {
        args[last] = (...results: unknown[]) => {
          done();
          return (callback as (...a: unknown[]) => unknown)(...results);
        };
        return original(...args);
      }
      const result = original(...args);
      if (result instanceof Promise) result.then(done, done);
      return result;
    };
  });
  return {
    snapshot: () => new Map(counts),
    reset: () => {
      counts = new Map();
    },
    trace: (on) => {
      tracing = on;
      if (on) records = [];
    },
    records: () => records,
  };
}

/** The hot-path statements by the name their prepared plan carries. */
const NAMED_KINDS: Record<string, StatementKind> = {
  stage_claim: 'claim',
  stage_finish: 'finish run',
  pipelines_settled: 'settled check',
};

/**
 * A group-committed statement takes its attempts as one jsonb array: its stage ids stand for it in
 * the trace, as a single statement's parameters do.
 */
function batchedIds(param: string): string[] {
  if (!param.startsWith('[{')) return [param];
  try {
    const items = JSON.parse(param) as Array<{ stageId?: unknown }>;
    return items.map((i) => i.stageId).filter((id): id is string => typeof id === 'string');
  } catch {
    return [param];
  }
}

const kinds = new Map<string, StatementKind>();

/** The engine's SQL texts are constants, so each is classified once. */
function classify(sql: string): StatementKind {
  let kind = kinds.get(sql);
  if (kind === undefined) {
    kind = classifyText(sql);
    if (kinds.size < 10_000) kinds.set(sql, kind);
  }
  return kind;
}

function classifyText(sql: string): StatementKind {
  const s = sql.replace(/\s+/g, ' ').trim();
  if (/^(BEGIN|START TRANSACTION)/i.test(s)) return 'BEGIN';
  if (/^COMMIT/i.test(s)) return 'COMMIT';
  if (/^ROLLBACK/i.test(s)) return 'ROLLBACK';
  if (/FROM pipelines p LEFT JOIN stages s|^WITH p AS/i.test(s)) return 'advance: read stages';
  if (/^UPDATE stages SET status = \(CASE|^WITH changed AS/i.test(s)) return 'advance: apply plan';
  if (/^UPDATE pipelines SET status/i.test(s)) return 'advance: pipeline status';
  if (/^SELECT status, job_id, error FROM stages/i.test(s)) return 'claim miss: read stage';
  return s.length > 48 ? `${s.slice(0, 48)}…` : s;
}

/**
 * Polls `check` every `everyMs` until it returns true. Fails when `progress` (a counter) has
 * not moved for `stallMs`, with `describe()`'s text, so an engine that stops making progress
 * is reported instead of hanging the bench.
 */
export async function waitFor(
  check: () => Promise<{ done: boolean; progress: number }>,
  options: { everyMs?: number; stallMs?: number; describe?: () => Promise<string> } = {},
): Promise<void> {
  const everyMs = options.everyMs ?? 100;
  const stallMs = options.stallMs ?? 30_000;
  let lastProgress = -1;
  let lastMove = Date.now();
  for (;;) {
    const { done, progress } = await check();
    if (done) return;
    if (progress !== lastProgress) {
      lastProgress = progress;
      lastMove = Date.now();
    } else if (Date.now() - lastMove > stallMs) {
      const detail = options.describe ? await options.describe() : '';
      throw new Error(`no progress for ${stallMs / 1000} s (progress counter stuck at ${progress}). ${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
export const ms = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(value < 10 ? 2 : 1)} ms` : 'n/a');
export const perSecond = (value: number): string => `${Math.round(value).toLocaleString('en-US')}/s`;
export const pct = (value: number): string => `${(value * 100).toFixed(0)}%`;

export interface RedisCounts {
  /** Commands sent (EVALSHA of a BullMQ script counts once). */
  commands: number;
  /** Writes to the socket: a direct command, or a whole pipeline/MULTI. */
  roundTrips: number;
}

let redisCounts: RedisCounts | undefined;

/**
 * Counts every command the in-process ioredis clients send (BullMQ's included), by wrapping
 * Redis.prototype.sendCommand once. Returns a reader of the running totals.
 */
export function countRedisCommands(RedisClass: { prototype: object }): () => RedisCounts {
  if (!redisCounts) {
    const counts: RedisCounts = { commands: 0, roundTrips: 0 };
    redisCounts = counts;
    const proto = RedisClass.prototype as { sendCommand: (...args: unknown[]) => unknown };
    const original = proto.sendCommand;
    const pipelines = new WeakSet<object>();
    proto.sendCommand = function sendCommand(this: unknown, ...args: unknown[]) {
      counts.commands++;
      const stream = args[1];
      if (stream && typeof stream === 'object') {
        if (!pipelines.has(stream)) {
          pipelines.add(stream);
          counts.roundTrips++;
        }
      } else {
        counts.roundTrips++;
      }
      return original.apply(this, args);
    };
  }
  const counts = redisCounts;
  return () => ({ ...counts });
}
