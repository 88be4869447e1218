// The command agent's program allow-list over HTTP, as a submitter meets it: a program outside
// COMMAND_ALLOWED_PROGRAMS is refused at submission naming the field and the variable (nothing is
// recorded, nothing runs), a listed one runs in the workspace. Real Redis, Postgres and a worker.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness.js';
import { bearer, request, waitForPipeline, type Loose } from '../support/http.js';

const PIPELINES = '/api/v1/pipelines';

/** A one-stage pipeline running `command`, under a name no other test uses. */
const commandStage = (command: string, args: string[]) => ({
  name: `command-allow-list-${randomUUID()}`,
  stages: [{ key: 'c', agent: 'command', input: { command, args } }],
});

describe('command agent allow-list over HTTP (integration)', () => {
  let h: Harness;
  let submitter: string;
  before(async () => {
    h = await startHarness({ env: { COMMAND_ALLOWED_PROGRAMS: 'echo' } });
    submitter = (await h.createKey('command-submitter', ['submitter'])).key;
  });
  after(async () => {
    await h?.close();
  });

  it("a submitter's stage running an unlisted program: 400 naming stages[0].input.command and COMMAND_ALLOWED_PROGRAMS, nothing recorded", async () => {
    // Arrange: the review's two reproductions, a shell and a file read.
    const attempts = [commandStage('sh', ['-c', 'id']), commandStage('cat', ['.agentic-sdlc/admin-key'])];

    for (const body of attempts) {
      // Act
      const res = await request(h.baseUrl, 'POST', PIPELINES, body, bearer(submitter));

      // Assert
      expect(res.status, JSON.stringify(res.body)).to.equal(400);
      expect(res.body.error.code).to.equal('VALIDATION_FAILED');
      const detail = (res.body.error.details as Loose[]).find((d) => d.field === 'stages[0].input.command');
      expect(detail, JSON.stringify(res.body.error.details)).to.not.equal(undefined);
      expect(detail!.message).to.include(body.stages[0]!.input.command).and.to.include('COMMAND_ALLOWED_PROGRAMS');
      const list = await request(h.baseUrl, 'GET', `${PIPELINES}?name=${encodeURIComponent(body.name)}`);
      expect(list.body.items).to.deep.equal([]);
    }
  });

  it("a submitter's stage running a listed program: accepted, run in the workspace, its output kept", async () => {
    const res = await request(h.baseUrl, 'POST', PIPELINES, commandStage('echo', ['$HOME; id']), bearer(submitter));

    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    const done = await waitForPipeline(h.baseUrl, res.body.id);
    expect(done.status, JSON.stringify(done.stages)).to.equal('succeeded');
    expect(done.stages[0].output).to.include({ command: 'echo', exitCode: 0, output: '$HOME; id\n' });
  });
});
