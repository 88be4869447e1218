// The WORKSPACE_REPOSITORY_ALLOW rule: prefixes matched at a path boundary, `*` alone allowing any
// URL, an empty list refusing all, spellings that could make git fetch another place than the
// prefix says refused, the list's own checks, and the 400 detail submission builds from it.
import { expect } from 'chai';
import { repositoryAllowListProblem, repositoryAllowNotice, repositoryRefusal } from '../../src/domain/repository-allow.js';
import { repositoryProblems } from '../../src/domain/workspace-repository.js';
import { parseConfig } from '../../src/config.js';
import { VARIABLES } from '../../src/config/registry.js';
import { defaultFor } from '../../src/config/variable.js';

const ACME = ['https://github.com/acme/', 'git@github.com:acme/', 'ssh://git@git.example.com/team', '/srv/git'];
const allowed = (url: string, allow: readonly string[] = ACME) => repositoryRefusal(url, allow) === undefined;

describe('repository allow-list (unit)', () => {
  it('allows URLs under a listed prefix: https, scp-like ssh, ssh://, local path', () => {
    for (const url of [
      'https://github.com/acme/app',
      'https://github.com/acme/app.git',
      'git@github.com:acme/app.git',
      'ssh://git@git.example.com/team/app.git',
      'ssh://git@git.example.com/team',
      '/srv/git/app.git',
    ]) {
      expect(repositoryRefusal(url, ACME), url).to.equal(undefined);
    }
  });

  it('a prefix ends at a path boundary: a longer name or another host does not pass', () => {
    for (const url of [
      'https://github.com/acme-evil/app',
      'https://github.com/acmeco/app',
      'git@github.com:acme-evil/app.git',
      'ssh://git@git.example.com/teamevil/app',
      '/srv/gitevil/app',
      'https://github.com/evil/app',
      'https://gitlab.com/acme/app',
    ]) {
      expect(repositoryRefusal(url, ACME), url).to.include('does not start with any prefix of WORKSPACE_REPOSITORY_ALLOW');
    }
    expect(allowed('https://github.com.evil.example/acme/x', ['https://github.com'])).to.equal(false);
    expect(allowed('https://github.com/acme/x', ['https://github.com'])).to.equal(true);
  });

  it('an scp-like `host:` entry allows every path on that host, and only that host', () => {
    expect(allowed('git@github.com:anyone/app.git', ['git@github.com:'])).to.equal(true);
    expect(allowed('git@github.com.evil.example:anyone/app.git', ['git@github.com'])).to.equal(false);
  });

  it('refuses `.` and `..` segments, `//`, percent-encoding and backslashes, whatever the prefix', () => {
    for (const url of [
      'https://github.com/acme/../evil/app',
      'https://github.com/acme/./app',
      'https://github.com/acme/app/..',
      'git@github.com:acme/../evil/app',
      '/srv/git/../../home/worker/.ssh',
      'https://github.com/acme//app',
      'https://github.com/acme/%2e%2e/evil/app',
      'https://github.com/acme/..%2fevil',
      'https://github.com/acme/app\\..\\x',
    ]) {
      expect(allowed(url), url).to.equal(false);
    }
    expect(repositoryRefusal('https://github.com/acme/../evil', ACME)).to.include('`..`');
  });

  it('refuses an `@` past the listed prefix: a path the list meant cannot become a user and host', () => {
    expect(allowed('https://github.com/acme@evil.example/app', ['https://github.com/acme'])).to.equal(false);
    expect(allowed('https://github.com/acme@evil.example/app', ['https://github.com/'])).to.equal(false);
    expect(allowed('https://github.com@evil.example/acme/app', ['https://github.com'])).to.equal(false);
    expect(allowed('ssh://git@git.example.com/team/app', ACME)).to.equal(true);
  });

  it('is compared as written: another case of the host is not the listed prefix', () => {
    expect(allowed('https://GitHub.com/acme/app')).to.equal(false);
  });

  it('`*` allows any URL; an empty list refuses every one, saying the list is empty', () => {
    for (const url of ['file:///etc', '/home/worker', 'https://github.com/acme/../evil']) expect(allowed(url, ['*']), url).to.equal(true);
    expect(repositoryRefusal('https://github.com/acme/app', [])).to.include('WORKSPACE_REPOSITORY_ALLOW is empty');
  });

  it('the list itself: `*` only alone, entries without whitespace or ambiguous spellings', () => {
    expect(repositoryAllowListProblem(['*'])).to.equal(undefined);
    expect(repositoryAllowListProblem([])).to.equal(undefined);
    expect(repositoryAllowListProblem(ACME)).to.equal(undefined);
    expect(repositoryAllowListProblem(['*', 'https://github.com/acme/'])).to.include('alone');
    expect(repositoryAllowListProblem(['https://github.com/acme/../'])).to.include('`..`');
    expect(repositoryAllowListProblem(['https://github.com/%61cme/'])).to.include('percent-encoding');
  });

  it('config: `*` in development and test, empty in production, a bad entry names the variable', () => {
    const base = { DATABASE_URL: 'postgres://u:p@localhost/db', REDIS_URL: 'redis://localhost:6379' };
    expect(parseConfig({ ...base, NODE_ENV: 'development' }).WORKSPACE_REPOSITORY_ALLOW).to.deep.equal(['*']);
    expect(parseConfig({ ...base, NODE_ENV: 'test' }).WORKSPACE_REPOSITORY_ALLOW).to.deep.equal(['*']);
    const spec = VARIABLES.find((variable) => variable.name === 'WORKSPACE_REPOSITORY_ALLOW')!;
    expect(defaultFor(spec, 'production')).to.equal('');
    const listed = parseConfig({ ...base, NODE_ENV: 'test', WORKSPACE_REPOSITORY_ALLOW: 'https://github.com/acme/, git@github.com:acme/' });
    expect(listed.WORKSPACE_REPOSITORY_ALLOW).to.deep.equal(['https://github.com/acme/', 'git@github.com:acme/']);
    expect(() => parseConfig({ ...base, NODE_ENV: 'test', WORKSPACE_REPOSITORY_ALLOW: '*,/srv/git' })).to.throw(
      /WORKSPACE_REPOSITORY_ALLOW/,
    );
  });

  it('at submission: a URL the list refuses is one detail naming input.repository.url and the variable', () => {
    const input = { repository: { url: 'https://github.com/evil/app', ref: 'main' } };
    const problems = repositoryProblems(input, ACME);
    expect(problems).to.have.length(1);
    expect(problems[0]).to.include({ field: 'input.repository.url', code: 'repository_not_allowed' });
    expect(problems[0]!.message).to.include('WORKSPACE_REPOSITORY_ALLOW');
    expect(repositoryProblems({ repository: { url: 'https://github.com/acme/app' } }, ACME)).to.deep.equal([]);
    // Without a list (a template file's example) only the form is checked.
    expect(repositoryProblems(input)).to.deep.equal([]);
  });

  it("production's boot notice: the empty default said once (info), `*` warned about, a real list says nothing", () => {
    expect(repositoryAllowNotice([])).to.deep.include({ level: 'info' });
    expect(repositoryAllowNotice([])!.message).to.include('WORKSPACE_REPOSITORY_ALLOW is empty');
    expect(repositoryAllowNotice(['*'])).to.deep.include({ level: 'warn' });
    expect(repositoryAllowNotice(ACME)).to.equal(undefined);
  });
});
