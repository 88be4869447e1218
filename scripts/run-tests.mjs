// Runs the mocha suite as two processes at once: most of the suite waits on Redis, Postgres and
// the processes it spawns, so two runs share the machine's two cores well (one after the other:
// about 19 minutes; side by side: about 14).
// Part "e2e" is the end-to-end files but the longest five; part "rest" is every other folder of
// the suite and those five (on 7 December 2026 the parts took 14.0 and 11.5 min with four: the
// fifth, sdlc-cli, about 75 s, evens them). The e2e part's output is shown as it comes; the other part's is kept
// and shown after it, so the two never interleave. Exits 1 if either part fails.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';

// The suite's folders have one home, .mocharc.cjs's default spec: read here with MOCHA_SPEC and
// MOCHA_IGNORE unset (each part sets its own for its process).
delete process.env.MOCHA_SPEC;
delete process.env.MOCHA_IGNORE;
const { spec: ALL } = createRequire(import.meta.url)('../.mocharc.cjs');
const E2E = 'test/e2e/**/*.test.ts';
if (!ALL.includes(E2E)) throw new Error(`.mocharc.cjs's spec no longer lists ${E2E}: update the parts below`);

const LONG_E2E = [
  'test/e2e/readme-examples.test.ts',
  'test/e2e/crash-recovery.test.ts',
  'test/e2e/leaks.test.ts',
  'test/e2e/fairness.test.ts',
  'test/e2e/sdlc-cli.test.ts',
];

const PARTS = [
  { name: 'e2e', spec: [E2E], ignore: LONG_E2E, live: true },
  { name: 'rest', spec: [...ALL.filter((glob) => glob !== E2E), ...LONG_E2E], ignore: [], live: false },
];

const mocha = join('node_modules', 'mocha', 'bin', 'mocha.js');
const children = new Set();

function runPart(part) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [mocha, ...process.argv.slice(2)], {
      env: { ...process.env, MOCHA_SPEC: part.spec.join(','), MOCHA_IGNORE: part.ignore.join(',') },
      stdio: part.live ? 'inherit' : ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    const kept = [];
    child.stdout?.on('data', (chunk) => kept.push(chunk));
    child.stderr?.on('data', (chunk) => kept.push(chunk));
    child.on('close', (code, signal) => {
      children.delete(child);
      const minutes = ((Date.now() - started) / 60_000).toFixed(1);
      resolve({ part, ok: code === 0, code: code ?? signal, minutes, output: Buffer.concat(kept) });
    });
  });
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of children) child.kill(signal);
  });
}

const started = Date.now();
console.log(`Running mocha in ${PARTS.length} parts at once: ${PARTS.map((p) => p.name).join(', ')}.`);
console.log('The "e2e" part is shown as it runs; the other after it.\n');
const results = await Promise.all(PARTS.map(runPart));
for (const { part, output } of results) {
  if (part.live) continue;
  console.log(`\n===== mocha part "${part.name}" =====`);
  process.stdout.write(output);
}

console.log(`\nmocha parts, ${((Date.now() - started) / 60_000).toFixed(1)} min in all:`);
for (const { part, ok, code, minutes } of results) {
  console.log(`  ${part.name}: ${ok ? 'passed' : `FAILED (exit ${code})`} in ${minutes} min`);
}
process.exit(results.every((result) => result.ok) ? 0 : 1);
