// A lock between the stages of one workspace, across the worker processes of a machine: a folder
// created with mkdir (atomic), holding the holder's pid. A holder that died leaves its folder; the
// next taker sees the pid gone and takes the lock over. The locks live beside the workspace, not
// in it, so nothing of them is ever committed or released.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

const POLL_MS = 200;

/** The folder of a workspace's locks: `<workspace>.locks`, removed with the workspace. */
export const locksFolder = (workspaceRoot: string): string => `${workspaceRoot}.locks`;

/** True while the process `pid` exists (also one of another user's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Waits for the lock at `path` (or the signal), takes it, and returns its release. */
export async function acquireLock(path: string, signal?: AbortSignal): Promise<() => Promise<void>> {
  await mkdir(join(path, '..'), { recursive: true });
  for (;;) {
    signal?.throwIfAborted();
    try {
      await mkdir(path);
      break;
    } catch (error) {
      const { code } = error as NodeJS.ErrnoException;
      // ENOENT: the locks folder, empty, was just removed (workspace-processes.ts): make it again.
      if (code === 'ENOENT') {
        await mkdir(join(path, '..'), { recursive: true });
        continue;
      }
      if (code !== 'EEXIST') throw error;
    }
    // No pid yet: its holder is between mkdir and writeFile, so it is alive.
    const holder = Number(await readFile(join(path, 'pid'), 'utf8').catch(() => ''));
    if (holder > 0 && !processAlive(holder)) {
      await rm(path, { recursive: true, force: true });
      continue;
    }
    await delay(POLL_MS, undefined, signal ? { signal } : {});
  }
  await writeFile(join(path, 'pid'), String(process.pid));
  return () => rm(path, { recursive: true, force: true });
}
