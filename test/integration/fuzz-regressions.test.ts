// Regressions found by the API fuzz suite (test/integration/fuzz-api.test.ts), each pinned by
// the smallest request that showed it. API only (no workers), against the real Redis and Postgres.
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness.js';
import { bearer, request } from '../support/http.js';
import { rawRequest } from '../support/raw-request.js';

describe('regressions found by fuzzing (integration)', () => {
  let h: Harness;
  let pipelineId: string;
  before(async () => {
    // One stream per identity: a HEAD that kept a stream open would make the GET below a 429.
    h = await startHarness({ workers: 0, env: { MAX_EVENT_STREAMS_PER_IDENTITY: '1' } });
    const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
      name: 'fuzz-regression',
      stages: [{ key: 'a', agent: 'noop' }],
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(202);
    pipelineId = created.body.id as string;
  });
  after(async () => {
    await h?.close();
  });

  it('HEAD on the event streams: 200 with the stream headers and an empty body at once, holding no stream slot', async () => {
    // Arrange
    const auth = bearer(h.adminKey);

    // Act: HEAD used to open a stream whose headers Node never sent (no answer, a slot held).
    const heads = [];
    for (const path of ['/api/v1/events', `/api/v1/pipelines/${pipelineId}/events`, '/api/v1/events?types=stage.started']) {
      heads.push(await rawRequest(h.baseUrl, 'HEAD', path, { headers: auth }));
    }
    const stream = await rawRequest(h.baseUrl, 'GET', '/api/v1/events', { headers: auth });

    // Assert
    for (const head of heads) {
      expect(head.status).to.equal(200);
      expect(head.headers['content-type']).to.equal('text/event-stream');
      expect(head.text).to.equal('');
    }
    expect(stream.status, stream.text).to.equal(200);
    expect(stream.headers['content-type']).to.equal('text/event-stream');
  });

  it('HEAD on the event streams still validates: a bad query is 400, an unknown pipeline 404', async () => {
    const auth = bearer(h.adminKey);

    const badQuery = await rawRequest(h.baseUrl, 'HEAD', '/api/v1/events?types=nope', { headers: auth });
    const unknown = await rawRequest(h.baseUrl, 'HEAD', '/api/v1/pipelines/00000000-0000-4000-8000-000000000000/events', { headers: auth });

    expect(badQuery.status).to.equal(400);
    expect(badQuery.headers['content-type']).to.match(/^application\/json/);
    expect(unknown.status).to.equal(404);
  });
});
