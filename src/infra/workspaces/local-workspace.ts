// An AgentWorkspace over a local folder: path checks by realpath, programs run with spawn (no
// shell), a minimal inherited environment, a timeout that kills the process group, and output
// kept to a cap while every line also goes to the stage log.
import { spawn } from 'node:child_process';
import { realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve as resolvePath, sep } from 'node:path';
import type { AgentWorkspace, StartedProcess, StartOptions, ToolOptions, ToolRun } from '../../agents/agent-workspace.js';
import { UnrecoverableStageError } from '../../domain/errors.js';
import { boundByDeadline } from '../../domain/stage-deadline.js';
import { startBackgroundProcess } from './background-process.js';
import { captureOutput, signalGroup } from './child-output.js';
import { acquireLock, locksFolder } from './workspace-lock.js';
import { recordProcessGroup } from './workspace-processes.js';

const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const DEFAULT_OUTPUT_CAP = 256 * 1024;
const KILL_GRACE_MS = 2000;
/** What a tool inherits from the worker's environment: enough to find programs, nothing secret. */
const INHERITED = ['PATH', 'HOME', 'LANG', 'TERM', 'TMPDIR'] as const;

export interface LocalWorkspaceOptions {
  /** The workspace folder; it must exist. */
  root: string;
  /** Receives every line of the stage log (tool output and `log`). */
  log?: (line: string) => void;
  /** Aborts running tools (the stage's signal). */
  signal?: AbortSignal;
  /** When the stage's timeoutMs runs out (epoch ms; null: none): bounds each program's timeout (stage-deadline.ts). */
  deadline?: number | null;
}

/** The realpath of the longest existing prefix of `path`, with the rest appended. */
async function realpathAsFarAsExists(path: string): Promise<string> {
  const rest: string[] = [];
  let current = path;
  for (;;) {
    try {
      return resolvePath(await realpath(current), ...rest);
    } catch {
      const parent = resolvePath(current, '..');
      if (parent === current) return path;
      rest.unshift(current.slice(parent.length + (parent.endsWith(sep) ? 0 : 1)));
      current = parent;
    }
  }
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

export async function createLocalWorkspace({
  root: given,
  log = () => undefined,
  signal,
  deadline,
}: LocalWorkspaceOptions): Promise<AgentWorkspace> {
  const root = await realpath(given);

  async function resolve(rel: string): Promise<string> {
    const path = await realpathAsFarAsExists(resolvePath(root, rel));
    if (!inside(root, path)) {
      throw new UnrecoverableStageError('WORKSPACE_PATH_ESCAPE', `path "${rel}" resolves outside the workspace`);
    }
    return path;
  }

  function run(command: string, args: readonly string[], options: ToolOptions = {}): Promise<ToolRun> {
    const { outputCapBytes = DEFAULT_OUTPUT_CAP, env = {}, stdin } = options;
    return resolve(options.cwd ?? '').then(
      (cwd) =>
        new Promise<ToolRun>((done, fail) => {
          signal?.throwIfAborted();
          // Counted from the start: a program that would outlast the stage is stopped by its own timeout first.
          const { timeoutMs, bounded: cutByDeadline } = boundByDeadline(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, deadline);
          const started = performance.now();
          const inherited = Object.fromEntries(INHERITED.flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : [])));
          const child = spawn(command, [...args], {
            cwd,
            env: { ...inherited, CI: 'true', ...env },
            stdio: ['pipe', 'pipe', 'pipe'],
            detached: true, // its own process group, so a timeout kills what it started too
          });
          // Recorded while it runs, so that a killed worker's program is found and killed later.
          const forget = child.pid ? recordProcessGroup(root, child.pid) : () => Promise.resolve();
          let timedOut = false;
          log(`$ ${[command, ...args].join(' ')}${cwd === root ? '' : `   (in ${relative(root, cwd)})`}`);
          const captured = captureOutput(child, outputCapBytes, log);
          const killGroup = (sig: NodeJS.Signals) => signalGroup(child, sig);
          const stop = () => {
            killGroup('SIGTERM');
            setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS).unref();
          };
          const timer = setTimeout(() => {
            timedOut = true;
            log(`(killed after ${timeoutMs} ms${cutByDeadline ? ", all that the stage's timeoutMs left" : ''})`);
            stop();
          }, timeoutMs);
          const onAbort = () => stop();
          signal?.addEventListener('abort', onAbort, { once: true });
          child.stdin.on('error', () => undefined); // a program that does not read stdin
          child.stdin.end(stdin ?? '');
          let spawnError: Error | undefined;
          child.on('error', (error) => {
            spawnError = error;
          });
          child.on('close', (exitCode, sig) => {
            // Settled once the record is gone, so nothing of it is left when the caller looks.
            const forgotten = forget();
            clearTimeout(timer);
            signal?.removeEventListener('abort', onAbort);
            captured.flush();
            if (spawnError) log(`(could not start ${command}: ${spawnError.message})`);
            if (signal?.aborted) return void forgotten.then(() => fail(signal.reason));
            const output = captured.text() + (spawnError ? `could not start ${command}: ${spawnError.message}\n` : '');
            log(`(exit ${spawnError ? 'error' : (exitCode ?? sig)}, ${Math.round(performance.now() - started)} ms)`);
            void forgotten.then(() =>
              done({
                command,
                args,
                cwd: relative(root, cwd),
                exitCode: spawnError ? null : exitCode,
                signal: sig,
                timedOut,
                timeoutMs,
                cutByDeadline,
                durationMs: Math.round(performance.now() - started),
                output,
                truncated: captured.truncated(),
              }),
            );
          });
        }),
    );
  }

  async function start(command: string, args: readonly string[], options: StartOptions = {}): Promise<StartedProcess> {
    const cwd = await resolve(options.cwd ?? '');
    const inherited = Object.fromEntries(INHERITED.flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : [])));
    const env = { ...inherited, CI: 'true', ...options.env };
    return startBackgroundProcess({ root, cwd, env, log, signal }, command, args, options);
  }

  async function exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    if (!/^[\w-]{1,64}$/.test(name)) throw new Error(`lock name "${name}" must be 1-64 letters, digits, - or _`);
    const release = await acquireLock(join(locksFolder(root), name), signal);
    try {
      return await fn();
    } finally {
      await release();
    }
  }

  return { root, resolve, run, start, log, exclusive };
}
