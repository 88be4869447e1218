// `npx tsx bench/cpu-profile-top.ts <file.cpuprofile | folder> [--top 30] [--filter text] [--from S] [--to S]`
// `npx tsx bench/cpu-profile-top.ts <file | folder> --seconds`: busy share of each second (to find a phase)
// `npx tsx bench/cpu-profile-top.ts <file | folder> --compare FROM:TO:UNITS FROM:TO:UNITS`: busy time per
// unit (µs per job or stage) of two phases of one run, by package or folder, side by side (rows under
// 0.5 µs in both left out)
//
// The functions with the most self time in a V8 CPU profile (`node --cpu-prof`), the same time
// grouped by package (node_modules/<name>), by our own folder (src/<folder>) or node's internals,
// and the functions with the most total time (self + callees): a first look at where a process
// spends its CPU without a profiler UI. With a folder, its newest main-thread profile is read.
// `--from S` leaves out the first S seconds (a server's start: module loading and compilation);
// `--to S` what follows second S (one phase of a bench run).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Node names profiles CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; thread 0 is the main thread (tsx's loader hooks run in another). */
const MAIN_THREAD = /\.\d+\.0\.\d+\.cpuprofile$/;

function newestProfile(path: string): string {
  if (!statSync(path).isDirectory()) return path;
  const files = readdirSync(path)
    .filter((f) => MAIN_THREAD.test(f))
    .map((f) => join(path, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (files.length === 0) throw new Error(`no main-thread .cpuprofile in ${path}`);
  return files[0]!;
}

/** Where a frame's code lives: a package, a folder of ours, node's internals, or V8's pseudo-frames. */
function groupOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return 'node internals';
  const src = url.indexOf('/src/');
  if (src >= 0) return `src/${url.slice(src + 5).split('/')[0]}`;
  const bench = url.indexOf('/bench/');
  return bench >= 0 ? 'bench' : url;
}

const value = (argv: readonly string[], name: string) => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 ? argv[at + 1] : undefined;
};

function main(argv: readonly string[]): void {
  const target = argv.find((a, i) => !a.startsWith('--') && !argv[i - 1]?.startsWith('--'));
  if (!target)
    throw new Error(
      'usage: bench/cpu-profile-top.ts <file.cpuprofile | folder> [--top 30] [--filter text] [--from S] [--to S] | --seconds | --compare FROM:TO:UNITS FROM:TO:UNITS',
    );
  const top = Number(value(argv, 'top') ?? 30);
  const filter = value(argv, 'filter');
  const file = newestProfile(target);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const isIdle = (id: number) => byId.get(id)?.callFrame.functionName === '(idle)';
  /** Calls `visit` for each sample: its node, the time it stands for, and its offset (µs from the start). */
  const eachSample = (visit: (id: number, delta: number, at: number) => void) => {
    let at = 0;
    profile.samples.forEach((id, i) => {
      const delta = profile.timeDeltas[i] ?? 0;
      at += delta;
      visit(id, delta, at);
    });
  };
  /** Self time per profile node between two offsets (µs from the profile's start). */
  const selfIn = (fromUs: number, toUs: number) => {
    const times = new Map<number, number>();
    eachSample((id, delta, at) => {
      if (at >= fromUs && at < toUs) times.set(id, (times.get(id) ?? 0) + delta);
    });
    return times;
  };
  /** Busy self time by package or folder, of the frames whose name `keep` accepts (default all). */
  const groupsOf = (times: ReadonlyMap<number, number>, keep: (id: number) => boolean = () => true) => {
    const groups = new Map<string, number>();
    for (const [id, time] of times) {
      if (isIdle(id) || !keep(id)) continue;
      const { functionName, url } = byId.get(id)!.callFrame;
      const group = groupOf(url, functionName);
      groups.set(group, (groups.get(group) ?? 0) + time);
    }
    return groups;
  };

  if (argv.includes('--seconds')) {
    const busyBySecond: number[] = [];
    eachSample((id, delta, at) => {
      const second = Math.floor(at / 1e6);
      busyBySecond[second] = (busyBySecond[second] ?? 0) + (isIdle(id) ? 0 : delta);
    });
    console.log(`${file}: busy share of each second`);
    console.log(Array.from(busyBySecond, (us, s) => `${s}:${Math.round((us ?? 0) / 1e4)}%`).join(' '));
    return;
  }

  const compareAt = argv.indexOf('--compare');
  if (compareAt >= 0) {
    const phases = [argv[compareAt + 1], argv[compareAt + 2]].map((spec) => {
      const [from, to, units] = (spec ?? '').split(':').map(Number);
      if (!(from! >= 0 && to! > from! && units! > 0)) throw new Error(`--compare wants FROM:TO:UNITS twice, got "${spec}"`);
      return { spec: spec!, units: units!, groups: groupsOf(selfIn(from! * 1e6, to! * 1e6)) };
    });
    const [a, b] = phases as [(typeof phases)[number], (typeof phases)[number]];
    const perUnit = (phase: typeof a, group: string) => (phase.groups.get(group) ?? 0) / phase.units;
    const names = [...new Set([...a.groups.keys(), ...b.groups.keys()])];
    const rows = names.map((g) => ({ g, a: perUnit(a, g), b: perUnit(b, g) })).sort((x, y) => y.b - y.a - (x.b - x.a));
    const sum = (pick: (r: (typeof rows)[number]) => number) => rows.reduce((t, r) => t + pick(r), 0);
    const us = (n: number) => n.toFixed(1).padStart(8);
    console.log(`${file}: busy µs per unit, ${a.spec} (A) against ${b.spec} (B), by package or folder, B − A first`);
    console.log(`${'A'.padStart(8)} ${'B'.padStart(8)} ${'B − A'.padStart(8)}`);
    for (const r of rows.filter((r) => Math.max(r.a, r.b) >= 0.5)) console.log(`${us(r.a)} ${us(r.b)} ${us(r.b - r.a)}  ${r.g}`);
    console.log(`${us(sum((r) => r.a))} ${us(sum((r) => r.b))} ${us(sum((r) => r.b - r.a))}  total`);
    return;
  }

  const self = selfIn(Number(value(argv, 'from') ?? 0) * 1e6, Number(value(argv, 'to') ?? Infinity) * 1e6);
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self].filter(([id]) => isIdle(id)).reduce((a, [, t]) => a + t, 0);
  const busy = total - idle;

  const nameOf = (node: ProfileNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const short = url.replace(/^.*node_modules\//, '').replace(/^.*\/(src|bench)\//, '$1/');
    return `${functionName || '(anonymous)'} ${short ? `${short}:${lineNumber + 1}` : ''}`.trim();
  };
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  // Total time: each sample counts once for every distinct function on its stack.
  const inclusive = new Map<string, number>();
  for (const [id, time] of self) {
    if (isIdle(id)) continue;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) seen.add(nameOf(byId.get(at)!));
    for (const name of seen) inclusive.set(name, (inclusive.get(name) ?? 0) + time);
  }

  const kept = (id: number) => !filter || nameOf(byId.get(id)!).includes(filter);
  const byFunction = new Map<string, number>();
  for (const [id, time] of self) {
    if (isIdle(id) || !kept(id)) continue;
    const name = nameOf(byId.get(id)!);
    byFunction.set(name, (byFunction.get(name) ?? 0) + time);
  }
  const byGroup = groupsOf(self, kept);
  const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
  const share = (us: number) => `${((us / busy) * 100).toFixed(1).padStart(5)}%`;
  console.log(
    `${file}: ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s profiled, ${(busy / 1e6).toFixed(1)} s busy (not idle)`,
  );
  console.log(`\nself time by package or folder (share of busy time)`);
  for (const [group, time] of [...byGroup].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms(time)} ${share(time)}  ${group}`);
  console.log(`\ntop ${top} functions by self time${filter ? ` matching "${filter}"` : ''}`);
  for (const [name, time] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms(time)} ${share(time)}  ${name}`);
  console.log(`\ntop ${top} functions by total time (self + callees)${filter ? ` matching "${filter}"` : ''}`);
  const totals = [...inclusive].filter(([name]) => !filter || name.includes(filter)).sort((a, b) => b[1] - a[1]);
  for (const [name, time] of totals.slice(0, top)) console.log(`${ms(time)} ${share(time)}  ${name}`);
}

main(process.argv.slice(2));
