// The local workspace provider: folders under the root named by pipeline id, path checks, a clone
// of `input.repository` (a real bare repository made with git) at a ref, made once per pipeline
// even when two stages ask at once, the worker's WORKSPACE_REPOSITORY_ALLOW check, and the
// retention sweep that deletes expired workspaces.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { isUnrecoverable } from '../../src/domain/errors.js';
import { createLocalWorkspaceProvider } from '../../src/infra/workspaces/local-workspace-provider.js';
import { workspacePath } from '../../src/infra/workspaces/workspace-paths.js';
import { sweepWorkspaces } from '../../src/services/workspace-retention.service.js';
import type { WorkspaceRequest } from '../../src/services/workspace.ports.js';
import { makeGitFixture, type GitFixture } from '../support/git-fixture.js';

/** WORKSPACE_REPOSITORY_ALLOW of the test profile: any repository, the local fixture included. */
const ANY = ['*'];

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

describe('local workspace provider (unit)', () => {
  let dir: string;
  let root: string;
  let fixture: GitFixture;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'workspace-provider-'));
    fixture = makeGitFixture(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => {
    root = join(dir, `root-${randomUUID().slice(0, 8)}`);
  });

  const request = (pipelineId: string, extra: Partial<WorkspaceRequest> = {}): WorkspaceRequest & { lines: string[] } => {
    const lines: string[] = [];
    return { pipelineId, log: (line) => lines.push(line), signal: new AbortController().signal, lines, ...extra };
  };

  describe('paths', () => {
    it('workspacePath: a name that is not a pipeline id is refused', async () => {
      mkdirSync(root);
      for (const name of ['../etc', 'x', '', `${randomUUID()}/..`, randomUUID().toUpperCase()]) {
        const error = await rejection(workspacePath(root, name));
        expect(error.message, name).to.match(/is not a pipeline id/);
      }
    });

    it('workspacePath: a workspace that is a link out of the root is refused', async () => {
      mkdirSync(root);
      const id = randomUUID();
      symlinkSync(dir, join(root, id));
      expect((await rejection(workspacePath(root, id))).message).to.match(/resolves outside/);
    });

    it('acquire: the workspace is <root>/<pipelineId>, created empty, and its paths stay inside', async () => {
      const id = randomUUID();
      const ws = await createLocalWorkspaceProvider({ root, repositoryAllow: ANY }).acquire(request(id));
      expect(ws.root.endsWith(join(id))).to.equal(true);
      expect(readdirSync(ws.root)).to.deep.equal([]);
      expect(await ws.resolve('src/x.ts')).to.equal(join(ws.root, 'src/x.ts'));
      expect((await rejection(ws.resolve('../other'))).code).to.equal('WORKSPACE_PATH_ESCAPE');
    });
  });

  describe('clone', () => {
    it('clones input.repository (a local bare repository) at its default branch, the git command in the log', async () => {
      const req = request(randomUUID(), { repository: { url: fixture.bare } });
      const ws = await createLocalWorkspaceProvider({ root, repositoryAllow: ANY }).acquire(req);
      expect(readFileSync(join(ws.root, 'a.txt'), 'utf8')).to.equal('v2\n');
      expect(req.lines.some((line) => line.startsWith('$ git') && line.includes(' clone -- '))).to.equal(true);
    });

    it('checks out the ref: a tag, a branch, a sha', async () => {
      const provider = createLocalWorkspaceProvider({ root, repositoryAllow: ANY });
      const tag = await provider.acquire(request(randomUUID(), { repository: { url: fixture.bare, ref: 'v1' } }));
      expect(readFileSync(join(tag.root, 'a.txt'), 'utf8')).to.equal('v1\n');
      const branch = await provider.acquire(request(randomUUID(), { repository: { url: `file://${fixture.bare}`, ref: 'feature' } }));
      expect(existsSync(join(branch.root, 'b.txt'))).to.equal(true);
      const sha = await provider.acquire(request(randomUUID(), { repository: { url: fixture.bare, ref: fixture.firstSha } }));
      expect(readFileSync(join(sha.root, 'a.txt'), 'utf8')).to.equal('v1\n');
      expect(existsSync(join(sha.root, 'b.txt'))).to.equal(false);
    });

    it('two stages acquiring at once: one clone, both get the same workspace', async () => {
      const provider = createLocalWorkspaceProvider({ root, repositoryAllow: ANY });
      const id = randomUUID();
      const first = request(id, { repository: { url: fixture.bare } });
      const second = request(id, { repository: { url: fixture.bare } });
      const [a, b] = await Promise.all([provider.acquire(first), provider.acquire(second)]);
      expect(a.root).to.equal(b.root);
      const clones = [...first.lines, ...second.lines].filter((line) => line.includes(' clone -- '));
      expect(clones).to.have.length(1);
      expect(readdirSync(root).filter((name) => name.startsWith('.clone-'))).to.deep.equal([]);
    });

    it('two processes (two providers) acquiring at once: one clone wins the rename, no temporary folder is left', async () => {
      const id = randomUUID();
      const [a, b] = await Promise.all([
        createLocalWorkspaceProvider({ root, repositoryAllow: ANY }).acquire(request(id, { repository: { url: fixture.bare } })),
        createLocalWorkspaceProvider({ root, repositoryAllow: ANY }).acquire(request(id, { repository: { url: fixture.bare } })),
      ]);
      expect(a.root).to.equal(b.root);
      expect(readFileSync(join(a.root, 'a.txt'), 'utf8')).to.equal('v2\n');
      expect(readdirSync(root)).to.deep.equal([id]);
    });

    it('a later stage reuses the workspace: what the first stage wrote is there, nothing is cloned again', async () => {
      const provider = createLocalWorkspaceProvider({ root, repositoryAllow: ANY });
      const id = randomUUID();
      const first = await provider.acquire(request(id, { repository: { url: fixture.bare } }));
      writeFileSync(join(first.root, 'made-by-stage-1.txt'), 'x');
      const later = request(id, { repository: { url: fixture.bare } });
      const again = await provider.acquire(later);
      expect(readFileSync(join(again.root, 'made-by-stage-1.txt'), 'utf8')).to.equal('x');
      expect(later.lines).to.deep.equal([]);
    });

    it('an unknown ref fails WORKSPACE_CLONE_FAILED at once (not retryable), saying why, with git’s message, leaving no folder behind', async () => {
      const id = randomUUID();
      const req = request(id, { repository: { url: fixture.bare, ref: 'no-such-branch' } });
      const error = await rejection(createLocalWorkspaceProvider({ root, repositoryAllow: ANY }).acquire(req));
      expect(error.code).to.equal('WORKSPACE_CLONE_FAILED');
      expect(error.message).to.match(
        /git checkout no-such-branch exited with \d+ \(not retried: ref no-such-branch is not a branch, tag or commit of /,
      );
      expect(error.message).to.match(/invalid reference|did not match/);
      expect(isUnrecoverable(error)).to.equal(true);
      expect(readdirSync(root)).to.deep.equal([]);
    });

    it('a repository that does not exist fails WORKSPACE_CLONE_FAILED at once, saying so', async () => {
      const req = request(randomUUID(), { repository: { url: join(dir, 'missing.git') } });
      const error = await rejection(createLocalWorkspaceProvider({ root, repositoryAllow: ANY }).acquire(req));
      expect(error.code).to.equal('WORKSPACE_CLONE_FAILED');
      expect(error.message).to.match(
        /git clone of .*missing\.git exited with 128 \(not retried: the repository .*missing\.git does not exist/,
      );
      expect(isUnrecoverable(error)).to.equal(true);
    });

    describe('over HTTP', () => {
      let server: Server;
      let origin: string;
      before(async () => {
        // 401 asks for credentials (the worker has none to give), 404 is a missing repository, 503 a server that may recover.
        server = createServer((req, res) => {
          const status = req.url!.startsWith('/private/') ? 401 : req.url!.startsWith('/gone/') ? 404 : 503;
          res.writeHead(status, status === 401 ? { 'www-authenticate': 'Basic realm="git"' } : {}).end();
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      });
      after(() => new Promise<void>((resolve) => server.close(() => resolve())));

      const cloneFrom = (url: string) =>
        rejection(createLocalWorkspaceProvider({ root, repositoryAllow: ANY }).acquire(request(randomUUID(), { repository: { url } })));

      it('refused credentials fail at once, saying the worker needs access', async () => {
        const error = await cloneFrom(`${origin}/private/app.git`);
        expect(error.code).to.equal('WORKSPACE_CLONE_FAILED');
        expect(error.message).to.include(`(not retried: ${origin}/private/app.git refused this worker's credentials`);
        expect(error.message).to.include('Authentication failed');
        expect(isUnrecoverable(error)).to.equal(true);
      });

      it('a 404 fails at once as a repository that does not exist', async () => {
        const error = await cloneFrom(`${origin}/gone/app.git`);
        expect(error.message).to.include(`(not retried: the repository ${origin}/gone/app.git does not exist`);
        expect(isUnrecoverable(error)).to.equal(true);
      });

      it('a server error (503) stays retryable', async () => {
        const error = await cloneFrom(`${origin}/busy/app.git`);
        expect(error.code).to.equal('WORKSPACE_CLONE_FAILED');
        expect(error.message).to.not.include('not retried');
        expect(isUnrecoverable(error)).to.equal(false);
      });
    });
  });

  describe('WORKSPACE_REPOSITORY_ALLOW on the worker', () => {
    it("a repository outside the worker's list: REPOSITORY_NOT_ALLOWED (unrecoverable) naming the variable, nothing cloned", async () => {
      // Arrange: the API allowed it (any), this worker lists only another folder's repositories.
      const req = request(randomUUID(), { repository: { url: fixture.bare } });
      const provider = createLocalWorkspaceProvider({ root, repositoryAllow: [join(dir, 'elsewhere')] });

      // Act
      const error = await rejection(provider.acquire(req));

      // Assert
      expect(error.code).to.equal('REPOSITORY_NOT_ALLOWED');
      expect((error as unknown as { retryable: boolean }).retryable).to.equal(false);
      expect(error.message).to.include(fixture.bare).and.to.include('WORKSPACE_REPOSITORY_ALLOW');
      expect(req.lines.some((line) => line.includes(' clone '))).to.equal(false);
      expect(existsSync(root) ? readdirSync(root) : []).to.deep.equal([]);
    });

    it('an empty list refuses every repository; a pipeline without one still gets its empty workspace', async () => {
      const provider = createLocalWorkspaceProvider({ root, repositoryAllow: [] });
      const error = await rejection(provider.acquire(request(randomUUID(), { repository: { url: fixture.bare } })));
      expect(error.code).to.equal('REPOSITORY_NOT_ALLOWED');
      const ws = await provider.acquire(request(randomUUID()));
      expect(readdirSync(ws.root)).to.deep.equal([]);
    });

    it("a listed prefix is cloned; once delisted, the pipeline's existing workspace is refused to its later stages", async () => {
      const id = randomUUID();
      const listed = await createLocalWorkspaceProvider({ root, repositoryAllow: [dir] }).acquire(
        request(id, { repository: { url: fixture.bare } }),
      );
      expect(readFileSync(join(listed.root, 'a.txt'), 'utf8')).to.equal('v2\n');

      const delisted = createLocalWorkspaceProvider({ root, repositoryAllow: [join(dir, 'elsewhere')] });
      const error = await rejection(delisted.acquire(request(id, { repository: { url: fixture.bare } })));
      expect(error.code).to.equal('REPOSITORY_NOT_ALLOWED');
    });
  });

  describe('retention', () => {
    it('sweepWorkspaces deletes the expired workspaces (and leftover temporary clones), keeps the others', async () => {
      const provider = createLocalWorkspaceProvider({ root, repositoryAllow: ANY });
      const [old, gone, recent] = [randomUUID(), randomUUID(), randomUUID()];
      for (const id of [old, gone, recent]) await provider.acquire(request(id));
      mkdirSync(join(root, `.clone-${old}-deadbeef`));
      // A worker killed mid-clone whose stage then ran elsewhere: a temporary clone (with its
      // locks folder) and no workspace; and a locks folder alone. Gone from Postgres: removed too.
      const [cloneOnly, locksOnly, recentClone] = [randomUUID(), randomUUID(), randomUUID()];
      mkdirSync(join(root, `.clone-${cloneOnly}-cafe0001`, '.git'), { recursive: true });
      mkdirSync(join(root, `.clone-${cloneOnly}-cafe0001.locks`));
      mkdirSync(join(root, `${locksOnly}.locks`));
      mkdirSync(join(root, `.clone-${recentClone}-cafe0002`)); // a clone in progress for a running pipeline
      mkdirSync(join(root, 'not-a-workspace'));
      const now = new Date('2026-12-05T12:00:00Z');
      const finished = new Map<string, Date>([
        [old, new Date('2026-12-04T11:00:00Z')],
        [recent, new Date('2026-12-05T11:00:00Z')],
        [recentClone, new Date('2026-12-05T11:30:00Z')],
      ]);
      let askedBefore: Date | undefined;
      const store = {
        // Gone from Postgres, or finished before the cutoff.
        async expired(ids: readonly string[], before: Date) {
          askedBefore = before;
          return ids.filter((id) => !finished.has(id) || finished.get(id)! < before);
        },
      };

      const removed = await sweepWorkspaces({ workspaces: provider, store, retentionMs: 24 * 3_600_000, logger: silent, now: () => now });

      expect(askedBefore?.toISOString()).to.equal('2026-12-04T12:00:00.000Z');
      expect([...removed].sort()).to.deep.equal([old, gone, cloneOnly, locksOnly].sort());
      expect(readdirSync(root).sort()).to.deep.equal(['not-a-workspace', recent, `.clone-${recentClone}-cafe0002`].sort());
    });

    it('remove refuses a name that is not a pipeline id, and removes a link without touching its target', async () => {
      const provider = createLocalWorkspaceProvider({ root, repositoryAllow: ANY });
      await provider.acquire(request(randomUUID()));
      expect((await rejection(provider.remove('../x'))).message).to.match(/not a pipeline id/);
      const target = join(dir, 'link-target');
      mkdirSync(target);
      writeFileSync(join(target, 'keep.txt'), 'k');
      const linked = randomUUID();
      symlinkSync(target, join(root, linked));
      await provider.remove(linked);
      expect(existsSync(join(root, linked))).to.equal(false);
      expect(readFileSync(join(target, 'keep.txt'), 'utf8')).to.equal('k');
    });
  });
});
