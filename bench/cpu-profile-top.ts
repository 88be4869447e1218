// `npx tsx bench/cpu-profile-top.ts <file.cpuprofile | folder> [--top 30] [--filter text] [--from S] [--to S]`
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
  if (!target) throw new Error('usage: bench/cpu-profile-top.ts <file.cpuprofile | folder> [--top 30] [--filter text] [--from S] [--to S]');
  const top = Number(value(argv, 'top') ?? 30);
  const filter = value(argv, 'filter');
  const file = newestProfile(target);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const fromUs = Number(value(argv, 'from') ?? 0) * 1e6;
  const toUs = Number(value(argv, 'to') ?? Infinity) * 1e6;
  const self = new Map<number, number>();
  let at = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at >= fromUs && at < toUs) self.set(id, (self.get(id) ?? 0) + delta);
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, t]) => a + t, 0);
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
    if (byId.get(id)?.callFrame.functionName === '(idle)') continue;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) seen.add(nameOf(byId.get(at)!));
    for (const name of seen) inclusive.set(name, (inclusive.get(name) ?? 0) + time);
  }

  const byFunction = new Map<string, number>();
  const byGroup = new Map<string, number>();
  for (const [id, time] of self) {
    const { functionName, url } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') continue;
    const name = nameOf(byId.get(id)!);
    if (filter && !name.includes(filter)) continue;
    byFunction.set(name, (byFunction.get(name) ?? 0) + time);
    const group = groupOf(url, functionName);
    byGroup.set(group, (byGroup.get(group) ?? 0) + time);
  }
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
