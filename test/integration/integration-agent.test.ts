// The real `integration` agent on real git repositories in temporary folders: commits on a branch
// and merges into the target, reports a real conflict with its file, and opens a pull request
// against a local stand-in of the GitHub REST API.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { MetricValue } from '../../src/agents/define-agent.js';
import { parseGithubRemote } from '../../src/agents/sdlc/github-pulls.client.js';
import { createIntegrationAgent } from '../../src/agents/sdlc/integration.agent.js';
import { createLocalWorkspace } from '../../src/infra/workspaces/local-workspace.js';
import { testRunContext } from '../support/agent-context.js';

const PIPELINE_ID = '0123456789abcdef-pipeline';

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@localhost', ...args], { cwd, encoding: 'utf8' }).trim();
}

/** A repository on `main` with one committed file. */
async function repository(dir: string): Promise<string> {
  git(dir, 'init', '--quiet', '--initial-branch=main');
  await writeFile(join(dir, 'greeting.txt'), 'hello\n');
  git(dir, 'add', '.');
  git(dir, 'commit', '--quiet', '-m', 'first');
  return dir;
}

describe('integration agent (real git)', () => {
  let dir: string;
  let metrics: Record<string, MetricValue>;
  const context = async (root: string) => {
    metrics = {};
    const workspace = await createLocalWorkspace({ root });
    return testRunContext({ pipelineId: PIPELINE_ID, workspace, reportMetrics: (m) => Object.assign(metrics, m) });
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sdlc-integration-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('commits the uncommitted changes on sdlc/<pipeline> and merges it into main with a merge commit', async () => {
    const repo = await repository(join(dir, '.'));
    await writeFile(join(repo, 'greeting.txt'), 'hello, world\n');
    await writeFile(join(repo, 'new-file.txt'), 'added by the pipeline\n');

    const output = (await createIntegrationAgent().execute({}, await context(repo))) as Record<string, unknown>;

    expect(output).to.include({ branch: 'sdlc/01234567', target: 'main', merged: true, conflicts: 0, pushed: false });
    expect(metrics).to.deep.equal({ conflicts: 0 });
    expect(git(repo, 'rev-parse', '--abbrev-ref', 'HEAD')).to.equal('main');
    expect(git(repo, 'log', '--first-parent', '--format=%s', 'main')).to.equal(
      ["Merge branch 'sdlc/01234567' into main", 'first'].join('\n'),
    );
    expect(git(repo, 'log', '-1', '--format=%s', 'main^2')).to.equal(`sdlc: changes of pipeline ${PIPELINE_ID}`); // --no-ff: two parents
    expect(output.mergeCommit).to.equal(git(repo, 'rev-parse', 'main'));
    expect(output.commit).to.equal(git(repo, 'rev-parse', 'sdlc/01234567'));
    expect(git(repo, 'log', '-1', '--format=%an <%ae>', 'sdlc/01234567')).to.equal('agentic-sdlc <agentic-sdlc@localhost>');
    expect(git(repo, 'status', '--porcelain')).to.equal('');
    expect(await readFile(join(repo, 'new-file.txt'), 'utf8')).to.equal('added by the pipeline\n');
  });

  it('pushes the merged target to origin when input.push is set', async () => {
    const origin = join(dir, 'origin.git');
    git(dir, 'init', '--quiet', '--bare', '--initial-branch=main', origin);
    const seed = await repository(await mkdtemp(join(dir, 'seed-')));
    git(seed, 'push', '--quiet', origin, 'main');
    const clone = join(dir, 'clone');
    git(dir, 'clone', '--quiet', origin, clone);
    await writeFile(join(clone, 'greeting.txt'), 'pushed\n');

    const output = await createIntegrationAgent().execute(
      { branch: 'feature/x', push: true, message: 'change the greeting' },
      await context(clone),
    );

    expect(output).to.include({ branch: 'feature/x', target: 'main', merged: true, pushed: true });
    expect(git(origin, 'log', '--first-parent', '--format=%s', 'main')).to.equal(
      ["Merge branch 'feature/x' into main", 'first'].join('\n'),
    );
    expect(git(origin, 'log', '-1', '--format=%s', 'main^2')).to.equal('change the greeting');
  });

  it('reports a real conflict with its file and leaves both branches as they were', async () => {
    const repo = await repository(dir);
    git(repo, 'checkout', '--quiet', '-b', 'sdlc/01234567');
    git(repo, 'checkout', '--quiet', 'main');
    await writeFile(join(repo, 'greeting.txt'), 'hello from main\n');
    git(repo, 'commit', '--quiet', '-am', 'main changes the line');
    const mainBefore = git(repo, 'rev-parse', 'main');
    git(repo, 'checkout', '--quiet', 'sdlc/01234567');
    await writeFile(join(repo, 'greeting.txt'), 'hello from the pipeline\n');

    const output = await createIntegrationAgent().execute({ target: 'main' }, await context(repo));

    expect(output).to.deep.include({ merged: false, mergeCommit: null, conflicts: 1, conflictFiles: ['greeting.txt'] });
    expect(metrics).to.deep.equal({ conflicts: 1 });
    expect(git(repo, 'rev-parse', 'main')).to.equal(mainBefore);
    expect(git(repo, 'rev-parse', '--abbrev-ref', 'HEAD')).to.equal('sdlc/01234567');
    expect(git(repo, 'status', '--porcelain')).to.equal('');
    expect(git(repo, 'log', '-1', '--format=%s')).to.equal(`sdlc: changes of pipeline ${PIPELINE_ID}`);
  });

  it('refuses a workspace that is not a git repository, unrecoverably', async () => {
    const error = await createIntegrationAgent()
      .execute({}, await context(dir))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).to.include({ name: 'UnrecoverableStageError', code: 'INTEGRATION_GIT_FAILED' });
  });

  describe('with a GitHub token: a pull request instead of a merge', () => {
    let server: Server;
    let apiUrl: string;
    let requests: { method?: string; url?: string; headers: IncomingHttpHeaders; body: unknown }[];
    let answer: { status: number; body: unknown };

    before(async () => {
      server = createServer((req, res) => {
        let text = '';
        req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        req.on('end', () => {
          requests.push({ method: req.method, url: req.url, headers: req.headers, body: JSON.parse(text) as unknown });
          res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
        });
      });
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
      await new Promise((done) => server.close(done));
    });
    beforeEach(() => {
      requests = [];
    });

    async function cloneWithChange(): Promise<{ origin: string; clone: string }> {
      const origin = join(dir, 'origin.git');
      git(dir, 'init', '--quiet', '--bare', '--initial-branch=main', origin);
      const seed = await repository(await mkdtemp(join(dir, 'seed-')));
      git(seed, 'push', '--quiet', origin, 'main');
      const clone = join(dir, 'clone');
      git(dir, 'clone', '--quiet', origin, clone);
      await writeFile(join(clone, 'greeting.txt'), 'via a pull request\n');
      return { origin, clone };
    }

    it('pushes the branch and POSTs /repos/{owner}/{repo}/pulls with the token, leaving the target alone', async () => {
      const { origin, clone } = await cloneWithChange();
      const mainBefore = git(origin, 'rev-parse', 'main');
      answer = { status: 201, body: { number: 7, html_url: 'https://github.com/acme/shop/pull/7' } };
      const agent = createIntegrationAgent({ github: { apiUrl, token: 'ghp_test_token' } });

      const output = await agent.execute(
        { github: { owner: 'acme', repo: 'shop' }, pullRequest: { title: 'Add greeting' } },
        await context(clone),
      );

      expect(output).to.deep.include({
        merged: false,
        pushed: true,
        conflicts: 0,
        pullRequest: { number: 7, url: 'https://github.com/acme/shop/pull/7' },
      });
      expect(metrics).to.deep.equal({ conflicts: 0, pullRequestNumber: 7 });
      expect(requests).to.have.length(1);
      expect(requests[0]).to.include({ method: 'POST', url: '/repos/acme/shop/pulls' });
      expect(requests[0]!.headers.authorization).to.equal('Bearer ghp_test_token');
      expect(requests[0]!.headers.accept).to.equal('application/vnd.github+json');
      expect(requests[0]!.body).to.deep.equal({
        title: 'Add greeting',
        head: 'sdlc/01234567',
        base: 'main',
        body: `Opened by agentic-sdlc for pipeline ${PIPELINE_ID}.`,
      });
      expect(git(origin, 'log', '-1', '--format=%s', 'sdlc/01234567')).to.equal(`sdlc: changes of pipeline ${PIPELINE_ID}`);
      expect(git(origin, 'rev-parse', 'main')).to.equal(mainBefore);
    });

    it('still opens the pull request when it would conflict, and reports the conflicting files for the gate', async () => {
      const { clone } = await cloneWithChange();
      git(clone, 'commit', '--quiet', '-am', 'main changes the line');
      git(clone, 'checkout', '--quiet', '-b', 'work', 'main~1');
      await writeFile(join(clone, 'greeting.txt'), 'the pipeline changes it too\n');
      answer = { status: 201, body: { number: 8, html_url: 'https://github.com/acme/shop/pull/8' } };
      const agent = createIntegrationAgent({ github: { apiUrl, token: 't' } });

      const output = await agent.execute({ github: { owner: 'acme', repo: 'shop' }, target: 'main' }, await context(clone));

      expect(output).to.deep.include({
        conflicts: 1,
        conflictFiles: ['greeting.txt'],
        pullRequest: { number: 8, url: 'https://github.com/acme/shop/pull/8' },
      });
      expect(metrics).to.include({ conflicts: 1 });
      expect(git(clone, 'status', '--porcelain')).to.equal('');
    });

    it("turns GitHub's 422 into an unrecoverable FORGE_REQUEST_REJECTED with the API's message", async () => {
      const { clone } = await cloneWithChange();
      answer = {
        status: 422,
        body: { message: 'Validation Failed', errors: [{ message: 'A pull request already exists for acme:sdlc/01234567.' }] },
      };
      const agent = createIntegrationAgent({ github: { apiUrl, token: 't' } });

      const error = await agent.execute({ github: { owner: 'acme', repo: 'shop' } }, await context(clone)).then(
        () => undefined,
        (e: unknown) => e,
      );

      expect(error).to.include({ name: 'UnrecoverableStageError', code: 'FORGE_REQUEST_REJECTED', retryable: false });
      expect((error as Error).message).to.contain('A pull request already exists');
    });

    it('turns a 5xx into a retryable DownstreamError FORGE_UNAVAILABLE', async () => {
      const { clone } = await cloneWithChange();
      answer = { status: 502, body: { message: 'Server Error' } };
      const agent = createIntegrationAgent({ github: { apiUrl, token: 't' } });

      const error = await agent.execute({ github: { owner: 'acme', repo: 'shop' } }, await context(clone)).then(
        () => undefined,
        (e: unknown) => e,
      );

      expect(error).to.include({ name: 'DownstreamError', code: 'FORGE_UNAVAILABLE', retryable: true, category: 'downstream' });
    });
  });

  it('parseGithubRemote reads owner/repo from https, scp-like and ssh URLs on GitHub hosts only', () => {
    expect(parseGithubRemote('https://github.com/acme/shop.git')).to.deep.equal({ owner: 'acme', repo: 'shop' });
    expect(parseGithubRemote('git@github.com:acme/shop.git')).to.deep.equal({ owner: 'acme', repo: 'shop' });
    expect(parseGithubRemote('ssh://git@github.com/acme/shop')).to.deep.equal({ owner: 'acme', repo: 'shop' });
    expect(parseGithubRemote('https://ghe.example/acme/shop.git', 'https://ghe.example/api/v3')).to.deep.equal({
      owner: 'acme',
      repo: 'shop',
    });
    expect(parseGithubRemote('https://gitlab.com/acme/shop.git')).to.equal(undefined);
    expect(parseGithubRemote('/srv/git/shop.git')).to.equal(undefined);
  });
});
