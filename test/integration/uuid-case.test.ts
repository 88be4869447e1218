// A UUID is the same id in upper case (RFC 9562: case-insensitive on input), and the API accepts
// one as valid; Postgres compares them so, but ids compared as strings in the process did not: an
// event stream of `/pipelines/<UPPER>/events` stayed silent for ever, a DLQ filter or job id in
// upper case found nothing, and a re-run repeated with its Idempotency-Key was refused as reused.
// Each now answers as for the lower-case id.
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness.js';
import { request, waitForPipeline, type Loose } from '../support/http.js';
import { SseClient } from '../support/sse-client.js';

describe('UUIDs in upper case (integration)', function () {
  this.timeout(60_000);
  let h: Harness;

  before(async () => {
    h = await startHarness({ workers: 1 });
  });
  after(async () => h?.close());

  it('GET /pipelines/<UPPER>/events streams the pipeline’s events, history and live, as the lower-case id does', async () => {
    // Arrange: a pipeline still running when the stream opens.
    const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
      name: 'upper-events',
      stages: [
        { key: 'a', agent: 'sleep', input: { ms: 800 } },
        { key: 'b', agent: 'noop', dependsOn: ['a'] },
      ],
    });
    expect(created.status).to.equal(202);
    const id = created.body.id as string;

    // Act
    const client = await SseClient.open(`${h.baseUrl}/api/v1/pipelines/${id.toUpperCase()}/events`);
    try {
      await client.waitFor((events) => events.some((e) => e.type === 'pipeline.finished'), 'pipeline.finished');

      // Assert
      expect(client.status).to.equal(200);
      expect(client.events.every((e) => e.pipelineId === id)).to.equal(true);
    } finally {
      client.close();
    }
  });

  it('GET /dlq?pipelineId=<UPPER> and POST /dlq/<UPPER>/retry find the failed job; a re-run of /pipelines/<UPPER> repeated with its Idempotency-Key replays', async () => {
    // Arrange: a failed stage job in the DLQ.
    const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
      name: 'upper-dlq',
      stages: [{ key: 'a', agent: 'fail', retry: { attempts: 1 } }],
    });
    const id = created.body.id as string;
    await waitForPipeline(h.baseUrl, id);
    const lower = await request(h.baseUrl, 'GET', `/api/v1/dlq?pipelineId=${id}`);
    expect(lower.body.items).to.have.length(1);
    const jobId = (lower.body.items as Loose[])[0]!.jobId as string;

    // Act
    const upper = await request(h.baseUrl, 'GET', `/api/v1/dlq?pipelineId=${id.toUpperCase()}`);
    const first = await request(h.baseUrl, 'POST', `/api/v1/pipelines/${id}/rerun`, {}, { 'idempotency-key': 'upper-rerun' });
    const again = await request(h.baseUrl, 'POST', `/api/v1/pipelines/${id.toUpperCase()}/rerun`, {}, { 'idempotency-key': 'upper-rerun' });
    const replay = await request(h.baseUrl, 'POST', `/api/v1/dlq/${jobId.toUpperCase()}/retry`);

    // Assert
    expect(upper.body.items.map((i: Loose) => i.jobId)).to.deep.equal([jobId]);
    expect(first.status, JSON.stringify(first.body)).to.equal(202);
    expect(again.status, JSON.stringify(again.body)).to.equal(202);
    expect(again.body.id).to.equal(first.body.id);
    expect(again.headers.get('idempotent-replayed')).to.equal('true');
    // Not 404: the job is found (the pipeline was re-run, so the stage's replay is refused with a 409 of its own).
    expect(replay.status, JSON.stringify(replay.body)).to.not.equal(404);
  });
});
