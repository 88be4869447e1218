// The platform the demo talks to: the one already answering at the API's address, or `npm start`'s
// entry (src/main.ts: API, conductor and workers in one process) started as a child whose output
// goes to a log file, so the terminal shows the pipeline and not the platform's logs.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, openSync, readFileSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

export interface Platform {
  /** True when the demo started it (and so stops it). */
  started: boolean;
  stop(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

/**
 * Reuses the platform at `baseUrl` when it is ready, else starts src/main.ts under the same
 * loader as this process (tsx) and waits up to `timeoutMs` for /health/ready. `say` gets one
 * line for the person: which of the two it does (and where the log of a started one goes).
 * Throws with the end of its log when it exits or never gets ready.
 */
export async function ensurePlatform(
  baseUrl: string,
  logFile: string,
  say: (line: string) => void,
  timeoutMs = 180_000,
): Promise<Platform> {
  if (await answers(`${baseUrl}/health/ready`)) {
    say(`Using the platform already running at ${baseUrl}.`);
    return { started: false, stop: async () => undefined };
  }
  say(`Starting the platform (its log: ${logFile}) …`);
  mkdirSync(dirname(logFile), { recursive: true });
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [...process.execArgv, 'src/main.ts'], { stdio: ['ignore', fd, fd], env: process.env });
  } finally {
    closeSync(fd);
  }
  const exited = once(child, 'exit');
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + timeoutMs;
  while (!(await answers(`${baseUrl}/health/ready`))) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `the platform stopped while starting (exit ${child.exitCode ?? child.signalCode}); the end of ${logFile}:\n${tail(logFile)}`,
      );
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the platform was not ready at ${baseUrl} within ${timeoutMs / 1000} s; the end of ${logFile}:\n${tail(logFile)}`);
    }
    await delay(500);
  }
  return { started: true, stop };
}
