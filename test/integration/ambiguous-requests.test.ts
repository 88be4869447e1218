// Requests that say one thing twice: two credential headers with different values, and a query
// parameter given more than once. Each is refused with an error naming the header or the
// parameter, never answered for one of the values picked silently.
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness.js';
import { request } from '../support/http.js';
import { rawRequest } from '../support/raw-request.js';

describe('ambiguous requests (integration)', function () {
  this.timeout(60_000);
  let h: Harness;
  let alice: string;
  let bob: string;

  before(async () => {
    h = await startHarness({ workers: 0 });
    alice = (await h.createKey('alice', ['submitter'])).key;
    bob = (await h.createKey('bob', ['viewer'])).key;
  });
  after(async () => h?.close());

  describe('credential headers', () => {
    it('two Authorization headers with different keys get 401 CREDENTIALS_AMBIGUOUS, not the first key’s identity', async () => {
      // Act
      const res = await rawRequest(h.baseUrl, 'GET', '/api/v1/whoami', {
        headers: { authorization: [`Bearer ${alice}`, `Bearer ${bob}`] },
      });

      // Assert
      expect(res.status).to.equal(401);
      expect(res.json?.error.code).to.equal('CREDENTIALS_AMBIGUOUS');
      expect(res.json?.error.message).to.include('Authorization');
    });

    it('two X-API-Key headers with different keys get 401 CREDENTIALS_AMBIGUOUS, not API_KEY_MALFORMED', async () => {
      // Act
      const res = await rawRequest(h.baseUrl, 'GET', '/api/v1/whoami', { headers: { 'x-api-key': [alice, bob] } });

      // Assert
      expect(res.status).to.equal(401);
      expect(res.json?.error.code).to.equal('CREDENTIALS_AMBIGUOUS');
      expect(res.json?.error.message).to.include('X-API-Key');
    });

    it('the same key sent twice, or in Authorization and X-API-Key alike, is one credential', async () => {
      // Act
      const twice = await rawRequest(h.baseUrl, 'GET', '/api/v1/whoami', {
        headers: { authorization: [`Bearer ${alice}`, `Bearer ${alice}`] },
      });
      const both = await rawRequest(h.baseUrl, 'GET', '/api/v1/whoami', {
        headers: { authorization: `Bearer ${alice}`, 'x-api-key': [alice, alice] },
      });

      // Assert
      expect(twice.status).to.equal(200);
      expect(twice.json?.roles).to.deep.equal(['submitter']);
      expect(both.status).to.equal(200);
      expect(both.json?.roles).to.deep.equal(['submitter']);
    });
  });
  describe('Idempotency-Key', () => {
    it('two different keys get 400 saying so, naming Idempotency-Key; the same key twice is one key', async () => {
      // Arrange
      const body = { name: 'two-idempotency-keys', stages: [{ key: 'a', agent: 'noop' }] };
      const send = (keys: string[]) =>
        rawRequest(h.baseUrl, 'POST', '/api/v1/pipelines', {
          headers: { authorization: `Bearer ${alice}`, 'idempotency-key': keys },
          body,
        });

      // Act
      const different = await send(['key-one', 'key-two']);
      const same = await send(['key-one', 'key-one']);
      const again = await send(['key-one']);

      // Assert
      expect(different.status).to.equal(400);
      expect(different.json?.error.details).to.deep.equal([
        { field: 'Idempotency-Key', message: 'sent 2 times with different values; send one' },
      ]);
      expect(same.status).to.equal(202);
      expect(again.status).to.equal(202);
      expect(again.headers['idempotent-replayed']).to.equal('true');
      expect(again.json?.id).to.equal(same.json?.id);
    });
  });

  describe('query parameters', () => {
    it('a parameter given twice on a list route gets 400 naming it, not "expected number, received NaN"', async () => {
      // Act
      const limit = await request(h.baseUrl, 'GET', '/api/v1/pipelines?limit=1&limit=2');
      const status = await request(h.baseUrl, 'GET', '/api/v1/decisions?status=pending&status=approved&limit=3&limit=4');

      // Assert
      expect(limit.status).to.equal(400);
      expect(limit.body.error.code).to.equal('VALIDATION_FAILED');
      expect(limit.body.error.details).to.deep.equal([
        { field: 'limit', code: 'repeated_parameter', message: 'given 2 times; send it once' },
      ]);
      expect(limit.body.error.message).to.not.include('NaN');
      expect(status.status).to.equal(400);
      expect(status.body.error.details.map((d: { field: string }) => d.field)).to.deep.equal(['status', 'limit']);
    });

    it('a limit that is not decimal digits gets 400 naming limit and its range, not "received NaN"; 05 is 5', async () => {
      // Act
      const values = ['abc', 'true', '', '0x10', '1e1', ' 5', '-1', '101', '99999999999999999999'];
      const answers = await Promise.all(values.map((v) => request(h.baseUrl, 'GET', `/api/v1/decisions?limit=${encodeURIComponent(v)}`)));
      const padded = await request(h.baseUrl, 'GET', '/api/v1/audit?limit=05');

      // Assert
      answers.forEach((res, i) => {
        expect(res.status, values[i]).to.equal(400);
        expect(res.body.error.details, values[i]).to.have.length(1);
        expect(res.body.error.details[0], values[i]).to.include({ field: 'limit', message: 'must be a whole number from 1 to 100' });
      });
      expect(padded.status).to.equal(200);
      expect(padded.body.items.length).to.be.at.most(5);
    });

    it('label, the one repeatable parameter, still takes several values', async () => {
      // Act
      const res = await request(h.baseUrl, 'GET', '/api/v1/pipelines?label=team:a&label=tier:1');

      // Assert
      expect(res.status).to.equal(200);
      expect(res.body.items).to.be.an('array');
    });

    it('routes that take no query refuse an unknown parameter, as the list routes do', async () => {
      // Arrange: a pipeline, so that the per-id routes would otherwise answer 200.
      const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', { name: 'q', stages: [{ key: 'a', agent: 'noop' }] });
      expect(created.status).to.equal(202);
      const id = created.body.id as string;
      const paths = [
        '/api/v1/flags',
        '/api/v1/whoami',
        '/api/v1/agents',
        '/api/v1/templates',
        '/api/v1/templates/smoke',
        `/api/v1/pipelines/${id}`,
        `/api/v1/pipelines/${id}/runs`,
        '/api/v1/pipelines',
      ];

      // Act
      const answers = await Promise.all(paths.map((path) => request(h.baseUrl, 'GET', `${path}?verbose=1`)));
      const plain = await Promise.all(paths.map((path) => request(h.baseUrl, 'GET', path)));

      // Assert
      answers.forEach((res, i) => {
        expect(res.status, paths[i]).to.equal(400);
        expect(res.body.error.details, paths[i]).to.deep.equal([
          { field: 'verbose', code: 'unrecognized_keys', message: 'unknown property "verbose"' },
        ]);
      });
      plain.forEach((res, i) => expect(res.status, paths[i]).to.equal(200));
    });

    it('a mutation under /api/v1 with a query parameter gets 400 naming it and records nothing: POST /pipelines?dryRun=true is no submission', async () => {
      // Arrange
      const body = { name: 'dry-run-query', stages: [{ key: 'a', agent: 'noop' }] };

      // Act
      const dryRun = await request(h.baseUrl, 'POST', '/api/v1/pipelines?dryRun=true', body);
      const upperCase = await request(h.baseUrl, 'POST', '/API/V1/pipelines?dryRun=1', body);
      const cancel = await request(h.baseUrl, 'POST', '/api/v1/pipelines/00000000-0000-4000-8000-000000000000/cancel?force=1');
      const listed = await request(h.baseUrl, 'GET', '/api/v1/pipelines?name=dry-run-query');

      // Assert
      for (const res of [dryRun, upperCase, cancel]) {
        expect(res.status).to.equal(400);
        expect(res.body.error.code).to.equal('VALIDATION_FAILED');
        expect(res.body.error.details[0]).to.include({ code: 'unrecognized_keys' });
      }
      expect(dryRun.body.error.details[0].field).to.equal('dryRun');
      expect(cancel.body.error.details[0].field).to.equal('force');
      expect(listed.body.items).to.deep.equal([]);
    });

    it('a decision or clarification id with an unknown parameter gets 400 naming it before any lookup', async () => {
      // Act
      const decision = await request(h.baseUrl, 'GET', '/api/v1/decisions/DEC-2026-99999?verbose=1');
      const clarification = await request(h.baseUrl, 'GET', '/api/v1/clarifications/00000000-0000-4000-8000-000000000000?verbose=1');

      // Assert
      for (const res of [decision, clarification]) {
        expect(res.status).to.equal(400);
        expect(res.body.error.details[0].field).to.equal('verbose');
      }
    });
  });
  describe('bodies of actions that take none', () => {
    it('a cancel with a body field gets 400 naming it and cancels nothing; without a body it cancels', async () => {
      // Arrange: with no worker, the pipeline stays running.
      const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', { name: 'cancel-body', stages: [{ key: 'a', agent: 'noop' }] });
      const path = `/api/v1/pipelines/${created.body.id as string}`;

      // Act
      const withReason = await request(h.baseUrl, 'POST', `${path}/cancel`, { reason: 'wrong input' });
      const withActor = await request(h.baseUrl, 'POST', `${path}/cancel`, { actor: 'someone-else' });
      const before = await request(h.baseUrl, 'GET', path);
      const plain = await request(h.baseUrl, 'POST', `${path}/cancel`);

      // Assert
      expect(withReason.status).to.equal(400);
      expect(withReason.body.error.details[0]).to.include({ field: 'reason', code: 'unrecognized_keys' });
      expect(withActor.status).to.equal(400);
      expect(withActor.body.error.details[0].field).to.equal('actor');
      expect(before.body.cancelRequestedAt).to.equal(null);
      expect(plain.status).to.equal(202);
    });

    it('a key revocation with a body field gets 400 naming it and the key stays active', async () => {
      // Arrange
      const target = await h.createKey('revoke-body', ['viewer']);

      // Act
      const res = await request(h.baseUrl, 'POST', `/api/v1/keys/${target.recordId}/revoke`, { actor: 'someone-else' });
      const whoami = await request(h.baseUrl, 'GET', '/api/v1/whoami', undefined, { authorization: `Bearer ${target.key}` });

      // Assert
      expect(res.status).to.equal(400);
      expect(res.body.error.details[0].field).to.equal('actor');
      expect(whoami.status).to.equal(200);
    });
  });
});
