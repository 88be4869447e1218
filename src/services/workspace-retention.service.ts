// The retention sweep: deletes this machine's workspaces of pipelines that finished longer than
// WORKSPACE_RETENTION ago (or that Postgres no longer has). Each worker process runs it on a
// timer, since each machine holds its own workspaces; running it twice at once is harmless.
import type { Logger } from '../domain/logger.js';
import type { WorkspaceProvider, WorkspaceRetentionStore } from './workspace.ports.js';

const DEFAULT_EVERY_MS = 5 * 60_000;

export interface WorkspaceSweepDeps {
  workspaces: Pick<WorkspaceProvider, 'list' | 'remove'>;
  store: WorkspaceRetentionStore;
  /** WORKSPACE_RETENTION in milliseconds. */
  retentionMs: number;
  logger: Logger;
  now?: () => Date;
}

/** One sweep; resolves with the pipeline ids whose workspaces it deleted. */
export async function sweepWorkspaces({
  workspaces,
  store,
  retentionMs,
  logger,
  now = () => new Date(),
}: WorkspaceSweepDeps): Promise<string[]> {
  const present = await workspaces.list();
  if (present.length === 0) return [];
  const expired = await store.expired(present, new Date(now().getTime() - retentionMs));
  const removed: string[] = [];
  for (const pipelineId of expired) {
    try {
      await workspaces.remove(pipelineId);
      removed.push(pipelineId);
    } catch (error) {
      logger.warn('workspace not deleted', { pipelineId, error: error instanceof Error ? error.message : String(error) });
    }
  }
  if (removed.length > 0) logger.info('expired workspaces deleted', { count: removed.length });
  return removed;
}

export interface WorkspaceSweeper {
  start(): void;
  /** Stops the timer and waits for a sweep in progress. */
  close(): Promise<void>;
}

/** Sweeps at start and every `everyMs` (default 5 minutes); a failed sweep is logged and tried again next time. */
export function createWorkspaceSweeper(deps: WorkspaceSweepDeps & { everyMs?: number }): WorkspaceSweeper {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let busy = false;
  const sweep = () => {
    if (busy) return; // a slow sweep is not overtaken by the next
    busy = true;
    running = sweepWorkspaces(deps)
      .catch((error: unknown) =>
        deps.logger.warn('workspace sweep failed', { error: error instanceof Error ? error.message : String(error) }),
      )
      .finally(() => {
        busy = false;
      });
  };
  return {
    start() {
      if (timer) return;
      sweep();
      timer = setInterval(sweep, deps.everyMs ?? DEFAULT_EVERY_MS).unref();
    },
    async close() {
      clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
