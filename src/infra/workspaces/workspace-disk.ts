// The free and total space of the filesystem that holds WORKSPACE_ROOT, read with statfs on each
// call (one system call: cheap enough for every probe and scrape). A root not created yet is
// measured on its nearest existing parent, the filesystem it will be created on.
import { statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { assessWorkspaceDisk, type WorkspaceDisk } from '../../domain/workspace-disk.js';

export interface WorkspaceDiskProbe {
  /** Rejects when no folder on the way up can be read (EACCES, say). */
  read(): Promise<WorkspaceDisk>;
}

export interface WorkspaceDiskProbeOptions {
  /** WORKSPACE_ROOT (relative: from the working directory). */
  root: string;
  /** WORKSPACE_DISK_MIN_FREE_MB. */
  minFreeMb: number;
}

async function statfsNearest(path: string) {
  for (let at = path; ; at = dirname(at)) {
    try {
      return await statfs(at);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(at) === at) throw error;
    }
  }
}

export function createWorkspaceDiskProbe({ root, minFreeMb }: WorkspaceDiskProbeOptions): WorkspaceDiskProbe {
  const path = resolve(root);
  return {
    async read() {
      const fs = await statfsNearest(path);
      // bavail, not bfree: the blocks reserved for root are not the worker's to use.
      return assessWorkspaceDisk(path, fs.bavail * fs.bsize, fs.blocks * fs.bsize, minFreeMb);
    },
  };
}

/** The probe of the variables WORKSPACE_ROOT and WORKSPACE_DISK_MIN_FREE_MB. */
export function workspaceDiskProbeFrom(config: { WORKSPACE_ROOT: string; WORKSPACE_DISK_MIN_FREE_MB: number }): WorkspaceDiskProbe {
  return createWorkspaceDiskProbe({ root: config.WORKSPACE_ROOT, minFreeMb: config.WORKSPACE_DISK_MIN_FREE_MB });
}
