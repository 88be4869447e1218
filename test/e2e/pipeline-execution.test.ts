// Pipelines run end to end over HTTP against real Redis and Postgres.
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness.js';
import { request, waitForPipeline } from '../support/http.js';

describe('pipeline execution (e2e)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  it('linear pipeline: every stage runs in order and the pipeline succeeds', async () => {
    const res = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
      name: 'linear',
      stages: [
        { key: 'a', agent: 'noop', input: { n: 1 } },
        { key: 'b', agent: 'noop', dependsOn: ['a'], input: { n: 2 } },
        { key: 'c', agent: 'noop', dependsOn: ['b'], input: { n: 3 } },
      ],
    });
    expect(res.status).to.equal(202);
    expect(res.headers.get('location')).to.equal(`/api/v1/pipelines/${res.body.id}`);
    const done = await waitForPipeline(h.baseUrl, res.body.id);
    expect(done.status).to.equal('succeeded');
    expect(done.stages.map((s: { status: string }) => s.status)).to.deep.equal(['succeeded', 'succeeded', 'succeeded']);
    expect(done.stages[2].output).to.deep.equal({ n: 3 });
    const [a, b, c] = done.stages;
    expect(new Date(b.startedAt).getTime()).to.be.at.least(new Date(a.finishedAt).getTime());
    expect(new Date(c.startedAt).getTime()).to.be.at.least(new Date(b.finishedAt).getTime());
  });
});
