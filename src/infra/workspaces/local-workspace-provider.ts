// Pipeline workspaces in folders under WORKSPACE_ROOT on this machine: created on a stage's first
// need, cloned from `input.repository` once per pipeline, reused by its later stages. A clone goes
// to a temporary folder and is renamed into place (atomic on one file system), so two stages
// starting at once, in one process or in two, never see a half-made clone; in one process the
// second waits for the first's clone instead of making its own.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentWorkspace, ToolRun } from '../../agents/agent-workspace.js';
import { describeEnding } from '../../domain/run-ending.js';
import { AgentError, UnrecoverableStageError } from '../../domain/errors.js';
import { repositoryRefusal } from '../../domain/repository-allow.js';
import type { RepositorySpec } from '../../domain/workspace-repository.js';
import type { WorkspaceProvider, WorkspaceRequest } from '../../services/workspace.ports.js';
import { createLocalWorkspace } from './local-workspace.js';
import { isPipelineId, prepareRoot, workspacePath } from './workspace-paths.js';
import { locksFolder } from './workspace-lock.js';
import { reapOrphanedProcessGroups } from './workspace-processes.js';

const CLONE_TIMEOUT_MS = 10 * 60_000;
/** git without prompts (no terminal), in English (its messages are read: HOPELESS), and without the `ext::` transport, which runs commands. */
const GIT_ENV = { GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true', GCM_INTERACTIVE: 'never', LC_ALL: 'C' };
const GIT_SAFETY = ['-c', 'protocol.ext.allow=never', '-c', 'advice.detachedHead=false'];
const TEMP_PREFIX = '.clone-';
/** What locksFolder() appends to a workspace's path. */
const LOCKS_SUFFIX = locksFolder('');

export interface LocalWorkspaceProviderOptions {
  /** WORKSPACE_ROOT (created when missing). */
  root: string;
  /** Longest a clone (or checkout) may take (default 10 minutes). */
  cloneTimeoutMs?: number;
  /** WORKSPACE_REPOSITORY_ALLOW as this worker reads it: the repositories it clones (`['*']`: any). */
  repositoryAllow: readonly string[];
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );

/**
 * What git says (LC_ALL=C) when another attempt cannot succeed: the repository is not there, the
 * server refused this worker's credentials, or the ref names nothing. A network failure, a timeout
 * or a server error (5xx) may pass, and is retried.
 */
const HOPELESS: readonly { pattern: RegExp; why: (repository: RepositorySpec) => string }[] = [
  {
    pattern: /repository '.*' (does not exist|not found)|Repository not found|does not appear to be a git repository|returned error: 404/i,
    why: ({ url }) => `the repository ${url} does not exist (or is hidden from this worker's user)`,
  },
  {
    pattern:
      /Authentication failed|could not read (Username|Password)|Permission denied \(|returned error: 40[13]|Host key verification failed/i,
    why: ({ url }) =>
      `${url} refused this worker's credentials: give the worker's user access (a credential helper, an SSH key and known_hosts entry)`,
  },
  {
    pattern: /invalid reference|did not match any file|unknown revision|not a commit/i,
    why: ({ url, ref }) => `ref ${ref} is not a branch, tag or commit of ${url}`,
  },
];

/** WORKSPACE_CLONE_FAILED: unrecoverable, saying why, when git's output shows retrying cannot help; else retryable. */
function cloneFailed(what: string, run: ToolRun, repository: RepositorySpec): AgentError {
  const tail = run.output.trim().split('\n').slice(-5).join('\n');
  const hopeless = run.timedOut ? undefined : HOPELESS.find(({ pattern }) => pattern.test(run.output));
  const message = `${what} ${describeEnding(run)}${hopeless ? ` (not retried: ${hopeless.why(repository)})` : ''}: ${tail}`;
  return hopeless ? new UnrecoverableStageError('WORKSPACE_CLONE_FAILED', message) : new AgentError('WORKSPACE_CLONE_FAILED', message);
}

export function createLocalWorkspaceProvider({
  root,
  cloneTimeoutMs = CLONE_TIMEOUT_MS,
  repositoryAllow,
}: LocalWorkspaceProviderOptions): WorkspaceProvider {
  let realRoot: Promise<string> | undefined;
  const rootPath = () =>
    (realRoot ??= prepareRoot(root).catch((error: unknown) => {
      realRoot = undefined;
      throw error;
    }));
  /** Preparations in progress in this process, by pipeline id. */
  const preparing = new Map<string, Promise<void>>();

  async function clone(base: string, dir: string, repository: RepositorySpec, request: WorkspaceRequest): Promise<void> {
    const temp = join(base, `${TEMP_PREFIX}${request.pipelineId}-${randomBytes(4).toString('hex')}`);
    await mkdir(temp);
    try {
      const git = await createLocalWorkspace({ root: temp, log: request.log, signal: request.signal, deadline: request.deadline });
      const options = { env: GIT_ENV, timeoutMs: cloneTimeoutMs };
      const cloned = await git.run('git', [...GIT_SAFETY, 'clone', '--', repository.url, '.'], options);
      if (cloned.exitCode !== 0) throw cloneFailed(`git clone of ${repository.url}`, cloned, repository);
      if (repository.ref) {
        const checkedOut = await git.run('git', [...GIT_SAFETY, 'checkout', '--quiet', repository.ref, '--'], options);
        if (checkedOut.exitCode !== 0) throw cloneFailed(`git checkout ${repository.ref}`, checkedOut, repository);
      }
      await rename(temp, dir).catch((error: NodeJS.ErrnoException) => {
        // Another process put its clone there first: theirs is as good as ours.
        if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
      });
    } finally {
      await rm(temp, { recursive: true, force: true });
      // The record of git's process group while it ran (workspace-processes.ts).
      await rm(locksFolder(temp), { recursive: true, force: true });
    }
  }

  async function prepare(base: string, dir: string, request: WorkspaceRequest): Promise<void> {
    if (await exists(dir)) return;
    if (!request.repository) {
      await mkdir(dir, { recursive: true });
      return;
    }
    await clone(base, dir, request.repository, request);
  }

  return {
    async acquire(request): Promise<AgentWorkspace> {
      // The API checked the list at submission; this worker's list decides what it clones (the
      // list may have changed since, or differ from the API's). Checked on reuse too, so a
      // pipeline cloned before its repository was delisted runs no further stage on it.
      const refusal = request.repository && repositoryRefusal(request.repository.url, repositoryAllow);
      if (refusal) throw new UnrecoverableStageError('REPOSITORY_NOT_ALLOWED', refusal);
      const base = await rootPath();
      const dir = await workspacePath(base, request.pipelineId);
      let ready = preparing.get(request.pipelineId);
      if (!ready) {
        ready = prepare(base, dir, request).finally(() => preparing.delete(request.pipelineId));
        preparing.set(request.pipelineId, ready);
      }
      await ready;
      // What a killed worker left running here (a hanging test) would run on beside this attempt.
      await reapOrphanedProcessGroups(dir, request.log);
      return createLocalWorkspace({ root: dir, log: request.log, signal: request.signal, deadline: request.deadline });
    },

    async list() {
      const names = await readdir(await rootPath()).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return [];
        throw error;
      });
      // A worker killed mid-clone leaves `.clone-<id>-<random>` (and its `.locks`) with no workspace
      // beside it when the stage then ran on another machine or the pipeline ended: listed by its
      // pipeline id too, so the sweep removes it once that pipeline expires.
      const ids = names.map((name) => {
        const base = name.endsWith(LOCKS_SUFFIX) ? name.slice(0, -LOCKS_SUFFIX.length) : name;
        return base.startsWith(TEMP_PREFIX) ? base.slice(TEMP_PREFIX.length, TEMP_PREFIX.length + 36) : base;
      });
      return [...new Set(ids.filter(isPipelineId))];
    },

    async remove(pipelineId) {
      if (!isPipelineId(pipelineId)) throw new Error(`workspace name "${pipelineId}" is not a pipeline id`);
      const base = await rootPath();
      await reapOrphanedProcessGroups(join(base, pipelineId));
      // rm does not follow links: a workspace that is a link loses the link, never its target.
      await rm(join(base, pipelineId), { recursive: true, force: true });
      await rm(locksFolder(join(base, pipelineId)), { recursive: true, force: true });
      // Temporary clones a killed worker left behind (with the records of their git processes).
      const leftovers = (await readdir(base)).filter((name) => name.startsWith(`${TEMP_PREFIX}${pipelineId}-`));
      for (const name of leftovers.filter((n) => !n.endsWith(LOCKS_SUFFIX))) await reapOrphanedProcessGroups(join(base, name));
      await Promise.all(leftovers.map((name) => rm(join(base, name), { recursive: true, force: true })));
    },
  };
}
