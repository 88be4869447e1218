// `AgentWorkspace.start` for local workspaces: a program spawned (no shell) in its own process
// group and left running; `stop()` kills the whole group and waits for it, and the stage's signal
// or an optional timeout does the same, so nothing a stage started outlives it unnoticed.
import { spawn } from 'node:child_process';
import { relative } from 'node:path';
import type { StartedProcess, StartOptions, ToolRun } from '../../agents/agent-workspace.js';
import { captureOutput, signalGroup } from './child-output.js';
import { recordProcessGroup } from './workspace-processes.js';

const DEFAULT_OUTPUT_CAP = 256 * 1024;
const KILL_GRACE_MS = 2000;

export interface BackgroundContext {
  /** The workspace root (a realpath). */
  root: string;
  /** The working directory, already checked to be inside `root`. */
  cwd: string;
  /** The environment the child gets (the workspace's minimal one, with the caller's extras). */
  env: Record<string, string>;
  log: (line: string) => void;
  signal?: AbortSignal;
}

/** Starts `command` in the background; resolves once it runs, rejects when it cannot start. */
export function startBackgroundProcess(
  { root, cwd, env, log, signal }: BackgroundContext,
  command: string,
  args: readonly string[],
  { timeoutMs, outputCapBytes = DEFAULT_OUTPUT_CAP }: StartOptions = {},
): Promise<StartedProcess> {
  signal?.throwIfAborted();
  const started = performance.now();
  const child = spawn(command, [...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  // Recorded while it runs, so that a killed worker's service is found and killed later.
  const forget = child.pid ? recordProcessGroup(root, child.pid) : () => Promise.resolve();
  log(`$ ${[command, ...args].join(' ')} &${cwd === root ? '' : `   (in ${relative(root, cwd)})`}`);

  let timedOut = false;
  const output = captureOutput(child, outputCapBytes, log);

  const killGroup = (sig: NodeJS.Signals) => signalGroup(child, sig);
  let killTimer: NodeJS.Timeout | undefined;
  const requestStop = () => {
    if (killTimer) return;
    killGroup('SIGTERM');
    killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
    killTimer.unref();
  };
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          log(`(stopped after ${timeoutMs} ms)`);
          requestStop();
        }, timeoutMs);
  const onAbort = () => requestStop();
  signal?.addEventListener('abort', onAbort, { once: true });

  // 'close' waits for every holder of its stdout and stderr, so the children it started are gone too.
  let closed = false;
  const exited = new Promise<ToolRun>((done) => {
    child.on('close', (exitCode, sig) => {
      closed = true;
      clearTimeout(timer);
      clearTimeout(killTimer);
      signal?.removeEventListener('abort', onAbort);
      output.flush();
      const durationMs = Math.round(performance.now() - started);
      log(`(${command} exited ${exitCode ?? sig}, ${durationMs} ms)`);
      // Resolved once the record is gone, so nothing of it is left when the caller looks.
      void forget().then(() =>
        done({
          command,
          args,
          cwd: relative(root, cwd),
          exitCode,
          signal: sig,
          timedOut,
          timeoutMs: timeoutMs ?? null,
          cutByDeadline: false,
          durationMs,
          output: output.text(),
          truncated: output.truncated(),
        }),
      );
    });
  });

  return new Promise<StartedProcess>((resolveStarted, failStarted) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      log(`(could not start ${command}: ${error.message})`);
      failStarted(new Error(`could not start ${command}: ${error.message}`));
    });
    child.once('spawn', () => {
      let stopping: Promise<void> | undefined;
      resolveStarted({
        pid: child.pid!,
        exited,
        stop() {
          stopping ??= (async () => {
            // Also when the leader alone exited: what it left behind in its group goes too.
            if (!closed) requestStop();
            await exited;
          })();
          return stopping;
        },
      });
    });
  });
}
