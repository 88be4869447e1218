// A private redis-server for chaos tests: a child process on its own port that a test can
// SIGKILL, SIGSTOP, FLUSHALL and start again on the same port. The machine's shared Redis
// (6379) is never touched.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, pollUntil } from './free-port.js';
import { onProcessExit } from './exit-cleanup.js';

/** Runs `fn` on a fresh connection that fails fast (no retries, 1 s to connect) and is closed after. */
export async function withOneShotRedis<T>(url: string, fn: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}

export interface PrivateRedisOptions {
  /**
   * Keep the data across a kill and restart, as a production Redis does: AOF with an fsync per
   * write, in a temporary directory. Default false (`--save '' --appendonly no`: a restart
   * comes back empty).
   */
  persistent?: boolean;
}

export interface PrivateRedis {
  port: number;
  url: string;
  /** The running server's PID, or undefined while it is down. */
  pid(): number | undefined;
  /** Starts the server on its port (again) and waits until it answers PING. */
  start(): Promise<void>;
  /** Sends `signal` (default SIGKILL) and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** FLUSHALL through a short-lived client. */
  flushAll(): Promise<void>;
  /** Runs one command on a short-lived client. */
  command(name: string, ...args: (string | number)[]): Promise<unknown>;
  /** Kills the server and removes its directory. Idempotent. */
  close(): Promise<void>;
}

/** Starts a redis-server on a free port; call close() when done. */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'chaos-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--maxmemory-policy',
    'noeviction',
    ...(options.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
    '--daemonize',
    'no',
  ];
  let child: ChildProcess | undefined;
  let log = '';
  const removeExitHook = onProcessExit(() => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const withClient = <T>(fn: (redis: Redis) => Promise<T>): Promise<T> => withOneShotRedis(url, fn);

  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  const handle: PrivateRedis = {
    port,
    url,
    pid: () => (alive() ? child?.pid : undefined),
    async start() {
      if (alive()) return;
      child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000)));
      child.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000)));
      const started = child;
      await pollUntil(
        `redis-server on port ${port}\n${log}`,
        async () => {
          if (started.exitCode !== null) throw new Error(`redis-server exited: ${log}`);
          return (await withClient((r) => r.ping())) === 'PONG';
        },
        10_000,
        50,
      );
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (!alive() || !child) return;
      const exited = once(child, 'exit');
      child.kill(signal);
      await exited;
    },
    flushAll: () => withClient((r) => r.flushall()).then(() => undefined),
    command: (name, ...rest) => withClient((r) => r.call(name, ...rest)),
    async close() {
      await handle.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      removeExitHook();
    },
  };
  await handle.start();
  return handle;
}
