// The two HTTP servers of the bench's `http` phase, each in a child process of its own so that
// the load tool's CPU is never theirs: the platform's API as `npm run api` runs it
// (src/server.ts, no workers) and the bare endpoint (bench/http/bare-server.ts).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export interface ServerChild {
  name: string;
  pid: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** The last 64 KiB it wrote (stdout and stderr), for a failure's message. */
  output(): string;
  stop(): Promise<void>;
}

export interface ServerOptions {
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  /** Node's --cpu-prof into this folder (a profile is written when the server exits); absent: none. */
  cpuProfDir?: string;
}

/** A port free right now (the child binds it a moment later; good enough on a test machine). */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls `answers` until it is true; throws with the child's output when it exits first or the time is up. */
async function waitUntilAnswering(child: ServerChild, exited: Promise<unknown>, answers: () => Promise<boolean>, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  void exited.then(() => (gone = true));
  for (;;) {
    if (gone) throw new Error(`${child.name} exited before it answered:\n${child.output()}`);
    if (await answers().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${child.name} did not answer within ${timeoutMs / 1000} s:\n${child.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function startChild(name: string, entry: string, env: Record<string, string>, cpuProfDir: string | undefined) {
  const port = await freePort();
  const profile = cpuProfDir ? join(cpuProfDir, name) : undefined;
  if (profile) mkdirSync(profile, { recursive: true });
  const child = spawn(process.execPath, [...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []), '--import', 'tsx', entry], {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-65_536);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = once(child, 'exit');
  const handle: ServerChild = {
    name,
    pid: child.pid!,
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
  return { handle, exited };
}

/**
 * The platform's API (src/server.ts, what `npm run api` starts: no workers, so stages stay queued)
 * in the bench's schema and Redis prefix. Rate limits stay on, with budgets no run can spend, so
 * their Redis round trips are measured without a 429; no running limit, so admission control
 * takes no lock and reads no backlog count.
 */
export async function startPlatformServer(options: ServerOptions): Promise<ServerChild> {
  const { handle, exited } = await startChild(
    'platform',
    'src/server.ts',
    {
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      DATABASE_URL: options.databaseUrl,
      REDIS_URL: options.redisUrl,
      QUEUE_PREFIX: options.prefix,
      HOST: '127.0.0.1',
      RATE_LIMIT_PER_ADDRESS: '1000000000',
      RATE_LIMIT_PER_IDENTITY: '1000000000',
      RATE_LIMIT_SUBMIT: '1000000000',
      MAX_RUNNING_PIPELINES: '0',
      MAX_RUNNING_PIPELINES_PER_SUBMITTER: '0',
    },
    options.cpuProfDir,
  );
  const ready = async () => (await fetch(`${handle.url}/health/ready`, { signal: AbortSignal.timeout(2000) })).ok;
  await waitUntilAnswering(handle, exited, ready).catch(async (error: unknown) => {
    await handle.stop();
    throw error;
  });
  return handle;
}

/** The bare endpoint (bench/http/bare-server.ts): express.json + zod + one INSERT + one Queue.add. */
export async function startBareServer(options: ServerOptions): Promise<ServerChild> {
  const { handle, exited } = await startChild(
    'bare',
    'bench/http/bare-server.ts',
    { DATABASE_URL: options.databaseUrl, REDIS_URL: options.redisUrl, QUEUE_PREFIX: options.prefix },
    options.cpuProfDir,
  );
  // It has no probe: an empty body answers 400 once it listens.
  const listening = async () =>
    (
      await fetch(`${handle.url}/pipelines`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
        signal: AbortSignal.timeout(2000),
      })
    ).status === 400;
  await waitUntilAnswering(handle, exited, listening).catch(async (error: unknown) => {
    await handle.stop();
    throw error;
  });
  return handle;
}
