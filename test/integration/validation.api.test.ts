// Validation over HTTP: every rejected request answers a JSON error body
// `{ error: { code, message, requestId, details, category, retryable, hint } }` naming the offending field.
// API only (no workers), against the real Redis and Postgres.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness.js';
import { request, type JsonResponse, type Loose } from '../support/http.js';

const PIPELINES = '/api/v1/pipelines';

/** Asserts the error envelope and that one of its details names `field`; returns that detail. */
function expectError(res: JsonResponse<Loose>, status: number, code: string, field?: string): Loose {
  expect(res.status, JSON.stringify(res.body)).to.equal(status);
  expect(res.headers.get('content-type')).to.match(/^application\/json/);
  expect(res.body).to.have.all.keys('error');
  const error = res.body.error as Loose;
  expect(error).to.have.all.keys('code', 'message', 'requestId', 'details', 'category', 'retryable', 'hint');
  expect(error.code).to.equal(code);
  expect(error.message).to.be.a('string').with.length.greaterThan(0);
  expect(error.requestId).to.be.a('string').that.equals(res.headers.get('x-request-id'));
  expect(error.details).to.be.an('array');
  if (field === undefined) return {};
  const detail = (error.details as Loose[]).find((d) => d.field === field);
  expect(detail, `no detail for ${field} in ${JSON.stringify(error.details)}`).to.not.equal(undefined);
  expect(detail!.message).to.be.a('string');
  return detail!;
}

const noop = (key: string, dependsOn: string[] = []) => ({ key, agent: 'noop', dependsOn });

describe('validation over HTTP (integration)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ workers: 0 });
  });
  after(async () => {
    await h?.close();
  });

  describe('POST /api/v1/pipelines: definition errors', () => {
    it('cycle: 400 VALIDATION_FAILED naming the stages in the cycle', async () => {
      // Arrange
      const body = { name: 'cyclic', stages: [noop('a', ['c']), noop('b', ['a']), noop('c', ['b'])] };

      // Act
      const res = await request(h.baseUrl, 'POST', PIPELINES, body);

      // Assert
      const detail = expectError(res, 400, 'VALIDATION_FAILED', 'stages[0].dependsOn');
      expect(detail.code).to.equal('cycle');
      expect(detail.message).to.contain('a -> c -> b -> a');
    });

    it('self-dependency: 400 naming stages[0].dependsOn[0]', async () => {
      const res = await request(h.baseUrl, 'POST', PIPELINES, { name: 'self', stages: [noop('a', ['a'])] });

      expect(expectError(res, 400, 'VALIDATION_FAILED', 'stages[0].dependsOn[0]').code).to.equal('self_dependency');
    });

    it('unknown dependency: 400 naming stages[1].dependsOn[0]', async () => {
      const res = await request(h.baseUrl, 'POST', PIPELINES, { name: 'unknown-dep', stages: [noop('a'), noop('b', ['ghost'])] });

      const detail = expectError(res, 400, 'VALIDATION_FAILED', 'stages[1].dependsOn[0]');
      expect(detail.code).to.equal('unknown_dependency');
      expect(detail.message).to.contain('ghost');
    });

    it('duplicate stage key: 400 naming stages[1].key', async () => {
      const res = await request(h.baseUrl, 'POST', PIPELINES, { name: 'dup', stages: [noop('a'), noop('a')] });

      expect(expectError(res, 400, 'VALIDATION_FAILED', 'stages[1].key').code).to.equal('duplicate_key');
    });

    it('unknown agent type: 400 naming stages[0].agent and listing the known agents', async () => {
      const res = await request(h.baseUrl, 'POST', PIPELINES, { name: 'agentless', stages: [{ key: 'a', agent: 'wizard' }] });

      const detail = expectError(res, 400, 'VALIDATION_FAILED', 'stages[0].agent');
      expect(detail.message).to.match(/^unknown agent type "wizard"; known: .*\bnoop, requirements, .*\bsim_validation, sleep\b/);
    });

    it('501 stages (over MAX_STAGES_PER_PIPELINE): 413 TOO_MANY_STAGES naming stages', async () => {
      const stages = Array.from({ length: 501 }, (_, i) => noop(`s${i}`));

      const res = await request(h.baseUrl, 'POST', PIPELINES, { name: 'huge', stages });

      expect(expectError(res, 413, 'TOO_MANY_STAGES', 'stages').message).to.contain('MAX_STAGES_PER_PIPELINE=100');
    });

    it('stage input over 256 KB: 400 naming stages[0].input', async () => {
      const input = { blob: 'x'.repeat(256 * 1024) };

      const res = await request(h.baseUrl, 'POST', PIPELINES, { name: 'fat', stages: [{ key: 'a', agent: 'noop', input }] });

      expect(expectError(res, 400, 'VALIDATION_FAILED', 'stages[0].input').code).to.equal('too_big');
    });

    it('missing name: 400 naming name', async () => {
      const res = await request(h.baseUrl, 'POST', PIPELINES, { stages: [noop('a')] });

      expectError(res, 400, 'VALIDATION_FAILED', 'name');
    });

    it('stages not an array: 400 naming stages', async () => {
      const res = await request(h.baseUrl, 'POST', PIPELINES, { name: 'flat', stages: 'a,b,c' });

      expect(expectError(res, 400, 'VALIDATION_FAILED', 'stages').code).to.equal('invalid_type');
    });

    it('sleep stage with a bad ms: 400 naming stages[0].input.ms', async () => {
      const res = await request(h.baseUrl, 'POST', PIPELINES, {
        name: 'nap',
        stages: [{ key: 'a', agent: 'sleep', input: { ms: 'soon' } }],
      });

      expectError(res, 400, 'VALIDATION_FAILED', 'stages[0].input.ms');
    });

    it('JSON array body: 400 naming the body', async () => {
      const res = await request(h.baseUrl, 'POST', PIPELINES, [noop('a')]);

      expectError(res, 400, 'VALIDATION_FAILED', '(body)');
    });

    it('rejected definition: records no pipeline', async () => {
      const name = `rejected-${randomUUID()}`;
      await request(h.baseUrl, 'POST', PIPELINES, { name, stages: [noop('a', ['a'])] });

      const list = await request(h.baseUrl, 'GET', `${PIPELINES}?name=${encodeURIComponent(name)}`);

      expect(list.status).to.equal(200);
      expect(list.body.items).to.deep.equal([]);
    });
  });

  describe('POST /api/v1/pipelines: request errors', () => {
    it('malformed JSON: 400 MALFORMED_JSON as JSON, not HTML', async () => {
      const res = await request(h.baseUrl, 'POST', PIPELINES, '{"name": "broken", "stages": [');

      expectError(res, 400, 'MALFORMED_JSON', '(body)');
    });

    it('a bare JSON primitive (null, a number, a string): 400 MALFORMED_JSON saying an object is expected', async () => {
      for (const [body, type] of [
        ['null', 'null'],
        ['42', 'number'],
        ['"pipeline"', 'string'],
      ]) {
        const res = await request(h.baseUrl, 'POST', PIPELINES, body);
        expectError(res, 400, 'MALFORMED_JSON', '(body)');
        expect(res.body.error.message, body).to.equal('The request body must be a JSON object.');
        expect(res.body.error.details[0].message, body).to.equal(`expected a JSON object, received ${type}`);
      }
    });

    it('text/plain Content-Type: 415 naming Content-Type', async () => {
      const res = await request(h.baseUrl, 'POST', PIPELINES, JSON.stringify({ name: 'plain', stages: [noop('a')] }), {
        'content-type': 'text/plain',
      });

      expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type');
    });

    it('Idempotency-Key containing a space: 400 naming Idempotency-Key', async () => {
      const res = await request(h.baseUrl, 'POST', PIPELINES, { name: 'idem', stages: [noop('a')] }, { 'idempotency-key': 'has space' });

      expectError(res, 400, 'VALIDATION_FAILED', 'Idempotency-Key');
    });

    it('unknown template name: 400 naming template and listing the known ones', async () => {
      const res = await request(h.baseUrl, 'POST', PIPELINES, { template: 'nope' });

      const detail = expectError(res, 400, 'VALIDATION_FAILED', 'template');
      expect(detail.message).to.contain('nope').and.contain('smoke');
    });

    it("a template's input with a misspelt property: 400 naming input.projcet, and nothing is recorded", async () => {
      const name = `misspelt-${randomUUID()}`;
      const res = await request(h.baseUrl, 'POST', PIPELINES, { template: 'smoke', name, input: { projcet: 'demo' } });

      const detail = expectError(res, 400, 'VALIDATION_FAILED', 'input.projcet');
      expect(detail.message).to.equal('unknown property "projcet"');
      expect(res.body.error.message).to.contain('inputSchema of template "smoke"');
      const listed = await request(h.baseUrl, 'GET', `${PIPELINES}?name=${name}`);
      expect(listed.body.items).to.deep.equal([]);
    });

    it("a template's input of the wrong types: one detail per field, nested ones by their path", async () => {
      const res = await request(h.baseUrl, 'POST', PIPELINES, {
        template: 'sdlc-simulated',
        input: { requirements: 'Add /health.', confidence: 'high', acceptanceCriteria: ['ok', 7] },
      });

      expectError(res, 400, 'VALIDATION_FAILED', 'input.confidence');
      expectError(res, 400, 'VALIDATION_FAILED', 'input.acceptanceCriteria[1]');
    });

    it('X-Request-Id sent: echoed in the response header and in error.requestId', async () => {
      const requestId = `req-${randomUUID()}`;

      const res = await request(h.baseUrl, 'POST', PIPELINES, { stages: [] }, { 'x-request-id': requestId });

      expectError(res, 400, 'VALIDATION_FAILED', 'stages');
      expect(res.headers.get('x-request-id')).to.equal(requestId);
      expect(res.body.error.requestId).to.equal(requestId);
    });

    it("an X-Request-Id a scheduled run's (schedule:<id>, in any case): replaced by a generated one, so no request passes for a tick in the audit trail", async () => {
      for (const forged of [`schedule:${randomUUID()}`, `SCHEDULE:${randomUUID()}`, `Schedule:${randomUUID()}`]) {
        const res = await request(h.baseUrl, 'POST', PIPELINES, { stages: [] }, { 'x-request-id': forged });

        expectError(res, 400, 'VALIDATION_FAILED', 'stages');
        expect(res.headers.get('x-request-id'), forged).to.be.a('string').and.not.equal(forged);
        expect(res.body.error.requestId).to.equal(res.headers.get('x-request-id'));
      }
    });

    it('no X-Request-Id sent: a generated one is in the header and in error.requestId', async () => {
      const res = await request(h.baseUrl, 'POST', PIPELINES, { stages: [] });

      expectError(res, 400, 'VALIDATION_FAILED');
      expect(res.body.error.requestId).to.be.a('string').with.length.greaterThan(0);
    });
  });

  describe('body over the limit', () => {
    let small: Harness;
    before(async () => {
      small = await startHarness({ workers: 0, env: { HTTP_BODY_LIMIT: '100kb' } });
    });
    after(async () => {
      await small?.close();
    });

    it('body over HTTP_BODY_LIMIT: 413 PAYLOAD_TOO_LARGE as JSON', async () => {
      const body = { name: 'too-big', stages: [{ key: 'a', agent: 'noop', input: { blob: 'x'.repeat(150 * 1024) } }] };

      const res = await request(small.baseUrl, 'POST', PIPELINES, body);

      expectError(res, 413, 'PAYLOAD_TOO_LARGE', '(body)');
    });
  });

  describe('GET /api/v1/pipelines', () => {
    it('id that is not a UUID: 400 naming id', async () => {
      const res = await request(h.baseUrl, 'GET', `${PIPELINES}/not-a-uuid`);

      expectError(res, 400, 'VALIDATION_FAILED', 'id');
    });

    it('unknown UUID: 404 PIPELINE_NOT_FOUND', async () => {
      const res = await request(h.baseUrl, 'GET', `${PIPELINES}/${randomUUID()}`);

      expectError(res, 404, 'PIPELINE_NOT_FOUND');
    });

    it('limit=0: 400 naming limit', async () => {
      const res = await request(h.baseUrl, 'GET', `${PIPELINES}?limit=0`);

      expectError(res, 400, 'VALIDATION_FAILED', 'limit');
    });

    it('status=bogus: 400 naming status', async () => {
      const res = await request(h.baseUrl, 'GET', `${PIPELINES}?status=bogus`);

      expectError(res, 400, 'VALIDATION_FAILED', 'status');
    });

    it('cursor=garbage: 400 naming cursor', async () => {
      const res = await request(h.baseUrl, 'GET', `${PIPELINES}?cursor=garbage`);

      expectError(res, 400, 'VALIDATION_FAILED', 'cursor');
    });

    it('valid query: 200 with items and nextCursor', async () => {
      const res = await request(h.baseUrl, 'GET', `${PIPELINES}?limit=5&status=succeeded`);

      expect(res.status).to.equal(200);
      expect(res.body.items).to.be.an('array');
      expect(res.body).to.have.property('nextCursor');
    });
  });

  describe('unknown routes', () => {
    it('unknown path: 404 ROUTE_NOT_FOUND as JSON', async () => {
      const res = await request(h.baseUrl, 'GET', '/api/v1/nothing-here');

      expectError(res, 404, 'ROUTE_NOT_FOUND');
      expect(res.body.error.message).to.contain('/api/v1/nothing-here');
    });
  });

  describe('catalog', () => {
    it('GET /api/v1/templates: lists the smoke template with its stage keys', async () => {
      const res = await request(h.baseUrl, 'GET', '/api/v1/templates');

      expect(res.status).to.equal(200);
      const smoke = (res.body.items as Loose[]).find((t) => t.name === 'smoke');
      expect(smoke, JSON.stringify(res.body)).to.not.equal(undefined);
      expect(smoke!.stages).to.deep.equal(['scaffold', 'validation', 'e2e_test', 'integration', 'deployment']);
      expect(smoke!.description).to.be.a('string');
    });

    it('GET /api/v1/templates/:name serves the inputSchema; the list names the input fields, required ones starred', async () => {
      const one = await request(h.baseUrl, 'GET', '/api/v1/templates/repo-checks');
      const list = await request(h.baseUrl, 'GET', '/api/v1/templates');

      expect(one.status).to.equal(200);
      expect(one.body.inputSchema).to.include({ type: 'object', additionalProperties: false });
      expect(one.body.inputSchema.required).to.deep.equal(['repository']);
      const repoChecks = (list.body.items as Loose[]).find((t) => t.name === 'repo-checks');
      expect(repoChecks!.inputFields).to.deep.equal(['repository*']);
    });

    it('GET /api/v1/agents: lists the built-in agents with versions and a numeric workersOnline', async () => {
      const res = await request(h.baseUrl, 'GET', '/api/v1/agents');

      expect(res.status).to.equal(200);
      const items = res.body.items as Loose[];
      expect(items.map((a) => a.type)).to.include.members([
        'noop',
        'sleep',
        'fail',
        'requirements',
        'sim_scaffold',
        'sim_validation',
        'sim_e2e_test',
        'sim_integration',
        'sim_deployment',
      ]);
      for (const agent of items) {
        expect(agent.version, agent.type).to.match(/^\d+\.\d+\.\d+/);
        expect(agent.workersOnline, agent.type).to.be.a('number');
      }
    });
  });
});
