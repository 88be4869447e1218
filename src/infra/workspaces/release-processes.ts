// Starts release services for the deployment agent (ReleaseProcesses): spawned detached in their
// own process group (no shell) so they outlive the stage, with a minimal environment and their
// output appended to `<release>/.release.log` and its process group id in `<release>/.release.pid`;
// stop() ends the whole group.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { open, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { ReleaseProcess, ReleaseProcesses } from '../../agents/sdlc/release-processes.port.js';

/** What a release inherits from the worker's environment: enough to find programs, nothing secret. */
const INHERITED = ['PATH', 'HOME', 'LANG', 'TMPDIR'] as const;
export const RELEASE_LOG = '.release.log';
export const RELEASE_PID = '.release.pid';

export interface ReleaseProcessesOptions {
  /** How long stop() waits after SIGTERM before SIGKILL (default 5 s). */
  stopGraceMs?: number;
}

export function createReleaseProcesses({ stopGraceMs = 5000 }: ReleaseProcessesOptions = {}): ReleaseProcesses {
  async function start(
    cwd: string,
    command: string,
    args: readonly string[],
    env: Readonly<Record<string, string>>,
  ): Promise<ReleaseProcess> {
    const log = await open(join(cwd, RELEASE_LOG), 'a');
    const inherited = Object.fromEntries(INHERITED.flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : [])));
    const child = spawn(command, [...args], { cwd, env: { ...inherited, ...env }, stdio: ['ignore', log.fd, log.fd], detached: true });
    try {
      await Promise.race([once(child, 'spawn'), once(child, 'error').then(([error]) => Promise.reject(error as Error))]);
    } finally {
      await log.close(); // the child holds its own copy of the descriptor
    }
    const pid = child.pid!;
    // The process group, for an operator stopping a release by hand: kill -- -$(cat .release.pid).
    await writeFile(join(cwd, RELEASE_PID), `${pid}\n`);
    let exited = child.exitCode !== null || child.signalCode !== null;
    const gone = once(child, 'exit').then(() => {
      exited = true;
    });
    child.unref(); // the service must not keep the worker alive
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-pid, signal);
      } catch {
        // the group is gone already
      }
    };
    let stopping: Promise<void> | undefined;
    return {
      pid,
      stop() {
        stopping ??= (async () => {
          if (!exited) signalGroup('SIGTERM');
          const timer = new Promise<'late'>((done) => setTimeout(() => done('late'), stopGraceMs).unref());
          if ((await Promise.race([gone, timer])) === 'late') {
            signalGroup('SIGKILL');
            await gone;
          }
          // npm's children may linger a moment after npm itself: make sure none survive.
          signalGroup('SIGKILL');
        })();
        return stopping;
      },
    };
  }

  async function freePort(): Promise<number> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    await new Promise((done) => server.close(done));
    if (!address || typeof address === 'string') throw new Error('could not read the free port');
    return address.port;
  }

  return { start, freePort };
}
