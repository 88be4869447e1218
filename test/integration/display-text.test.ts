// Display strings beyond a pipeline's name and labels: a schedule's name and a pause reason (of a
// pipeline or an agent type) are one line of text shown as they are (the dashboard, `sdlc`,
// Bull Board's readers, webhook receivers). A security review found them stored with LF, ESC and
// the other control characters that pipeline names refuse; now each gets 400 naming its field,
// and nothing is recorded. No worker runs: the pipeline stays as submitted.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness.js';
import { bearer, expectValidationError, request, type Loose } from '../support/http.js';

const SCHEDULES = '/api/v1/schedules';
const quick = { name: 'quick', stages: [{ key: 'only', agent: 'noop' }] };
const HOSTILE = [
  'inj\n13:00:00.000 error FAKE-LOG-LINE',
  'title\u001b]0;pwned\u0007',
  'red\u001b[31m',
  'cr\rx',
  'del\u007fx',
  'c1\u009bx',
  'tab\tx',
];

describe('display strings: schedule names and pause reasons (integration)', function () {
  this.timeout(60_000);
  let h: Harness;
  let submitter: { key: string; id: string };
  let operator: { key: string; id: string };

  before(async function () {
    this.timeout(120_000);
    // A schema of its own: a schedule made here ticks in no other file's queues.
    h = await startHarness({ workers: 0, ownSchema: true });
    submitter = await h.createKey('display-submitter', ['submitter']);
    operator = await h.createKey('display-operator', ['operator']);
  });
  after(async () => {
    await h?.close();
  });

  it('a schedule name with a control character: 400 naming name, no schedule; a plain one (emoji included) is 201', async () => {
    for (const name of HOSTILE) {
      const res = await request(h.baseUrl, 'POST', SCHEDULES, { name, definition: quick, everyMs: 3_600_000 }, bearer(submitter.key));
      expectValidationError(res, 'name');
      expect(res.body.error.details[0].message, JSON.stringify(name)).to.match(/control characters/);
    }
    const listed = async () =>
      ((await request(h.baseUrl, 'GET', `${SCHEDULES}?limit=100`)).body.items as Loose[]).filter((s) => s.owner === submitter.id);
    expect(await listed()).to.deep.equal([]);

    const fine = await request(
      h.baseUrl,
      'POST',
      SCHEDULES,
      { name: 'nightly 🌙 déjà', definition: quick, everyMs: 3_600_000 },
      bearer(submitter.key),
    );
    expect(fine.status, JSON.stringify(fine.body)).to.equal(201);
    expect((await listed()).map((s) => s.name)).to.deep.equal(['nightly 🌙 déjà']);
  });

  it('a pipeline pause reason with a control character: 400 naming reason, not paused; a plain one pauses', async () => {
    const submitted = await request(
      h.baseUrl,
      'POST',
      '/api/v1/pipelines',
      { ...quick, labels: { run: randomUUID() } },
      bearer(submitter.key),
    );
    expect(submitted.status, JSON.stringify(submitted.body)).to.equal(202);
    const id = submitted.body.id as string;

    for (const reason of HOSTILE) {
      const res = await request(h.baseUrl, 'POST', `/api/v1/pipelines/${id}/pause`, { reason }, bearer(submitter.key));
      expectValidationError(res, 'reason');
    }
    expect((await request(h.baseUrl, 'GET', `/api/v1/pipelines/${id}`)).body.paused).to.equal(null);

    const paused = await request(
      h.baseUrl,
      'POST',
      `/api/v1/pipelines/${id}/pause`,
      { reason: 'INC-42: payments ✋' },
      bearer(submitter.key),
    );
    expect(paused.status, JSON.stringify(paused.body)).to.equal(202);
    expect(paused.body.paused).to.include({ by: submitter.id, reason: 'INC-42: payments ✋' });
  });

  it('an agent-type pause reason with a control character: 400 naming reason, the type stays unpaused', async () => {
    const res = await request(h.baseUrl, 'POST', '/api/v1/agents/noop/pause', { reason: 'vendor\nFAKE' }, bearer(operator.key));
    expectValidationError(res, 'reason');
    const agents = (await request(h.baseUrl, 'GET', '/api/v1/agents')).body.items as Loose[];
    expect(agents.find((a) => a.type === 'noop')?.paused).to.equal(false);
  });
});
