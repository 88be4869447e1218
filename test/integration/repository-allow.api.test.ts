// WORKSPACE_REPOSITORY_ALLOW over HTTP, as a submitter meets it: a pipeline whose
// `input.repository.url` is outside the list is refused at submission naming the field and the
// variable (nothing recorded, nothing cloned); one inside it is accepted, cloned and built on.
// Real Redis, Postgres, a worker and a local bare repository made with git.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { expect } from 'chai';
import { makeGitFixture, type GitFixture } from '../support/git-fixture.js';
import { startHarness, type Harness } from '../support/harness.js';
import { bearer, request, waitForPipeline, type Loose } from '../support/http.js';

const PIPELINES = '/api/v1/pipelines';

/** A one-stage pipeline reading `a.txt` from the workspace cloned from `url`, under a name no other test uses. */
const readmeOf = (url: string) => ({
  name: `repository-allow-${randomUUID()}`,
  input: { repository: { url } },
  stages: [{ key: 'read', agent: 'command', input: { command: 'cat', args: ['a.txt'] } }],
});

describe('repository allow-list over HTTP (integration)', () => {
  let h: Harness;
  let dir: string;
  let fixture: GitFixture;
  let submitter: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'repository-allow-'));
    fixture = makeGitFixture(dir);
    // Only this test's folder: the review's reproductions are elsewhere on the worker host.
    h = await startHarness({ env: { WORKSPACE_REPOSITORY_ALLOW: `${dir}/`, COMMAND_ALLOWED_PROGRAMS: 'cat' } });
    submitter = (await h.createKey('repository-submitter', ['submitter'])).key;
  });
  after(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a submitter's repository outside the list: 400 naming input.repository.url and WORKSPACE_REPOSITORY_ALLOW, nothing recorded", async () => {
    // Arrange: another local path, a file:// URL, an outside host, and the listed repository spelled with `..`.
    const urls = ['/etc', `file://${fixture.bare}`, 'https://github.com/evil/app.git', `${dir}/../${basename(dir)}/repo.git`];

    for (const url of urls) {
      const body = readmeOf(url);

      // Act
      const res = await request(h.baseUrl, 'POST', PIPELINES, body, bearer(submitter));

      // Assert
      expect(res.status, JSON.stringify(res.body)).to.equal(400);
      expect(res.body.error.code).to.equal('VALIDATION_FAILED');
      const detail = (res.body.error.details as Loose[]).find((d) => d.field === 'input.repository.url');
      expect(detail, JSON.stringify(res.body.error.details)).to.not.equal(undefined);
      expect(detail!.code).to.equal('repository_not_allowed');
      expect(detail!.message).to.include(url).and.to.include('WORKSPACE_REPOSITORY_ALLOW');
      const list = await request(h.baseUrl, 'GET', `${PIPELINES}?name=${encodeURIComponent(body.name)}`);
      expect(list.body.items).to.deep.equal([]);
    }
  });

  it("a submitter's repository inside the list: accepted, cloned, and its stage runs on the clone", async () => {
    const res = await request(h.baseUrl, 'POST', PIPELINES, readmeOf(fixture.bare), bearer(submitter));

    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    const done = await waitForPipeline(h.baseUrl, res.body.id);
    expect(done.status, JSON.stringify(done.stages)).to.equal('succeeded');
    expect(done.stages[0].output).to.include({ command: 'cat', exitCode: 0, output: 'v2\n' });
  });
});
