// Opening a pull request through the GitHub REST API (POST /repos/{owner}/{repo}/pulls), and
// finding owner/repo in a remote URL; used by the integration agent when a token is configured.
import { z } from 'zod';
import { DownstreamError } from '../../domain/errors.js';
import { postJson } from './json-request.client.js';

export const DEFAULT_GITHUB_API_URL = 'https://api.github.com';

/** The forge settings the integration agent's factory receives (the token is a secret from config). */
export interface GithubOptions {
  /** Default https://api.github.com; GitHub Enterprise: https://<host>/api/v3. */
  apiUrl?: string;
  token: string;
  /** Default 15 s per request. */
  timeoutMs?: number;
}

export interface GithubRepo {
  owner: string;
  repo: string;
}

const NAME = /^[A-Za-z0-9_.-]{1,100}$/;

/**
 * owner/repo of a GitHub remote (`https://github.com/o/r(.git)`, `git@github.com:o/r.git`,
 * `ssh://git@github.com/o/r.git`), or undefined when the URL is on another host. The host of a
 * GitHub Enterprise `apiUrl` counts as GitHub too.
 */
export function parseGithubRemote(remoteUrl: string, apiUrl = DEFAULT_GITHUB_API_URL): GithubRepo | undefined {
  const hosts = new Set(['github.com', new URL(apiUrl).hostname]);
  const scp = /^[\w.-]+@([\w.-]+):([^/]+)\/([^/]+?)(?:\.git)?\/?$/.exec(remoteUrl);
  let host: string;
  let parts: string[];
  if (scp) {
    host = scp[1]!;
    parts = [scp[2]!, scp[3]!];
  } else {
    try {
      const url = new URL(remoteUrl);
      host = url.hostname;
      parts = url.pathname
        .replace(/^\/+|\/+$/g, '')
        .replace(/\.git$/, '')
        .split('/');
    } catch {
      return undefined;
    }
  }
  const [owner, repo] = parts.slice(-2);
  if (!hosts.has(host) || !owner || !repo || !NAME.test(owner) || !NAME.test(repo)) return undefined;
  return { owner, repo };
}

const pullSchema = z.object({ number: z.number().int(), html_url: z.string() }).loose();

export interface PullRequestRequest extends GithubRepo {
  head: string;
  base: string;
  title: string;
  body: string;
  signal?: AbortSignal;
}

/** Opens the pull request; resolves with its number and web URL. */
export async function openPullRequest(options: GithubOptions, request: PullRequestRequest): Promise<{ number: number; url: string }> {
  const apiUrl = (options.apiUrl ?? DEFAULT_GITHUB_API_URL).replace(/\/+$/, '');
  const { owner, repo, head, base, title, body, signal } = request;
  const answer = await postJson({
    url: `${apiUrl}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/pulls`,
    body: { title, head, base, body },
    headers: {
      authorization: `Bearer ${options.token}`,
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
      'user-agent': 'agentic-sdlc',
    },
    timeoutMs: options.timeoutMs,
    signal,
    codes: { rejected: 'FORGE_REQUEST_REJECTED', unavailable: 'FORGE_UNAVAILABLE' },
    service: 'GitHub',
  });
  const pull = pullSchema.safeParse(answer);
  if (!pull.success) throw new DownstreamError('FORGE_UNAVAILABLE', 'GitHub answered without a pull request number and html_url');
  return { number: pull.data.number, url: pull.data.html_url };
}
