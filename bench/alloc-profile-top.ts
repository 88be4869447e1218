// `npx tsx bench/alloc-profile-top.ts alloc.heapprofile [--units N] [--top 30]`
//
// Bytes allocated in a sampling heap profile (bench/alloc-sampler.ts), by package
// (node_modules/<name>), our own code (src), node's internals, and by function; with `--units N`
// (the jobs or stages run in the window) also per unit. A function's bytes include those of the
// callees V8 inlined into it.
import { readFileSync } from 'node:fs';

interface AllocNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: AllocNode[];
}

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const file = args[0];
if (!file || file.startsWith('--')) throw new Error('usage: bench/alloc-profile-top.ts <file.heapprofile> [--units N] [--top 30]');
const units = Number(option('--units') ?? 0);
const top = Number(option('--top') ?? 30);
const { head } = JSON.parse(readFileSync(file, 'utf8')) as { head: AllocNode };

function owner(url: string): string {
  if (!url) return '(native)';
  const packages = url.match(/node_modules\/((@[^/]+\/)?[^/]+)/g);
  if (packages) return packages[packages.length - 1]!.replace('node_modules/', '');
  if (url.startsWith('node:')) return 'node internals';
  if (url.includes('/src/')) return 'src';
  return url.split('/').slice(-2).join('/');
}

const byOwner = new Map<string, number>();
const byFunction = new Map<string, number>();
const add = (map: Map<string, number>, key: string, bytes: number) => map.set(key, (map.get(key) ?? 0) + bytes);
const stack = [head];
while (stack.length > 0) {
  const node = stack.pop()!;
  const { url, functionName, lineNumber } = node.callFrame;
  add(byOwner, owner(url), node.selfSize);
  add(byFunction, `${owner(url)} ${functionName || '(anonymous)'} ${url.split('/').pop() ?? ''}:${lineNumber + 1}`, node.selfSize);
  stack.push(...node.children);
}

const total = [...byOwner.values()].reduce((sum, bytes) => sum + bytes, 0);
const row = (bytes: number) =>
  `${(bytes / 1e6).toFixed(1).padStart(8)} MB ${((100 * bytes) / total).toFixed(1).padStart(5)}%` +
  (units > 0 ? ` ${(bytes / units / 1024).toFixed(1).padStart(6)} KiB/unit` : '');
const print = (title: string, map: Map<string, number>, rows: number) => {
  console.log(`\n${title}`);
  for (const [key, bytes] of [...map].sort((a, b) => b[1] - a[1]).slice(0, rows)) console.log(`${row(bytes)}  ${key}`);
};
console.log(`allocated in the window: ${row(total)}`);
print('by package', byOwner, 20);
print('by function', byFunction, top);
