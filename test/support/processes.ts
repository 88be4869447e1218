// Spawns real processes for tests: workers (src/worker.ts), which call no API and so need no API
// key, and any entry (main, server, demo) under tsx as the npm scripts run it; NODE_ENV=test
// unless the test names another profile.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Config } from '../../src/config.js';
import { childEnv } from './test-redis.js';

export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function spawnWorker(config: Config, args: string[] = [], env: Record<string, string> = {}): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts', ...args], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      DATABASE_URL: config.DATABASE_URL,
      REDIS_URL: config.REDIS_URL,
      REDIS_CLUSTER_NODES: config.REDIS_CLUSTER_NODES.join(','),
      QUEUE_PREFIX: config.QUEUE_PREFIX,
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return {
    child,
    output: () => output,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}

export interface Started {
  /** The process id (tsx runs in the process itself: this is the entry's process). */
  pid: number | undefined;
  output: () => string;
  exited: Promise<number | null>;
  stop: () => Promise<number | null>;
  /** Sends a signal (SIGINT: what Ctrl-C sends). */
  kill: (signal: NodeJS.Signals) => void;
}

/** Starts an entry under tsx, as the npm scripts do, from the platform's folder. */
export function startEntry(entry: string, env: Record<string, string>, args: string[] = [], timeoutMs = 90_000): Started {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    env: childEnv({
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      QUEUE_PREFIX: `{entry-${randomBytes(3).toString('hex')}}`,
      ...env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  void exited.then(() => clearTimeout(timer));
  return {
    pid: child.pid,
    output: () => output,
    exited,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
    kill: (signal) => void child.kill(signal),
  };
}

/** Resolves once the process printed `pattern`; throws with its output when it exits first or the time is up. */
export async function waitForOutput(started: Started, pattern: RegExp, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(started.output())) {
    const gone = await Promise.race([started.exited.then(() => true), new Promise((r) => setTimeout(r, 100)).then(() => false)]);
    if (gone || Date.now() > deadline) throw new Error(`no ${pattern} in:\n${started.output()}`);
  }
}
