// When the filesystem holding WORKSPACE_ROOT counts as low on space: one rule for the API's
// readiness and detailed health, a worker's /health, and the CLI.

/** What the health answers say about the workspace disk. */
export interface WorkspaceDisk {
  /** WORKSPACE_ROOT, absolute. */
  path: string;
  /** Bytes an unprivileged process can still write there. */
  freeBytes: number;
  /** Size of the filesystem, in bytes. */
  totalBytes: number;
  /** freeBytes / totalBytes, to 4 decimals (0 for a filesystem of size 0). */
  freeRatio: number;
  /** WORKSPACE_DISK_MIN_FREE_MB in bytes. */
  minFreeBytes: number;
  /** False when freeBytes is below minFreeBytes. */
  ok: boolean;
}

const MB = 1024 * 1024;

/** The report for `path` from its filesystem's free and total bytes and WORKSPACE_DISK_MIN_FREE_MB (0: never low). */
export function assessWorkspaceDisk(path: string, freeBytes: number, totalBytes: number, minFreeMb: number): WorkspaceDisk {
  const minFreeBytes = minFreeMb * MB;
  return {
    path,
    freeBytes,
    totalBytes,
    freeRatio: totalBytes > 0 ? Math.round((freeBytes / totalBytes) * 10_000) / 10_000 : 0,
    minFreeBytes,
    ok: freeBytes >= minFreeBytes,
  };
}
