// The real `integration` agent: commits the pipeline's changes in the workspace's repository on a
// branch and merges it into the target branch (conflicts are reported, not thrown, so the
// `conflicts == 0` gate is the failure); with a GitHub token it pushes the branch and opens a
// pull request instead. Git runs through ctx.workspace (argument arrays, no shell).
import { z } from 'zod';
import { DownstreamError, UnrecoverableStageError } from '../../domain/errors.js';
import { defineAgent, type Agent, type AgentWorkspace, type ToolRun } from '../define-agent.js';
import { DEFAULT_GITHUB_API_URL, openPullRequest, parseGithubRemote, type GithubOptions } from './github-pulls.client.js';

export interface IntegrationAgentOptions {
  /** With a token, the agent opens pull requests on GitHub remotes instead of merging. */
  github?: GithubOptions;
  /** The committer (default `agentic-sdlc <agentic-sdlc@localhost>`). */
  identity?: { name: string; email: string };
  /** Per git command (default 5 minutes). */
  gitTimeoutMs?: number;
}

// Refuses names git would read as options or that walk paths; git's own check-ref-format runs too.
const refName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/, 'letters, digits, . _ / - (not first)')
  .refine((name) => !name.includes('..') && !name.endsWith('.lock') && !name.endsWith('/'), 'not a valid branch name');
const ghName = z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/);

const inputSchema = z
  .object({
    /** The branch the changes are committed on (default `sdlc/<first 8 of the pipeline id>`). */
    branch: refName.optional(),
    /** The branch merged into (default: the branch checked out when the stage starts, else `main`). */
    target: refName.optional(),
    /** The commit message (default names the pipeline). */
    message: z.string().min(1).max(10_000).optional(),
    /** Push the target after merging (or the branch, for a pull request) when an `origin` exists. */
    push: z.boolean().default(false),
    /** The GitHub repository, when `origin`'s URL does not say it. */
    github: z.object({ owner: ghName, repo: ghName }).strict().optional(),
    /** Title and body of the pull request. */
    pullRequest: z
      .object({ title: z.string().min(1).max(256).optional(), body: z.string().max(60_000).optional() })
      .strict()
      .optional(),
  })
  .strict();

const outputSchema = z.object({
  summary: z.string(),
  branch: z.string(),
  target: z.string(),
  /** The commit of the pipeline's changes; null when there was nothing to commit. */
  commit: z.string().nullable(),
  merged: z.boolean(),
  mergeCommit: z.string().nullable(),
  conflicts: z.number().int(),
  conflictFiles: z.array(z.string()),
  pushed: z.boolean(),
  pullRequest: z.object({ number: z.number().int(), url: z.string() }).nullable(),
  metrics: z.object({ conflicts: z.number().int() }),
});

/** Runs git with the committer identity; `must` turns a non-zero exit into INTEGRATION_GIT_FAILED. */
function gitRunner(workspace: AgentWorkspace, identity: { name: string; email: string }, timeoutMs: number) {
  const base = ['-c', `user.name=${identity.name}`, '-c', `user.email=${identity.email}`, '-c', 'commit.gpgsign=false'];
  const run = (args: string[], env?: Record<string, string>): Promise<ToolRun> =>
    workspace.run('git', [...base, ...args], { timeoutMs, env: { GIT_TERMINAL_PROMPT: '0', ...env } });
  const must = async (args: string[]): Promise<string> => {
    const result = await run(args);
    if (result.exitCode !== 0) {
      throw new UnrecoverableStageError('INTEGRATION_GIT_FAILED', `git ${args.join(' ')} failed: ${result.output.trim().slice(-1000)}`);
    }
    return result.output.trim();
  };
  return { run, must };
}

const lines = (text: string) =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);

/** Credentials for an https remote through git's environment config, so the token is never in argv. */
function authEnv(remoteUrl: string, token: string | undefined): Record<string, string> {
  if (!token || !/^https:\/\//i.test(remoteUrl)) return {};
  const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
  return { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}` };
}

/** Creates the `integration` agent (version 2.0.0). */
export function createIntegrationAgent(options: IntegrationAgentOptions = {}): Agent {
  const identity = options.identity ?? { name: 'agentic-sdlc', email: 'agentic-sdlc@localhost' };
  const gitTimeoutMs = options.gitTimeoutMs ?? 5 * 60_000;
  return defineAgent({
    type: 'integration',
    version: '2.0.0',
    description: 'Commits the workspace changes on a branch and merges it into the target (or opens a GitHub pull request).',
    workspace: true,
    input: inputSchema,
    output: outputSchema,
    handler: async ({ input, workspace, pipelineId, reportMetrics, signal }) => {
      if (!workspace) throw new UnrecoverableStageError('INTEGRATION_GIT_FAILED', 'the integration agent needs the pipeline workspace');
      const git = gitRunner(workspace, identity, gitTimeoutMs);
      if ((await git.run(['rev-parse', '--is-inside-work-tree'])).exitCode !== 0) {
        throw new UnrecoverableStageError('INTEGRATION_GIT_FAILED', 'the workspace is not a git repository');
      }
      const head = await git.run(['symbolic-ref', '--quiet', '--short', 'HEAD']);
      const start = head.exitCode === 0 ? head.output.trim() : undefined;
      const branch = input.branch ?? `sdlc/${pipelineId.slice(0, 8)}`;
      const target = input.target ?? (start && start !== branch ? start : 'main');
      if (branch === target) throw new UnrecoverableStageError('INTEGRATION_GIT_FAILED', `branch and target are both "${branch}"`);
      await git.must(['check-ref-format', '--branch', branch]);

      // A retry finds the branch checked out already; -B otherwise (re)starts it at HEAD, carrying the changes.
      if (start !== branch) await git.must(['checkout', '-B', branch]);
      await git.must(['add', '--all']);
      let commit: string | null = null;
      if ((await git.run(['diff', '--cached', '--quiet'])).exitCode === 1) {
        // --no-verify: the validation stage ran the project's checks; hooks need tools the workspace may lack.
        await git.must(['commit', '--no-verify', '-m', input.message ?? `sdlc: changes of pipeline ${pipelineId}`]);
        commit = await git.must(['rev-parse', 'HEAD']);
      }
      const origin = await git.run(['remote', 'get-url', 'origin']);
      const remoteUrl = origin.exitCode === 0 ? origin.output.trim() : undefined;
      const push = async (ref: string, token?: string) => {
        const pushed = await git.run(['push', 'origin', `refs/heads/${ref}:refs/heads/${ref}`], authEnv(remoteUrl ?? '', token));
        if (pushed.exitCode !== 0)
          throw new DownstreamError('INTEGRATION_PUSH_FAILED', `git push origin ${ref} failed: ${pushed.output.trim().slice(-1000)}`);
      };
      const result = { branch, target, commit, pushed: false, pullRequest: null };

      const forge = options.github;
      const repo = forge
        ? (input.github ?? (remoteUrl ? parseGithubRemote(remoteUrl, forge.apiUrl ?? DEFAULT_GITHUB_API_URL) : undefined))
        : undefined;
      if (forge && repo) {
        if (!remoteUrl)
          throw new UnrecoverableStageError('INTEGRATION_GIT_FAILED', 'a pull request needs an origin remote to push the branch to');
        // A trial merge (no working tree touched) so the gate sees conflicts the pull request will have.
        const trial = await git.run(['merge-tree', '--write-tree', '--name-only', '--no-messages', target, branch]);
        if (trial.exitCode !== 0 && trial.exitCode !== 1) await git.must(['rev-parse', '--verify', `${target}^{commit}`]);
        const conflictFiles = trial.exitCode === 1 ? lines(trial.output).slice(1) : [];
        await push(branch, forge.token);
        const pullRequest = await openPullRequest(forge, {
          ...repo,
          head: branch,
          base: target,
          title: input.pullRequest?.title ?? input.message?.split('\n')[0] ?? `sdlc: changes of pipeline ${pipelineId}`,
          body: input.pullRequest?.body ?? `Opened by agentic-sdlc for pipeline ${pipelineId}.`,
          signal,
        });
        reportMetrics({ conflicts: conflictFiles.length, pullRequestNumber: pullRequest.number });
        return {
          ...result,
          summary: `opened pull request #${pullRequest.number} (${branch} → ${target})`,
          merged: false,
          mergeCommit: null,
          conflicts: conflictFiles.length,
          conflictFiles,
          pushed: true,
          pullRequest,
          metrics: { conflicts: conflictFiles.length },
        };
      }

      await git.must(['checkout', target]);
      const merge = await git.run(['merge', '--no-ff', '--no-verify', '-m', `Merge branch '${branch}' into ${target}`, branch]);
      if (merge.exitCode !== 0) {
        const conflictFiles = lines((await git.run(['diff', '--name-only', '--diff-filter=U'])).output);
        await git.run(['merge', '--abort']);
        if (conflictFiles.length === 0) {
          throw new UnrecoverableStageError('INTEGRATION_GIT_FAILED', `git merge ${branch} failed: ${merge.output.trim().slice(-1000)}`);
        }
        // Leave the pipeline's work checked out for whoever resolves the conflict.
        await git.must(['checkout', branch]);
        reportMetrics({ conflicts: conflictFiles.length });
        return {
          ...result,
          summary: `merging ${branch} into ${target} conflicts in ${conflictFiles.length} file(s)`,
          merged: false,
          mergeCommit: null,
          conflicts: conflictFiles.length,
          conflictFiles,
          metrics: { conflicts: conflictFiles.length },
        };
      }
      const mergeCommit = await git.must(['rev-parse', 'HEAD']);
      let pushed = false;
      if (input.push && remoteUrl) {
        await push(target, forge?.token);
        pushed = true;
      }
      reportMetrics({ conflicts: 0 });
      return {
        ...result,
        summary: `merged ${branch} into ${target}${pushed ? ' and pushed it' : ''}`,
        merged: true,
        mergeCommit,
        conflicts: 0,
        conflictFiles: [],
        pushed,
        metrics: { conflicts: 0 },
      };
    },
  });
}
