// The process groups a workspace's programs run in, recorded beside the workspace while they run
// (`<workspace>.locks/.processes/<group id>`, holding the worker's pid). Programs run detached, in
// groups of their own, so a worker that is killed leaves them running: a hanging test would go on
// for ever, beside the run of the attempt that takes the stage over. Whoever opens or removes the
// workspace next kills the groups whose worker is gone.
import { mkdirSync, writeFileSync } from 'node:fs';
import { readdir, readFile, readlink, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { locksFolder, processAlive } from './workspace-lock.js';
import { isInside } from './workspace-paths.js';

// A dot, which a lock name cannot have (exclusive() takes letters, digits, - and _): no lock can collide with it.
/** Where the records of a workspace's process groups are: one file per group, holding its worker's pid. */
export const processesFolder = (workspaceRoot: string): string => join(locksFolder(workspaceRoot), '.processes');

/**
 * Records that this worker runs the process group `groupId` in the workspace, and returns the
 * function that forgets it (call it once the group has ended). Written synchronously right after
 * the spawn, so a kill a moment later still finds the record.
 */
export function recordProcessGroup(workspaceRoot: string, groupId: number): () => Promise<void> {
  const folder = processesFolder(workspaceRoot);
  const file = join(folder, String(groupId));
  // Twice: another run's forget() may remove the empty folders between mkdir and write.
  for (let tries = 0; tries < 2; tries++) {
    try {
      mkdirSync(folder, { recursive: true });
      writeFileSync(file, String(process.pid));
      break;
    } catch {
      // Best effort: without the record the group is only not reaped after a crash.
    }
  }
  return async () => {
    await rm(file, { force: true }).catch(() => undefined);
    // The folders go once empty (a lock or another record keeps them), so nothing is left beside
    // a workspace that only ran programs.
    for (const empty of [folder, locksFolder(workspaceRoot)]) await rmdir(empty).catch(() => undefined);
  };
}

/** True when the group's leader runs in the workspace, or has exited (a live group's id is never reused). */
async function groupOfWorkspace(workspaceRoot: string, groupId: number): Promise<boolean> {
  try {
    return isInside(workspaceRoot, await readlink(`/proc/${groupId}/cwd`));
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/**
 * Kills (SIGKILL) the recorded process groups of the workspace whose worker process is no longer
 * alive, and forgets them; resolves with the group ids killed. Groups of live workers are left alone.
 */
export async function reapOrphanedProcessGroups(workspaceRoot: string, log: (line: string) => void = () => undefined): Promise<number[]> {
  const folder = processesFolder(workspaceRoot);
  const names = await readdir(folder).catch(() => [] as string[]);
  const reaped: number[] = [];
  for (const name of names) {
    const groupId = Number(name);
    const holder = Number(await readFile(join(folder, name), 'utf8').catch(() => ''));
    if (!(groupId > 1) || (holder > 0 && processAlive(holder))) continue;
    if (await groupOfWorkspace(workspaceRoot, groupId)) {
      try {
        process.kill(-groupId, 'SIGKILL');
        reaped.push(groupId);
        log(`(killed process group ${groupId}, left running by worker process ${holder || 'unknown'}, which is gone)`);
      } catch {
        // already gone
      }
    }
    await rm(join(folder, name), { force: true });
  }
  return reaped;
}
