// `npx tsx bench/cold-calls.ts [--calls 3000]`
//
// What one small library call costs when the CPU caches are cold, as they are between two stages
// of a busy worker, against the same call in a tight loop. The call: zod's parse of a stage's
// retry policy (`retrySchema`, four fields), which toDispatched (src/infra/db/mappers.ts) runs once
// per released stage. Timed in the bench's platform phase, the same parse took 12–20 µs at the
// median; in a tight loop it takes about 0.5 µs. "Cold" here: 32 MB of memory is walked between
// two calls, which evicts the caches as a stage's other work (BullMQ, ioredis, pg, the runner)
// does. docs/performance.md ("Per stage against the hand-rolled job") explains why it matters.
import { retrySchema } from '../src/domain/pipeline-definition.js';

const at = process.argv.indexOf('--calls');
const calls = at >= 0 ? Number(process.argv[at + 1]) : 3000;
const policy = () => ({ attempts: 3, backoff: { type: 'exponential', delayMs: 1000, jitter: 0.5 } });

function percentilesOf(times: number[]): string {
  times.sort((a, b) => a - b);
  const q = (f: number) => times[Math.floor(f * (times.length - 1))]!.toFixed(1);
  return `p10 ${q(0.1)} µs, p50 ${q(0.5)} µs, p90 ${q(0.9)} µs`;
}

function timeCalls(between: () => void): number[] {
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    between();
    const value = policy();
    const started = performance.now();
    retrySchema.parse(value);
    times.push((performance.now() - started) * 1000);
  }
  return times;
}

const junk = new Float64Array(4_000_000);
const evict = () => {
  // One write per 64-byte line.
  for (let i = 0; i < junk.length; i += 8) junk[i]! += 1;
};

timeCalls(() => undefined); // warm-up: V8 compiles the parse and zod builds its fast path
console.log(`retrySchema.parse, ${calls} calls each`);
console.log(`  hot (back to back):        ${percentilesOf(timeCalls(() => undefined))}`);
console.log(`  cold (32 MB walked before): ${percentilesOf(timeCalls(evict))}`);
