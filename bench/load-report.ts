// What the load and soak phases print: a table per phase, the ratios to bare BullMQ, and the
// soak's verdict lines.
import { window, type LoadResult, type LoadRun } from './load.js';
import { familyChanges } from './redis-memory.js';
import { mb, ms, pct, perSecond } from './stats.js';
import { RSS_GROWTH_LIMIT, mib, soakVerdicts, type SoakResult } from './soak.js';

function table(header: readonly string[], body: ReadonlyArray<readonly string[]>, leftColumns = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i]!.length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i < leftColumns ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...body.map(line)].join('\n');
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const fmt = (n: number) => n.toLocaleString('en-US');
const signedMb = (bytes: number) => `${bytes >= 0 ? '+' : '−'}${(Math.abs(bytes) / 1024 / 1024).toFixed(2)} MB`;
const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');

function loadRow(run: LoadRun): string[] {
  const cpu = (run.workersCpuMs + run.bench.cpuMs + run.bench.postgresCpuMs + run.bench.redisCpuMs) / run.units;
  return [
    run.label,
    `${fmt(run.units)} (${run.share.map(fmt).join(' / ')})`,
    `${run.seconds.toFixed(1)} s`,
    perSecond(run.perSecond),
    ms(run.hops.p50),
    ms(run.hops.p95),
    ms(run.hops.p99),
    run.peakRss.map((b) => mib(b)).join(' / '),
    mb(run.bench.rss),
    `${cpu.toFixed(2)} ms (${(run.workersCpuMs / run.units).toFixed(2)}+${(run.bench.cpuMs / run.units).toFixed(2)}+${(run.bench.postgresCpuMs / run.units).toFixed(2)}+${(run.bench.redisCpuMs / run.units).toFixed(2)})`,
    Number.isFinite(run.bench.machineBusy) ? pct(run.bench.machineBusy) : 'n/a',
    `${mib(run.redis.before)} → ${mib(run.redis.peak)} → ${mib(run.redis.after)}`,
  ];
}

export function renderLoad(result: LoadResult): string {
  const { bare, platform } = result;
  const header = [
    `Load (${bare.peakRss.length} worker processes)`,
    'Jobs or stages (per process)',
    'Time',
    'Throughput',
    'Hop p50',
    'Hop p95',
    'Hop p99',
    'Peak RSS per worker (MiB)',
    'Bench process RSS',
    'CPU/unit (workers+bench+pg+redis)',
    'Machine CPU',
    'Redis used_memory MiB (before → peak → after)',
  ];
  const rssRatio = mean(platform.peakRss) / mean(bare.peakRss);
  const lines = [
    table(header, [loadRow(bare), loadRow(platform)]),
    `Submission: pipelines (chains) ${window(result.inFlight)}. Throughput: units / (first submission → last finish).`,
    'Hops: bare from performance.timeOrigin + now() across processes (job N+1 processor entry − job N end of work);',
    '  platform from Postgres, started_at(stage) − the latest finished_at of its dependencies (timestamptz(3): ±1 ms, and it includes the finish statement).',
    'Bench process: the submitter (bare: addBulk of the chain heads; platform: the API runtime calling PipelineService.submit()). CPU/unit: every worker process + the bench + all postgres + redis-server.',
    '',
    `platform / bare BullMQ throughput        ${pct(platform.perSecond / bare.perSecond).padStart(7)}`,
    `platform / bare BullMQ hop p50           ${(platform.hops.p50 / bare.hops.p50).toFixed(1).padStart(6)}×`,
    `platform / bare BullMQ hop p99           ${(platform.hops.p99 / bare.hops.p99).toFixed(1).padStart(6)}×`,
    `platform / bare BullMQ peak RSS/process  ${rssRatio.toFixed(2).padStart(6)}×   (mean of the ${platform.peakRss.length} peaks; max ${(Math.max(...platform.peakRss) / Math.max(...bare.peakRss)).toFixed(2)}×)`,
    `platform: ${fmt(platform.units / 5)} pipelines, ${platform.notSucceeded} not succeeded, ${platform.reruns} stage runs beyond one per stage, ` +
      `submission ended ${platform.submitSeconds?.toFixed(1)} s after the first submit()`,
  ];
  return lines.join('\n');
}

export function renderSoak(result: SoakResult): string {
  const v = soakVerdicts(result);
  const { baseline, rounds } = result;
  const end = rounds.at(-1) ?? baseline;
  const header = [
    'Soak process',
    'Stage runs',
    'RSS after GC: warm-up → each round (MiB)',
    'RSS growth',
    'Heap after GC: warm-up → end',
    'Peak RSS sampled: first → last round',
  ];
  const body = result.processes.map((p, i) => [
    `${p.label} (pid ${p.pid})`,
    fmt(result.share[i]!),
    [baseline, ...rounds].map((c) => mib(c.memory[i]!.rss)).join(' '),
    `${v.rssGrowth[i]! >= 0 ? '+' : ''}${pct(v.rssGrowth[i]!)}`,
    `${mb(baseline.memory[i]!.heapUsed)} → ${mb(end.memory[i]!.heapUsed)}`,
    `${mb(rounds[0]?.peakRss[i] ?? Number.NaN)} → ${mb(end.peakRss[i]!)}`,
  ]);
  const worst = v.rssGrowth.reduce((w, g, i) => (g > v.rssGrowth[w]! ? i : w), 0);
  const others = end.redis.usedMemory - end.redis.bytes - (baseline.redis.usedMemory - baseline.redis.bytes);
  const lines = [
    `Soak: ${fmt(result.pipelines)} pipelines = ${fmt(result.stages)} stages in ${rounds.length} rounds through ${result.processes.length} worker processes ` +
      `(after a warm-up of ${fmt(result.warmUpPipelines)} pipelines${result.warmUpShort ? ', which did NOT reach the retention caps' : ''}), ` +
      `${(result.stages / result.seconds).toFixed(0)} stages/s over the rounds; ${result.notSucceeded} not succeeded, ${result.reruns} reruns`,
    table(header, body),
    'RSS and heap "after GC": each process runs a full GC once the queues idle after the warm-up and after each round, then reports process.memoryUsage().',
    '',
    `RSS growth per process after warm-up < ${pct(RSS_GROWTH_LIMIT)}   ${verdict(v.rssPass)}   (largest ${pct(v.rssGrowth[worst]!)}, ${result.processes[worst]?.label})`,
    `Redis used_memory back to baseline (± ${mib(v.usedMemoryTolerance)} MiB)   ${verdict(v.usedMemoryPass)}   ` +
      `before ${fmt(baseline.redis.usedMemory)} B, after ${fmt(end.redis.usedMemory)} B (${signedMb(v.usedMemoryDelta)}); peak during the rounds ${mib(result.usedMemory.peak)} MiB`,
    `Bytes under the prefix back to baseline (± 5%)   ${verdict(v.prefixBytesPass)}   ` +
      `before ${fmt(baseline.redis.bytes)} B in ${fmt(baseline.redis.keys)} keys, after ${fmt(end.redis.bytes)} B in ${fmt(end.redis.keys)} keys (${signedMb(v.prefixBytesDelta)})`,
    `  used_memory is the whole server's: the rest of it (other clients of a shared Redis, connection buffers) moved by ${signedMb(others)}.`,
  ];
  const changed = familyChanges(baseline.redis, end.redis);
  lines.push(
    changed.length > 0
      ? `  key families without an expiry that changed (warm-up → end): ${changed.join('; ')}`
      : `  key families without an expiry: the same counts after the warm-up and at the end (${Object.keys(end.redis.families).length} families); keys with an expiry ${baseline.redis.expiring} → ${end.redis.expiring}`,
  );
  return lines.join('\n');
}
