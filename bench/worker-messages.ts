// The IPC messages between the bench and its worker processes (bench/worker-process.ts), checked
// with zod on arrival at both ends: a child that sends something else is reported, not trusted.
import { z } from 'zod';

/** What a worker process runs: the platform's worker runtime, or a bare BullMQ worker of 5-job chains. */
export const WORKER_MODES = ['platform', 'bare'] as const;
export type WorkerMode = (typeof WORKER_MODES)[number];

/** The queue of the bare BullMQ baseline (under the bench's prefix). */
export const BARE_QUEUE = 'bare-load';
/** Jobs per bare chain: as many as the platform's pipelines have stages. */
export const BARE_CHAIN_LENGTH = 5;

/** A bare chain job: which chain, which step (1-based), and when the previous step's work ended. */
export const bareJobSchema = z.object({
  chain: z.number().int().nonnegative(),
  step: z.number().int().min(1),
  /** Wall-clock ms (performance.timeOrigin + performance.now()) at the previous step's end of work; absent on step 1. */
  prevEnd: z.number().optional(),
});
export type BareJob = z.infer<typeof bareJobSchema>;

const memoryFields = {
  rss: z.number().nonnegative(),
  heapUsed: z.number().nonnegative(),
  external: z.number().nonnegative(),
};

export const childMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), pid: z.number().int() }),
  /** Every SAMPLE_EVERY_MS: memory as it is (no GC), and the jobs this process finished so far. */
  z.object({
    type: z.literal('sample'),
    ...memoryFields,
    done: z.number().int().nonnegative(),
    /** CPU time (user + system) of the process since it started, in ms. */
    cpuMs: z.number().nonnegative(),
    /** Wall-clock ms of the latest finished job (0: none yet). */
    lastDoneAt: z.number().nonnegative(),
  }),
  /** The answer to `checkpoint`: memory right after a full GC. */
  z.object({ type: z.literal('checkpoint'), id: z.number().int(), ...memoryFields }),
  /** The answer to `hops`: the bare chains' hops this process saw (ms), then forgotten. */
  z.object({ type: z.literal('hops'), id: z.number().int(), values: z.array(z.number()) }),
  z.object({ type: z.literal('failed'), message: z.string() }),
]);
export type ChildMessage = z.infer<typeof childMessageSchema>;

export const parentMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('checkpoint'), id: z.number().int() }),
  z.object({ type: z.literal('hops'), id: z.number().int() }),
  z.object({ type: z.literal('stop') }),
]);
export type ParentMessage = z.infer<typeof parentMessageSchema>;

/** How often a child sends a `sample`: often enough for the load phase's in-flight window to follow the finishes. */
export const SAMPLE_EVERY_MS = 50;

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across the processes of one machine. */
export const wallClockMs = (): number => performance.timeOrigin + performance.now();
