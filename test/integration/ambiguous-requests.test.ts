// Requests that say one thing twice: two credential headers with different values, and a query
// parameter given more than once. Each is refused with an error naming the header or the
// parameter, never answered for one of the values picked silently.
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness.js';
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
});
