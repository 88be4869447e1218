// `npm run bench [-- --quick] [--only bare,handrolled,platform,retention,load,soak,http] [--pool 10] [--concurrency 50] [--rounds 3] [--chains 4] [--processes 4] [--in-flight N] [--schema-sql "…"]`
// `npm run bench -- --only http [--connections 10] [--pipelining 1] [--duration 10] [--warmup 2] [--pairs 3] [--cpu-prof-dir DIR]`
//
// One run on the shared Redis and Postgres: bare BullMQ, a hand-rolled durable queue (BullMQ +
// pg), then the platform (pipeline service + worker runtime in-process). Prints a table with
// throughput, hop latency, peak RSS and the ratios against the targets. `load`, `soak` and `http`
// (not in the default run: minutes each) start processes of their own: bench/load.ts,
// bench/soak.ts, bench/http/. Everything it creates lives under a unique Redis prefix and a
// private Postgres schema, both removed at the end (also on error or Ctrl-C), after its processes
// are stopped.
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { Redis } from 'ioredis';
import pg from 'pg';
import { toPgConnection } from '../src/infra/db/connection-url.js';
import { createTestSchema, dropSchema } from '../test/support/test-database.js';
import {
  createHandRolledTable,
  handRolledWork,
  measureChain,
  measureThroughput,
  noWork,
  type BaselineContext,
  type HopResult,
  type ThroughputResult,
} from './baselines.js';
import { startPlatform, type ChainRun, type Platform, type PlatformRun } from './platform.js';
import { measureRetention, renderRetention, type RetentionRow } from './retention.js';
import { measureLoad, type LoadResult } from './load.js';
import { renderLoad, renderSoak } from './load-report.js';
import { closeEverythingOpen } from './open-resources.js';
import { describeTableWrites, tableWrites } from './table-writes.js';
import { seedHandRolledHistory, seedPlatformHistory } from './history.js';
import { settlePostgres } from './settle-postgres.js';
import { runSoak, type SoakResult } from './soak.js';
import { httpFailures, measureHttp, renderHttp, type HttpPhaseResult } from './http/http-phase.js';
import type { LoadSettings } from './http/load.js';
import {
  collectGarbage,
  countRedisCommands,
  countStatements,
  machineBusyOver,
  mb,
  ms,
  pct,
  perSecond,
  type Percentiles,
  type PhaseUsage,
} from './stats.js';

process.env.LOG_LEVEL = 'error';
// Every ioredis client in this process (BullMQ's too) is counted from here on.
countRedisCommands(Redis);

type Phase = 'bare' | 'handrolled' | 'platform-independent' | 'platform-chains' | 'retention' | 'load' | 'soak' | 'http';
/** The phases of a plain `npm run bench`; `load`, `soak` and `http` run only when named in --only. */
const DEFAULT_PHASES: readonly Phase[] = ['bare', 'handrolled', 'platform-independent', 'platform-chains', 'retention'];
const PHASES: readonly Phase[] = [...DEFAULT_PHASES, 'load', 'soak', 'http'];

interface Options {
  quick: boolean;
  /** SQL run in the private schema after migrating it: a what-if for schema changes. */
  schemaSql: string | undefined;
  phases: Set<Phase>;
  pool: number;
  concurrency: number;
  /** Finished stages (and hand-rolled rows) in the tables before the hand-rolled and platform phases (bench/history.ts). */
  history: number;
  /** Paired rounds of the hand-rolled and platform phases; the ratios are the medians over them. */
  rounds: number;
  /** Chains run at once in the chain phases of bare BullMQ, the hand-rolled queue and the platform. */
  chains: number;
  /** Worker processes of the load and soak phases. */
  processes: number;
  /** Pipelines (chains) unfinished at once in the load phase; 0: all submitted at once. */
  inFlight: number;
  http: LoadSettings & { pairs: number; cpuProfDir: string | undefined };
}

function parseArgs(argv: readonly string[]): Options {
  const value = (name: string): string | undefined => {
    const inline = argv.find((a) => a.startsWith(`--${name}=`));
    if (inline) return inline.slice(name.length + 3);
    const at = argv.indexOf(`--${name}`);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const int = (name: string, fallback: number): number => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got "${raw}"`);
    return n;
  };
  const only = value('only');
  // `platform` stands for both platform phases.
  const names = only
    ? only.split(',').flatMap((p) => (p.trim() === 'platform' ? ['platform-independent', 'platform-chains'] : [p.trim()]))
    : DEFAULT_PHASES;
  for (const p of names)
    if (!(PHASES as readonly string[]).includes(p)) throw new Error(`--only takes platform, ${PHASES.join(', ')}; got "${p}"`);
  const phases = new Set(names as Phase[]);
  const quick = argv.includes('--quick');
  return {
    quick,
    schemaSql: value('schema-sql'),
    phases,
    pool: int('pool', 10),
    concurrency: int('concurrency', 50),
    rounds: int('rounds', 1),
    history: value('history') === '0' ? 0 : int('history', 100_000),
    chains: int('chains', 4),
    processes: int('processes', 4),
    // Default: as many pipelines (chains) in flight as the worker processes have job slots.
    inFlight: value('in-flight') === '0' ? 0 : int('in-flight', int('processes', 4) * int('concurrency', 50)),
    http: {
      connections: int('connections', 10),
      pipelining: int('pipelining', 1),
      durationS: int('duration', quick ? 3 : 10),
      warmupS: int('warmup', quick ? 1 : 2),
      pairs: int('pairs', 3),
      cpuProfDir: value('cpu-prof-dir'),
    },
  };
}

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const KEEP_COMPLETED = 1000; // the platform's COMPLETED_JOBS_KEEP default
// Issue 16's targets: the median of paired rounds (`--rounds 3`) on a quiet machine.
const TARGETS = { throughputVsHandRolled: 1, hopP50: 2, hopP99: 10 };

async function deleteKeys(prefix: string): Promise<number> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

interface Row {
  phase: string;
  work: string;
  /** Jobs or stages run, for CPU per unit. */
  units: number;
  seconds: number;
  throughput?: number;
  hops?: Percentiles;
  usage: PhaseUsage;
}

function renderTable(rows: readonly Row[]): string {
  const header = [
    'Phase',
    'Work',
    'Time',
    'Throughput',
    'Hop p50',
    'Hop p95',
    'Hop p99',
    'Peak RSS',
    'CPU/unit node+pg+redis',
    'Event loop',
    'Machine CPU',
    'Redis cmds/unit',
    'PG stmts/unit',
  ];
  const body = rows.map((r) => [
    r.phase,
    r.work,
    `${r.seconds.toFixed(1)} s`,
    r.throughput === undefined ? '' : perSecond(r.throughput),
    r.hops ? ms(r.hops.p50) : '',
    r.hops ? ms(r.hops.p95) : '',
    r.hops ? ms(r.hops.p99) : '',
    mb(r.usage.rss),
    `${(r.usage.cpuMs / r.units).toFixed(2)}+${(r.usage.postgresCpuMs / r.units).toFixed(2)}+${(r.usage.redisCpuMs / r.units).toFixed(2)} ms`,
    pct(r.usage.eventLoop),
    Number.isFinite(r.usage.machineBusy) ? pct(r.usage.machineBusy) : 'n/a',
    `${(r.usage.redis.commands / r.units).toFixed(1)} (${(r.usage.redis.roundTrips / r.units).toFixed(1)} RT)`,
    (r.usage.pgStatements / r.units).toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i]!.length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i < 2 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...body.map(line)].join('\n');
}

/** Which code was measured: the commit, and whether the engine's files had local changes. */
function gitState(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).trim();
    return dirty ? `${head} + uncommitted changes in src/` : head;
  } catch {
    return 'unknown (no git)';
  }
}

const fmtInt = (n: number) => n.toLocaleString('en-US');

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const scale = options.quick ? 10 : 1;
  const sizes = {
    jobs: 20_000 / scale,
    pipelines: 40 / scale,
    stagesPer: 500,
    chains: options.chains,
    chainLength: 500 / scale,
    retentionPipelines: 1000 / scale,
    loadPipelines: 10_000 / scale,
    soakStages: 100_000 / scale,
    soakRounds: 10,
  };
  const chainWork = `${sizes.chains} chain(s) × ${sizes.chainLength} jobs, concurrently`;
  const prefix = `{bench-${randomBytes(4).toString('hex')}}`;
  const began = performance.now();
  console.log(
    `agentic-sdlc bench${options.quick ? ' (--quick)' : ''}: node ${process.version}, ${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}; ` +
      `worker concurrency ${options.concurrency}, Postgres pool ${options.pool}; Redis prefix ${prefix}`,
  );

  const idleBusy = await machineBusyOver(1000);
  console.log(
    `code: ${gitState()}; machine CPU busy in the second before the run ${pct(idleBusy)} (other processes), ` +
      `load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );

  let schema: string | undefined;
  let observer: pg.Pool | undefined;
  let handPool: pg.Pool | undefined;
  let platform: Platform | undefined;
  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    (cleaned ??= (async () => {
      const steps: Array<[string, () => Promise<unknown>]> = [
        ['worker processes and the load/soak API runtime', () => closeEverythingOpen()],
        ['platform', async () => platform?.close()],
        ['hand-rolled pool', async () => handPool?.end()],
        [
          'table writes',
          async () => {
            if (!observer || !schema) return;
            const writes = await tableWrites(observer, schema);
            if (writes.length > 0) console.log(`Postgres writes in ${schema}, every phase together:\n${describeTableWrites(writes)}`);
          },
        ],
        ['observer pool', async () => observer?.end()],
        ['Redis keys', async () => console.log(`cleanup: deleted ${await deleteKeys(prefix)} Redis keys under ${prefix}`)],
        ['schema', async () => schema && (await dropSchema(schema), console.log(`cleanup: dropped schema ${schema}`))],
      ];
      for (const [name, step] of steps) {
        try {
          await step();
        } catch (error) {
          console.error(`cleanup of ${name} failed: ${(error as Error).message}`);
        }
      }
    })());
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = true;
    console.error(`\n${signal}: cleaning up…`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const rows: Row[] = [];
  const results: Results = { hand: [], handChain: [], independent: [], chains: [] };
  let retention: RetentionRow[] = [];
  let load: LoadResult | undefined;
  let soak: SoakResult | undefined;
  let http: HttpPhaseResult | undefined;

  try {
    const created = await createTestSchema();
    schema = created.schema;
    const pgConnection = toPgConnection(created.url);
    observer = new pg.Pool({ connectionString: pgConnection.connectionString, max: 2 });
    console.log(`schema ${schema} migrated (${((performance.now() - began) / 1000).toFixed(1)} s)`);
    if (options.schemaSql) {
      await observer.query(options.schemaSql);
      console.log(`ran --schema-sql in ${schema}: ${options.schemaSql}`);
    }
    const ctx: BaselineContext = { redisUrl: REDIS_URL, prefix, concurrency: options.concurrency, keepCompleted: KEEP_COMPLETED };

    if (options.phases.has('bare')) {
      console.log(`bare BullMQ: ${fmtInt(sizes.jobs)} no-op jobs…`);
      const r = (results.bare = await measureThroughput(ctx, 'bare', sizes.jobs, noWork));
      rows.push({
        phase: 'bare BullMQ, no-op jobs',
        work: `${fmtInt(sizes.jobs)} jobs`,
        units: sizes.jobs,
        seconds: r.seconds,
        throughput: r.perSecond,
        usage: r.usage,
      });
      collectGarbage();
      console.log(`bare BullMQ: ${chainWork}…`);
      const c = (results.bareChain = await measureChain(ctx, 'bare-chain', sizes.chains, sizes.chainLength, noWork));
      rows.push({
        phase: 'bare BullMQ, chains',
        work: `${sizes.chains}×${sizes.chainLength} jobs, ${fmtInt(c.hops.count)} hops`,
        units: sizes.chains * sizes.chainLength,
        seconds: c.seconds,
        hops: c.hops,
        usage: c.usage,
      });
      collectGarbage();
    }

    // Paired rounds: hand-rolled then platform, `--rounds` times; the platform is started once.
    const roundLabel = (round: number) => (options.rounds > 1 ? ` (round ${round + 1})` : '');
    for (let round = 0; round < options.rounds; round++) {
      if (options.phases.has('handrolled')) {
        await settlePostgres(observer);
        if (!handPool) {
          handPool = new pg.Pool({ connectionString: pgConnection.connectionString, max: options.pool });
          countStatements(handPool);
        }
        await createHandRolledTable(handPool);
        await seedHandRolledHistory(handPool, options.history);
        const work = handRolledWork(handPool);
        console.log(`hand-rolled${roundLabel(round)}: ${fmtInt(sizes.jobs)} jobs, INSERT + UPDATE each…`);
        const r = await measureThroughput(ctx, 'handrolled', sizes.jobs, work);
        results.hand.push(r);
        rows.push({
          phase: `hand-rolled, INSERT+UPDATE${roundLabel(round)}`,
          work: `${fmtInt(sizes.jobs)} jobs`,
          units: sizes.jobs,
          seconds: r.seconds,
          throughput: r.perSecond,
          usage: r.usage,
        });
        collectGarbage();
        await settlePostgres(observer);
        console.log(`hand-rolled${roundLabel(round)}: ${chainWork}…`);
        const c = await measureChain(ctx, 'handrolled-chain', sizes.chains, sizes.chainLength, work);
        results.handChain.push(c);
        rows.push({
          phase: `hand-rolled, chains${roundLabel(round)}`,
          work: `${sizes.chains}×${sizes.chainLength} jobs, ${fmtInt(c.hops.count)} hops`,
          units: sizes.chains * sizes.chainLength,
          seconds: c.seconds,
          hops: c.hops,
          usage: c.usage,
        });
        collectGarbage();
      }

      if (options.phases.has('platform-independent') || options.phases.has('platform-chains')) {
        if (handPool) await handPool.query('DROP TABLE IF EXISTS handrolled_jobs');
        await settlePostgres(observer);
        if (!platform) {
          await seedPlatformHistory(observer, { stages: options.history, stagesPer: sizes.stagesPer });
          console.log(`platform: ${fmtInt(options.history)} finished stages of history; starting the API and worker runtimes in-process…`);
        }
        platform ??= await startPlatform({
          databaseUrl: created.url,
          redisUrl: REDIS_URL,
          prefix,
          concurrency: options.concurrency,
          poolSize: options.pool,
          observer,
        });
        collectGarbage();
        if (options.phases.has('platform-independent')) {
          const total = sizes.pipelines * sizes.stagesPer;
          console.log(`platform${roundLabel(round)}: ${sizes.pipelines} pipelines × ${sizes.stagesPer} independent noop stages…`);
          const r = await platform.runIndependent(sizes.pipelines, sizes.stagesPer);
          results.independent.push(r);
          rows.push({
            phase: `platform, independent stages${roundLabel(round)}`,
            work: `${sizes.pipelines}×${sizes.stagesPer} = ${fmtInt(total)} stages`,
            units: total,
            seconds: r.seconds,
            throughput: r.perSecond,
            usage: r.usage,
          });
          collectGarbage();
        }
        if (options.phases.has('platform-chains')) {
          await settlePostgres(observer);
          console.log(`platform${roundLabel(round)}: ${sizes.chains} chains × ${sizes.chainLength} stages, concurrently…`);
          const c = await platform.runChains(sizes.chains, sizes.chainLength);
          results.chains.push(c);
          rows.push({
            phase: `platform, chains (concurrent)${roundLabel(round)}`,
            work: `${sizes.chains}×${sizes.chainLength} stages, ${fmtInt(c.trace.total.count)} hops`,
            units: sizes.chains * sizes.chainLength,
            seconds: c.seconds,
            throughput: c.perSecond,
            // Cut where the baselines' hops are cut; the Postgres timestamps' hop is in the details.
            hops: c.trace.total,
            usage: c.usage,
          });
        }
      }
    }

    if (options.phases.has('retention')) {
      // After the other phases, with their platform closed: its own runtimes per setting.
      await platform?.close();
      platform = undefined;
      await settlePostgres(observer);
      retention = await measureRetention({
        databaseUrl: created.url,
        redisUrl: REDIS_URL,
        prefix,
        pipelines: sizes.retentionPipelines,
        observer,
        log: (line) => console.log(line),
      });
    }

    const multi = {
      databaseUrl: created.url,
      redisUrl: REDIS_URL,
      prefix,
      observer,
      processes: options.processes,
      concurrency: options.concurrency,
      poolSize: options.pool,
      log: (line: string) => console.log(line),
    };
    if (options.phases.has('load')) {
      await platform?.close();
      platform = undefined;
      await settlePostgres(observer);
      collectGarbage();
      load = await measureLoad({ ...multi, pipelines: sizes.loadPipelines, inFlight: options.inFlight }, () => settlePostgres(observer!));
    }
    if (options.phases.has('soak')) {
      await platform?.close();
      platform = undefined;
      await settlePostgres(observer);
      soak = await runSoak({ ...multi, stages: sizes.soakStages, rounds: sizes.soakRounds, warmUpPipelines: 500, maxWarmUpRounds: 8 });
    }
    if (options.phases.has('http')) {
      // Last, with the in-process platform closed: the machine's cores go to the two servers.
      await platform?.close();
      platform = undefined;
      http = await measureHttp({
        databaseUrl: created.url,
        redisUrl: REDIS_URL,
        prefix,
        observer,
        settings: options.http,
        pairs: options.http.pairs,
        settle: () => settlePostgres(observer!),
        cpuProfDir: options.http.cpuProfDir,
        log: (line) => console.log(line),
      });
    }

    if (rows.length > 0) {
      console.log('');
      console.log(renderTable(rows));
      console.log(
        "Hops, cut at the same points for all three, with performance.now() in the process: from the end of the work that records job N (the hand-rolled UPDATE; the platform's finish statement) to the start of N+1 (processor entry; the platform's claim statement).\n" +
          'CPU/unit: user+system CPU per job or stage of this process (client, workers, conductor, API) + all postgres processes + redis-server. ' +
          "Event loop: share of the phase this process's main thread was busy (100% = saturated). " +
          'Machine CPU: all processes, Postgres and Redis included (100% = every core busy).\n' +
          'Redis cmds/unit: commands sent by this process per job or stage (RT = round trips: a pipeline/MULTI is one); ' +
          "PG stmts/unit: statements on the worker and API pools (BEGIN/COMMIT included), the bench's own polling excluded.",
      );
      console.log('');
    }
    report(results);
    if (retention.length > 0) console.log(`\nRedis memory per finished pipeline (retention)\n${renderRetention(retention)}`);
    if (load) console.log(`\n${renderLoad(load)}`);
    if (soak) console.log(`\n${renderSoak(soak)}`);
    const failures = http ? httpFailures(http) : [];
    if (http) {
      console.log(`\n${renderHttp(http, options.http)}`);
      for (const failure of failures) console.log(`FAILURE: ${failure}`);
    }
    console.log(
      `\ntotal bench time ${((performance.now() - began) / 1000).toFixed(0)} s; load average after ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    // A refused or lost request makes the http figures worthless: the exit status says so.
    return failures.length > 0 ? 1 : 0;
  } catch (error) {
    // After Ctrl-C the cleanup closes what a phase was using: its failure is the interruption.
    if (interrupted) return 130;
    console.error(`\nbench failed: ${(error as Error).stack ?? String(error)}`);
    if (rows.length > 0) console.error(`\nmeasured before the failure:\n${renderTable(rows)}`);
    return 1;
  } finally {
    await cleanup();
  }
}

/** What each phase measured; a phase left out by --only is absent (empty: none of its rounds ran). */
interface Results {
  bare?: ThroughputResult;
  bareChain?: HopResult;
  /** One entry per round (`--rounds`), paired by index. */
  hand: ThroughputResult[];
  handChain: HopResult[];
  independent: PlatformRun[];
  chains: ChainRun[];
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

function report(results: Results): void {
  const { bare, bareChain } = results;
  // The details below are those of the last round; the target lines use every round.
  const independent = results.independent.at(-1);
  const chains = results.chains.at(-1);
  const hand = results.hand.at(-1);
  const handChain = results.handChain.at(-1);
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');
  const rounds = (values: readonly number[], format: (v: number) => string) =>
    values.length > 1 ? `   (median of ${values.length} rounds: ${values.map(format).join(', ')})` : '';
  const lines: string[] = [];
  const paired = Math.min(results.independent.length, results.hand.length);
  if (paired > 0) {
    const ratios = Array.from({ length: paired }, (_, i) => results.independent[i]!.perSecond / results.hand[i]!.perSecond);
    const ratio = median(ratios);
    lines.push(
      `platform / hand-rolled throughput   ${pct(ratio).padStart(6)}   target ≥ ${pct(TARGETS.throughputVsHandRolled)}   ${verdict(ratio >= TARGETS.throughputVsHandRolled)}${rounds(ratios, pct)}`,
    );
  }
  if (independent && bare) lines.push(`platform / bare BullMQ throughput   ${pct(independent.perSecond / bare.perSecond).padStart(6)}`);
  if (chains) {
    const p50s = results.chains.map((c) => c.trace.total.p50);
    const p99s = results.chains.map((c) => c.trace.total.p99);
    const p50 = median(p50s);
    const p99 = median(p99s);
    lines.push(
      `platform hop p50                    ${ms(p50).padStart(8)} target ≤ ${TARGETS.hopP50} ms   ${verdict(p50 <= TARGETS.hopP50)}${rounds(p50s, ms)}`,
    );
    lines.push(
      `platform hop p99                    ${ms(p99).padStart(8)} target ≤ ${TARGETS.hopP99} ms  ${verdict(p99 <= TARGETS.hopP99)}${rounds(p99s, ms)}`,
    );
    if (bareChain) lines.push(`platform / bare BullMQ hop p50      ${(p50 / bareChain.hops.p50).toFixed(1).padStart(6)}×`);
    if (handChain)
      lines.push(`platform / hand-rolled hop p50      ${(p50 / median(results.handChain.map((c) => c.hops.p50))).toFixed(1).padStart(6)}×`);
  }
  if (lines.length > 0) console.log(lines.join('\n'));

  if (independent || chains) {
    console.log('\nplatform details');
    for (const [label, run] of [
      ['independent', independent],
      ['chains', chains],
    ] as const) {
      if (!run) continue;
      const statements = run.statementsPerStage.reduce((sum, [, n]) => sum + n, 0);
      console.log(
        `  ${label}: ${run.pipelines} pipelines (${run.failedPipelines} not succeeded), submit() took ${run.submitSeconds.toFixed(2)} s, ` +
          `stages/s from the first stage start to the last stage end ${perSecond(run.processingPerSecond)}, ` +
          `conductor advances per stage ${run.advancesPerStage.toFixed(3)}, ` +
          `queries waiting for a pooled client mean ${run.poolWaiting.mean.toFixed(1)} / max ${run.poolWaiting.max}, ` +
          `worker-side Postgres statements per stage ${statements.toFixed(2)}:`,
      );
      console.log(`    ${run.statementsPerStage.map(([kind, n]) => `${kind} ${n.toFixed(2)}`).join(', ')}`);
    }
    if (chains) {
      const p = (x: Percentiles) => `p50 ${ms(x.p50)}, p95 ${ms(x.p95)}, p99 ${ms(x.p99)}, max ${ms(x.max)}`;
      console.log(
        `  hop from Postgres timestamps, stages.started_at(N+1) − finished_at(N) (the finish statement included): ${p(chains.hops)}`,
      );
      console.log(`  the same from stage_runs (attempt 1): ${p(chains.runHops)}`);
      console.log(`  hop part 1, finished(N) → queued(N+1) (0 when N's finish statement queued N+1 itself): ${p(chains.toQueued)}`);
      console.log(`  hop part 2, queued(N+1) → started(N+1) (addBulk, pickup, claim): ${p(chains.queuedToStarted)}`);
      console.log('  (Postgres timestamps are timestamptz(3): each hop is ±1 ms.)');
      const t = chains.trace;
      console.log(`  the hops of the table and the targets, cut in-process at the worker's statements (${t.total.count} hops traced):`);
      console.log(`    finish(N) end → claim(N+1) start:                 ${p(t.total)}   (addBulk, agent pickup, job parse)`);
      if (t.conductorSql.count > 0) {
        console.log(`    of which went through the conductor (${t.conductorSql.count} hops):`);
        console.log(`    1. finish(N) → conductor's first statement:        ${p(t.toConductor)}   (requestAdvance + control-queue pickup)`);
        console.log(`    2. conductor's statements (read + apply plan):     ${p(t.conductorSql)}`);
        console.log(`    3. conductor's last statement → claim(N+1) start:  ${p(t.toClaim)}   (plan, addBulk, agent pickup, job parse)`);
      } else {
        console.log('    no hop went through the conductor: each finish statement released the next stage');
      }
      console.log(`    claim statement: ${p(t.claimSql)}; finish statement: ${p(t.finishSql)}`);
    }
  }
  const phases = [bare, bareChain, hand, handChain, independent, chains].filter((r) => r !== undefined);
  if (phases.length > 0) {
    console.log(`\nper phase, in the table's order: peak heapUsed ${phases.map((r) => mb(r.usage.heapUsed)).join(', ')}`);
    console.log(`  kernel share of this process's CPU ${phases.map((r) => pct(r.usage.cpuSystemMs / r.usage.cpuMs)).join(', ')}`);
  }
}

process.exitCode = await main();
// Open handles (ioredis reconnect timers, pg idle clients) must not keep a finished bench alive.
setTimeout(() => process.exit(process.exitCode ?? 0), 200).unref();
