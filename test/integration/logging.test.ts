// Structured logs end to end: the API and an in-process worker write through one winston logger
// whose output is captured; the lines of one request (the API's and the worker's for its
// pipeline's stages) share its correlation id, a malformed X-Request-Id is replaced, and
// secrets never reach a line.
import { expect } from 'chai';
import { maskSecrets } from '../../src/infra/telemetry/logger.js';
import { startHarness, type Harness } from '../support/harness.js';
import { captureLogger } from '../support/capture-logger.js';
import { request, waitForPipeline, type Loose } from '../support/http.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('structured logging (integration)', () => {
  let h: Harness;
  const lines: Loose[] = [];
  before(async () => {
    h = await startHarness({ workers: 1, logger: captureLogger(lines) });
  });
  after(async () => {
    await h?.close();
  });

  it('the API line and the worker lines of one request share its X-Request-Id, with pipeline, stage and job ids', async () => {
    const requestId = `it-logging-${Date.now()}`;
    const created = await request(
      h.baseUrl,
      'POST',
      '/api/v1/pipelines',
      {
        name: 'logging',
        stages: [
          { key: 'a', agent: 'noop' },
          { key: 'b', agent: 'noop', dependsOn: ['a'] },
        ],
      },
      { 'x-request-id': requestId },
    );
    expect(created.status, JSON.stringify(created.body)).to.equal(202);
    expect(created.headers.get('x-request-id')).to.equal(requestId);
    const pipelineId = created.body.id as string;
    expect((await waitForPipeline(h.baseUrl, pipelineId)).status).to.equal('succeeded');
    await new Promise((r) => setTimeout(r, 100));

    const api = lines.find((l) => l.message === 'request completed' && l.method === 'POST' && l.requestId === requestId);
    expect(api, 'the API line of the request').to.not.equal(undefined);
    expect(api!.status).to.equal(202);
    // The whole path, not what the mounted router saw of it.
    expect(api!.path).to.equal('/api/v1/pipelines');

    const stageLines = lines.filter((l) => l.message === 'stage run finished' && l.pipelineId === pipelineId);
    expect(stageLines.map((l) => l.stageKey).sort()).to.deep.equal(['a', 'b']);
    for (const line of stageLines) {
      expect(line.requestId).to.equal(requestId);
      expect(line.stageId).to.be.a('string');
      expect(line.jobId).to.be.a('string');
    }
    const finished = lines.find((l) => l.message === 'pipeline finished' && l.pipelineId === pipelineId);
    expect(finished?.requestId, 'the control job line').to.equal(requestId);
    // Every line naming this pipeline belongs to this request.
    for (const line of lines.filter((l) => l.pipelineId === pipelineId)) expect(line.requestId, JSON.stringify(line)).to.equal(requestId);
  });

  it('a malformed X-Request-Id is replaced by a fresh UUID', async () => {
    for (const bad of ['has spaces', 'x'.repeat(129), 'semi;colon']) {
      const res = await request(h.baseUrl, 'GET', '/api/v1/agents', undefined, { 'x-request-id': bad });
      const issued = res.headers.get('x-request-id');
      expect(issued).to.match(UUID);
      expect(lines.some((l) => l.message === 'request completed' && l.requestId === issued)).to.equal(true);
      expect(lines.some((l) => l.requestId === bad)).to.equal(false);
    }
  });

  it('masks secrets and tokens in meta at any depth, and credentials in URLs', () => {
    const captured: Loose[] = [];
    const logger = captureLogger(captured);
    logger.warn('connecting to redis://worker:hunter2@redis:6379/0', {
      apiKey: 'sk-live-1',
      webhook: { secret: 's3cr3t', url: 'https://bob:pw@example.com/hook', headers: { Authorization: 'Bearer abc', 'x-api-key': 'k' } },
      nested: [{ password: 'p' }, { refreshToken: 't' }],
      cookie: 'sid=1',
      keep: 'visible',
    });
    expect(captured).to.have.length(1);
    const line = captured[0]!;
    const text = JSON.stringify(line);
    for (const secret of ['hunter2', 'sk-live-1', 's3cr3t', ':pw@', 'Bearer abc', '"k"', '"p"', '"t"', 'sid=1'])
      expect(text).to.not.contain(secret);
    expect(line.message).to.equal('connecting to redis://***@redis:6379/0');
    expect(line.apiKey).to.equal('***');
    expect(line.webhook.secret).to.equal('***');
    expect(line.webhook.url).to.equal('https://***@example.com/hook');
    expect(line.webhook.headers.Authorization).to.equal('***');
    expect(line.nested[1].refreshToken).to.equal('***');
    expect(line.keep).to.equal('visible');
    expect(maskSecrets({ token: undefined, list: ['redis://:pw@h'] })).to.deep.equal({ token: undefined, list: ['redis://***@h'] });
  });
});
