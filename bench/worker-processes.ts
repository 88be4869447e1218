// The bench's side of its worker processes: forks N of bench/worker-process.ts, keeps each one's
// latest sample and peak memory, asks for GC checkpoints and hops, and stops them (IPC `stop`,
// then SIGKILL by PID after a grace). Every group is tracked (open-resources.ts) until stopped,
// so the bench's cleanup after an error or Ctrl-C stops it too.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { track, untrack } from './open-resources.js';
import { childMessageSchema, type ChildMessage, type WorkerMode } from './worker-messages.js';

const ENTRY = fileURLToPath(new URL('./worker-process.ts', import.meta.url));
const OUTPUT_KEPT = 20_000;
const STOP_GRACE_MS = 30_000;

export interface Memory {
  rss: number;
  heapUsed: number;
  external: number;
}

export interface WorkerProcessHandle {
  pid: number;
  label: string;
  /** The latest sample: memory as it is, and the jobs finished so far. */
  latest: Memory & { done: number; cpuMs: number; lastDoneAt: number };
  /** The highest RSS and heap seen since the last resetPeaks(). */
  peak: { rss: number; heapUsed: number };
  /** The last part of the process's stdout and stderr. */
  output(): string;
}

export interface WorkerGroup {
  mode: WorkerMode;
  processes: readonly WorkerProcessHandle[];
  /** Jobs finished by every process, from their latest samples. */
  done(): number;
  /** Wall-clock ms of the latest finished job of any process. */
  lastDoneAt(): number;
  /** CPU time of every process since it started (ms), from their latest samples. */
  cpuMs(): number;
  resetPeaks(): void;
  /** Each process's memory right after a full GC, in `processes` order. */
  checkpoint(): Promise<Memory[]>;
  /** The bare chains' hops every process saw since the last call (ms). */
  hops(): Promise<number[]>;
  /** Throws, naming the process and its output, when one exited or reported a failure. */
  assertHealthy(): void;
  /** Idempotent; stops every process, killing the ones that do not stop within the grace. */
  stop(): Promise<void>;
}

interface Child {
  handle: WorkerProcessHandle;
  ready: boolean;
  process: ChildProcess;
  exited: Promise<unknown>;
  pending: Map<number, (message: ChildMessage) => void>;
}

function spawnChild(mode: WorkerMode, index: number, env: Record<string, string>, problems: string[], stopping: () => boolean): Child {
  const child = fork(ENTRY, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env, BENCH_WORKER_MODE: mode },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // Its own process group: a Ctrl-C reaches only the bench, which stops the workers in order.
    detached: true,
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-OUTPUT_KEPT);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const handle: WorkerProcessHandle = {
    pid: child.pid ?? -1,
    label: `${mode} #${index + 1}`,
    latest: { rss: 0, heapUsed: 0, external: 0, done: 0, cpuMs: 0, lastDoneAt: 0 },
    peak: { rss: 0, heapUsed: 0 },
    output: () => output,
  };
  const pending = new Map<number, (message: ChildMessage) => void>();
  const result: Child = { handle, ready: false, process: child, exited: Promise.resolve(), pending };
  child.on('message', (raw) => {
    const parsed = childMessageSchema.safeParse(raw);
    if (!parsed.success) {
      problems.push(`${handle.label} (pid ${handle.pid}) sent an unexpected message: ${parsed.error.message}`);
      return;
    }
    const message = parsed.data;
    if (message.type === 'ready') result.ready = true;
    else if (message.type === 'sample') {
      handle.latest = message;
      handle.peak.rss = Math.max(handle.peak.rss, message.rss);
      handle.peak.heapUsed = Math.max(handle.peak.heapUsed, message.heapUsed);
    } else if (message.type === 'failed') {
      problems.push(`${handle.label} (pid ${handle.pid}) failed: ${message.message}`);
    } else if (message.type === 'checkpoint' || message.type === 'hops') {
      pending.get(message.id)?.(message);
      pending.delete(message.id);
    }
  });
  result.exited = once(child, 'exit').then(([code, signal]) => {
    if (!stopping()) problems.push(`${handle.label} (pid ${handle.pid}) exited (code ${code}, signal ${signal})`);
  });
  return result;
}

/** Forks `count` worker processes and resolves once every one said it is ready. */
export async function startWorkerProcesses(options: {
  mode: WorkerMode;
  count: number;
  env: Record<string, string>;
  readyTimeoutMs?: number;
}): Promise<WorkerGroup> {
  const problems: string[] = [];
  let stopped: Promise<void> | undefined;
  const children = Array.from({ length: options.count }, (_, i) =>
    spawnChild(options.mode, i, options.env, problems, () => stopped !== undefined),
  );
  let nextId = 1;

  const describe = () => {
    const outputs = children.filter((c) => c.handle.output() !== '');
    return [problems.join('; '), ...outputs.map((c) => `--- ${c.handle.label} (pid ${c.handle.pid}) output:\n${c.handle.output()}`)].join(
      '\n',
    );
  };
  const assertHealthy = () => {
    if (problems.length > 0) throw new Error(`worker process trouble: ${describe()}`);
  };
  /** Sends a request to every child and waits for each answer, failing fast if a child is in trouble. */
  const ask = async (type: 'checkpoint' | 'hops', timeoutMs = 60_000): Promise<ChildMessage[]> =>
    Promise.all(
      children.map(
        (child) =>
          new Promise<ChildMessage>((resolve, reject) => {
            const id = nextId++;
            const deadline = Date.now() + timeoutMs;
            const timer = setInterval(() => {
              if (problems.length > 0 || Date.now() > deadline) {
                clearInterval(timer);
                child.pending.delete(id);
                reject(new Error(`no ${type} answer from ${child.handle.label}: ${describe()}`));
              }
            }, 100);
            child.pending.set(id, (message) => {
              clearInterval(timer);
              resolve(message);
            });
            child.process.send({ type, id });
          }),
      ),
    );

  const group: WorkerGroup = {
    mode: options.mode,
    processes: children.map((c) => c.handle),
    done: () => children.reduce((sum, c) => sum + c.handle.latest.done, 0),
    lastDoneAt: () => Math.max(...children.map((c) => c.handle.latest.lastDoneAt)),
    cpuMs: () => children.reduce((sum, c) => sum + c.handle.latest.cpuMs, 0),
    resetPeaks() {
      for (const { handle } of children) handle.peak = { rss: handle.latest.rss, heapUsed: handle.latest.heapUsed };
    },
    async checkpoint() {
      const answers = await ask('checkpoint');
      return answers.flatMap((m) => (m.type === 'checkpoint' ? [{ rss: m.rss, heapUsed: m.heapUsed, external: m.external }] : []));
    },
    async hops() {
      const answers = await ask('hops');
      return answers.flatMap((m) => (m.type === 'hops' ? m.values : []));
    },
    assertHealthy,
    stop() {
      stopped ??= (async () => {
        await Promise.all(
          children.map(async (child) => {
            if (child.process.exitCode !== null || child.process.signalCode !== null) return;
            if (child.process.connected) child.process.send({ type: 'stop' });
            else child.process.kill('SIGTERM');
            const timer = setTimeout(() => child.process.kill('SIGKILL'), STOP_GRACE_MS);
            await child.exited;
            clearTimeout(timer);
          }),
        );
        untrack(tracked);
      })();
      return stopped;
    },
  };
  const tracked = track({ close: () => group.stop() });

  const deadline = Date.now() + (options.readyTimeoutMs ?? 180_000);
  try {
    while (!children.every((c) => c.ready)) {
      assertHealthy();
      if (Date.now() > deadline)
        throw new Error(`worker processes not ready in time: ${children.filter((c) => c.ready).length}/${children.length}. ${describe()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (error) {
    await group.stop();
    throw error;
  }
  return group;
}
