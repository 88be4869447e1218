// Real api (src/server.ts) and worker (src/worker.ts) processes for chaos tests, started with
// tsx like `npm run api` / `npm run worker`, stopped or killed by their own PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { freePort, pollUntil } from './free-port.js';
import { onProcessExit } from './exit-cleanup.js';

const OUTPUT_KEEP = 200_000;

export interface PlatformProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  /** What the process printed (stdout and stderr, the last 200 kB). */
  output(): string;
  /** Still running (no exit, no death by signal). */
  alive(): boolean;
  /** Sends `signal` and resolves with the exit code (null when a signal ended it). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Resolves when the process has exited: its code and the signal that ended it. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `node --import tsx <entry> ...args` with the environment given (over process.env). */
export function spawnPlatformProcess(name: string, entry: string, args: string[], env: Record<string, string>): PlatformProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    // WORKER_METRICS_PORT 0: each worker's /metrics on a free port (two workers cannot share 9464).
    env: { ...process.env, LOG_LEVEL: 'warn', WORKER_METRICS_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > OUTPUT_KEEP * 2) output = output.slice(-OUTPUT_KEEP);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const removeExitHook = onProcessExit(() => child.kill('SIGKILL'));
  void exit.then(removeExitHook);
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    child,
    pid: child.pid ?? -1,
    output: () => output.slice(-OUTPUT_KEEP),
    alive,
    exited: () => exit,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (!alive()) return child.exitCode;
      const done = once(child, 'exit');
      child.kill(signal);
      await done;
      return child.exitCode;
    },
  };
}

export interface ApiProcess extends PlatformProcess {
  baseUrl: string;
}

/** Starts the API on a free port and waits until GET /health answers. */
export async function startApiProcess(env: Record<string, string>, timeoutMs = 60_000): Promise<ApiProcess> {
  const port = await freePort();
  const proc = spawnPlatformProcess('api', 'src/server.ts', [], { ...env, PORT: String(port), HOST: '127.0.0.1' });
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await pollUntil(
      'api /health',
      async () => {
        if (!proc.alive()) throw new Error('api exited');
        return (await fetch(`${baseUrl}/health`)).ok;
      },
      timeoutMs,
      100,
    );
  } catch (error) {
    await proc.stop('SIGKILL');
    throw new Error(`${(error as Error).message}\n${proc.output()}`, { cause: error });
  }
  return { ...proc, baseUrl };
}

/** Starts a worker process (src/worker.ts) with `args` (e.g. --concurrency 4). */
export function startWorkerProcess(name: string, env: Record<string, string>, args: string[] = []): PlatformProcess {
  return spawnPlatformProcess(name, 'src/worker.ts', args, env);
}
