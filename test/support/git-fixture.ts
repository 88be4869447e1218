// A small git repository for workspace tests, made with the git CLI in a temporary folder: `main`
// (a.txt "v2"), tag `v1` (a.txt "v1"), branch `feature` (adds b.txt), served as a bare repository.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
};

export interface GitFixture {
  /** Absolute path of the bare repository (a valid `input.repository.url`). */
  bare: string;
  /** The sha of the first commit (the one tagged v1). */
  firstSha: string;
}

/** Makes the fixture under `dir` (which must exist). */
export function makeGitFixture(dir: string): GitFixture {
  const src = join(dir, 'src');
  mkdirSync(src);
  const git = (...args: string[]) => execFileSync('git', args, { cwd: src, env: GIT_ENV, encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  writeFileSync(join(src, 'a.txt'), 'v1\n');
  git('add', '.');
  git('commit', '-qm', 'one');
  git('tag', 'v1');
  const firstSha = git('rev-parse', 'HEAD');
  git('checkout', '-qb', 'feature');
  writeFileSync(join(src, 'b.txt'), 'b\n');
  git('add', '.');
  git('commit', '-qm', 'feature');
  git('checkout', '-q', 'main');
  writeFileSync(join(src, 'a.txt'), 'v2\n');
  git('commit', '-qam', 'two');
  const bare = join(dir, 'repo.git');
  execFileSync('git', ['clone', '-q', '--bare', src, bare], { env: GIT_ENV });
  return { bare, firstSha };
}
