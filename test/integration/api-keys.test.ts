// Identities over the real API: API keys (issued once, hashed at rest, revoked, expired, rotated
// with an overlap, last-used written in batches), JWT service accounts, idempotency and cancel
// scoped to the caller's identity, the audit trail, and the `cli keys` commands in Postgres.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { SignJWT } from 'jose';
import { AuthenticationError } from '../../src/domain/errors.js';
import { createApiKeyService } from '../../src/services/api-key.service.js';
import type { ApiKeyRepository } from '../../src/services/identity.ports.js';
import { startHarness, type Harness } from '../support/harness.js';
import { ANONYMOUS, bearer, request, type JsonResponse, type Loose, expectError, expectValidationError } from '../support/http.js';

const run = promisify(execFile);

const KEYS = '/api/v1/keys';
const PIPELINES = '/api/v1/pipelines';
const AUDIT = '/api/v1/audit';
const WHOAMI = '/api/v1/whoami';
const KEY_PATTERN = /^sdlc_[0-9A-Za-z]{50}$/;

const JWT_SECRET = 'integration-test-secret-0123456789abcdef';
const JWT_ISSUER = 'https://idp.example.test/';
const JWT_AUDIENCE = 'agentic-sdlc-tests';

const unique = (label: string) => `${label}-${randomBytes(4).toString('hex')}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One root stage that never runs here (the harness has no workers): the pipeline stays running. */
const pipeline = (name: string) => ({ name, stages: [{ key: 'only', agent: 'noop' }] });

/** The key with one character of its secret changed: its checksum no longer matches. */
function typo(key: string): string {
  const at = 25;
  return `${key.slice(0, at)}${key[at] === 'a' ? 'b' : 'a'}${key.slice(at + 1)}`;
}

describe('API keys and identities (integration)', function () {
  this.timeout(60_000);
  let h: Harness;
  let adminId: string;

  const get = (path: string, key?: string) => request(h.baseUrl, 'GET', path, undefined, key ? bearer(key) : {});
  const post = (path: string, body: unknown, key?: string, headers: Record<string, string> = {}) =>
    request(h.baseUrl, 'POST', path, body, { ...(key ? bearer(key) : {}), ...headers });
  const whoami = (key: string) => get(WHOAMI, key);
  /** Audit events matching `query` (as the admin). */
  const audit = async (query: Record<string, string>): Promise<Loose[]> => {
    const res = await get(`${AUDIT}?${new URLSearchParams(query)}`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body.items as Loose[];
  };
  const keyRow = async (id: string) =>
    (
      await h.db.pool.query<{ secret_hash: string; last_used_at: Date | null; version: string }>(
        'SELECT secret_hash, last_used_at, xmin::text AS version FROM api_keys WHERE id = $1',
        [id],
      )
    ).rows[0]!;

  before(async () => {
    h = await startHarness({ workers: 0, env: { JWT_SECRET, JWT_ISSUER, JWT_AUDIENCE } });
    adminId = (await whoami(h.adminKey)).body.id as string;
  });
  after(async () => {
    await h?.close();
  });

  describe('POST /keys', () => {
    it('create as admin: 201 with the key shown once, stored only as a SHA-256 hash, and it authenticates with its roles', async () => {
      // Arrange
      const name = unique('deploy-bot');

      // Act
      const created = await post(KEYS, { name, roles: ['submitter', 'tech_lead'], kind: 'service' });
      const listed = await get(KEYS);
      const me = await whoami(created.body.key);

      // Assert
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      expect(created.body.key).to.match(KEY_PATTERN);
      expect(created.body).to.include({ name, kind: 'service' });
      expect(created.body.roles).to.deep.equal(['submitter', 'tech_lead']);
      expect(created.body).not.to.have.any.keys('secretHash', 'secret_hash');
      expect(created.headers.get('cache-control')).to.equal('no-store');
      const item = (listed.body.items as Loose[]).find((k) => k.id === created.body.id);
      expect(item, 'the new key in GET /keys').to.be.an('object');
      expect(item).to.include({ name, keyId: created.body.keyId });
      expect(item).not.to.have.any.keys('key', 'secretHash', 'secret_hash');
      expect(JSON.stringify(listed.body)).not.to.include(created.body.key);
      const row = await keyRow(created.body.id);
      expect(row.secret_hash).to.match(/^[0-9a-f]{64}$/);
      expect(row.secret_hash).to.not.equal(created.body.key);
      expect(row.secret_hash).to.equal(createHash('sha256').update(created.body.key).digest('hex'));
      expect(me.status, JSON.stringify(me.body)).to.equal(200);
      expect(me.body).to.deep.equal({ id: name, name, kind: 'service', via: 'api_key', roles: ['submitter', 'tech_lead'] });
    });

    it('create as a non-admin: 403 and no key is made', async () => {
      // Arrange
      const operator = await h.createKey('operator', ['operator']);
      const name = unique('sneaky');

      // Act
      const res = await post(KEYS, { name, roles: ['admin'] }, operator.key);

      // Assert
      expectError(res, 403, 'FORBIDDEN');
      const { rows } = await h.db.pool.query('SELECT 1 FROM api_keys WHERE name = $1', [name]);
      expect(rows).to.have.length(0);
    });

    it('create with a bad body: 400 naming roles, name or expiresIn', async () => {
      // Arrange / Act
      const teamRoleOnly = await post(KEYS, { name: unique('team-only'), roles: ['tech_lead'] });
      const badRole = await post(KEYS, { name: unique('bad-role'), roles: ['Admin!'] });
      const badName = await post(KEYS, { name: 'jwt:someone', roles: ['viewer'] });
      const spacedName = await post(KEYS, { name: 'two words', roles: ['viewer'] });
      const badExpiry = await post(KEYS, { name: unique('bad-expiry'), roles: ['viewer'], expiresIn: '10 years' });
      const zeroExpiry = await post(KEYS, { name: unique('zero-expiry'), roles: ['viewer'], expiresIn: '0s' });
      const platformActors = await Promise.all(['system', 'Policy', 'metrics-token'].map((name) => post(KEYS, { name, roles: ['admin'] })));

      // Assert
      expectValidationError(teamRoleOnly, 'roles');
      expectValidationError(badRole, 'roles');
      expectValidationError(badName, 'name');
      expectValidationError(spacedName, 'name');
      expectValidationError(badExpiry, 'expiresIn');
      expectValidationError(zeroExpiry, 'expiresIn');
      // The names the platform writes as the actor of its own changes (a cancel's stage events, a
      // decision's expiry, the scraper) are not for keys.
      for (const res of platformActors) {
        expectValidationError(res, 'name');
        expect(res.body.error.details[0].message).to.include("platform's own actors");
      }
    });

    it('create with the name of an active key: 409 API_KEY_NAME_TAKEN', async () => {
      // Arrange
      const name = unique('twice');
      const first = await post(KEYS, { name, roles: ['viewer'] });

      // Act
      const second = await post(KEYS, { name, roles: ['admin'] });

      // Assert
      expect(first.status).to.equal(201);
      expectError(second, 409, 'API_KEY_NAME_TAKEN');
      expect(second.body).not.to.have.property('key');
    });
  });

  describe('authentication', () => {
    it('a key with one character changed: 401 API_KEY_MALFORMED, refused by its checksum before any lookup', async () => {
      // Arrange
      const { key } = await h.createKey('typo', ['viewer']);
      const lookups: string[] = [];
      const unusable = () => Promise.reject(new Error('not used'));
      const repo: ApiKeyRepository = {
        create: unusable,
        list: unusable,
        revoke: unusable,
        rotate: unusable,
        touch: unusable,
        findActiveByName: unusable,
        findByKeyId: async (keyId) => {
          lookups.push(keyId);
          return null;
        },
      };
      const service = createApiKeyService({ repo });

      // Act
      const res = await whoami(typo(key));
      const refused = await service.authenticate(typo(key)).catch((error: unknown) => error);
      const lookupsAfterTypo = lookups.length;
      const unknown = await service.authenticate(key).catch((error: unknown) => error);

      // Assert: API_KEY_MALFORMED is only thrown before the repository is asked (the stub proves it).
      expectError(res, 401, 'API_KEY_MALFORMED');
      expect(res.headers.get('www-authenticate')).to.match(/^Bearer /);
      expect(refused).to.be.instanceOf(AuthenticationError);
      expect((refused as AuthenticationError).code).to.equal('API_KEY_MALFORMED');
      expect(lookupsAfterTypo, 'repository lookups for a mistyped key').to.equal(0);
      expect((unknown as AuthenticationError).code).to.equal('API_KEY_INVALID');
      expect(lookups).to.deep.equal([key.slice(5, 17)]);
    });

    it('revoked key: 200 before, 401 API_KEY_REVOKED on the next request, and listed only with include=inactive', async () => {
      // Arrange
      const created = await post(KEYS, { name: unique('revoke-me'), roles: ['viewer'] });
      const before = await whoami(created.body.key);

      // Act
      const revoked = await post(`${KEYS}/${created.body.id}/revoke`, {});
      const afterRevoke = await whoami(created.body.key);
      const again = await post(`${KEYS}/${created.body.id}/revoke`, {});

      // Assert
      expect(before.status).to.equal(200);
      expect(revoked.status, JSON.stringify(revoked.body)).to.equal(200);
      expect(revoked.body).to.include({ id: created.body.id, revokedBy: adminId });
      expect(revoked.body.revokedAt).to.be.a('string');
      expectError(afterRevoke, 401, 'API_KEY_REVOKED');
      expectError(again, 409, 'API_KEY_INACTIVE');
      const active = (await get(KEYS)).body.items as Loose[];
      const all = (await get(`${KEYS}?include=inactive`)).body.items as Loose[];
      expect(active.map((k) => k.id)).not.to.include(created.body.id);
      expect(all.map((k) => k.id)).to.include(created.body.id);
    });

    it('key created with expiresIn "1s": works at once, 401 API_KEY_EXPIRED after it', async () => {
      // Arrange
      const created = await post(KEYS, { name: unique('short-lived'), roles: ['viewer'], expiresIn: '1s' });
      const before = await whoami(created.body.key);

      // Act
      await sleep(1200);
      const after = await whoami(created.body.key);

      // Assert
      expect(created.status).to.equal(201);
      expect(created.body.expiresAt).to.be.a('string');
      expect(before.status).to.equal(200);
      expectError(after, 401, 'API_KEY_EXPIRED');
    });

    it('no credential at all: 401 AUTHENTICATION_REQUIRED', async () => {
      // Arrange / Act
      const res = await request(h.baseUrl, 'GET', WHOAMI, undefined, ANONYMOUS);

      // Assert
      expectError(res, 401, 'AUTHENTICATION_REQUIRED');
    });
  });

  describe('rotation', () => {
    it('rotate with overlap "2s": both keys work during the overlap, then the old one is 401 API_KEY_EXPIRED; name and roles carry over', async () => {
      // Arrange
      const name = unique('rotating');
      const original = await post(KEYS, { name, roles: ['viewer', 'tech_lead'] });

      // Act
      const rotated = await post(`${KEYS}/${original.body.id}/rotate`, { overlap: '2s' });
      const newDuring = await whoami(rotated.body.key);
      const oldDuring = await whoami(original.body.key);
      await sleep(2200);
      const oldAfter = await whoami(original.body.key);
      const newAfter = await whoami(rotated.body.key);

      // Assert
      expect(rotated.status, JSON.stringify(rotated.body)).to.equal(201);
      expect(rotated.body.key).to.match(KEY_PATTERN);
      expect(rotated.body.key).to.not.equal(original.body.key);
      expect(rotated.body).to.include({ name, rotatedFrom: original.body.id });
      expect(rotated.body.roles).to.deep.equal(['viewer', 'tech_lead']);
      expect(rotated.body.replaced).to.include({ id: original.body.id, name });
      expect(rotated.body.replaced.expiresAt).to.be.a('string');
      expect(newDuring.status).to.equal(200);
      expect(newDuring.body).to.include({ id: name, name });
      expect(newDuring.body.roles).to.deep.equal(['viewer', 'tech_lead']);
      expect(oldDuring.status).to.equal(200);
      expect(oldDuring.body).to.include({ id: name });
      expectError(oldAfter, 401, 'API_KEY_EXPIRED');
      expect(newAfter.status).to.equal(200);
      expect(newAfter.body).to.include({ id: name });
    });

    it('rotate a key twice at once, then once more: one successor; the others get 409 API_KEY_ALREADY_ROTATED and issue no key', async () => {
      // Arrange
      const created = await post(KEYS, { name: unique('double-rotate'), roles: ['viewer'] });

      // Act: a double click, then a retry after a lost answer.
      const racing = await Promise.all([1, 2, 3].map(() => post(`${KEYS}/${created.body.id}/rotate`, { overlap: '1h' })));
      const retried = await post(`${KEYS}/${created.body.id}/rotate`, {});

      // Assert
      const issued = racing.filter((res) => res.status === 201);
      expect(issued, JSON.stringify(racing.map((res) => res.body))).to.have.length(1);
      for (const res of [...racing.filter((r) => r.status !== 201), retried]) {
        expectError(res, 409, 'API_KEY_ALREADY_ROTATED');
        expect(res.body).not.to.have.property('key');
        expect(res.body.error.details[0]).to.include({ field: 'id', message: `replaced by ${issued[0]!.body.id}` });
      }
      const { rows } = await h.db.pool.query('SELECT id FROM api_keys WHERE rotated_from = $1', [created.body.id]);
      expect(rows.map((r) => r.id)).to.deep.equal([issued[0]!.body.id]);
    });

    it('rotate a revoked key: 409 API_KEY_INACTIVE and no new key', async () => {
      // Arrange
      const created = await post(KEYS, { name: unique('revoked-rotate'), roles: ['viewer'] });
      await post(`${KEYS}/${created.body.id}/revoke`, {});

      // Act
      const rotated = await post(`${KEYS}/${created.body.id}/rotate`, {});

      // Assert
      expectError(rotated, 409, 'API_KEY_INACTIVE');
      expect(rotated.body).not.to.have.property('key');
      const { rows } = await h.db.pool.query('SELECT 1 FROM api_keys WHERE rotated_from = $1', [created.body.id]);
      expect(rows).to.have.length(0);
    });
  });

  describe('last used', () => {
    it('first use then flush: last_used_at is set; 20 more requests then flush: no further write of the row', async () => {
      // Arrange
      const { key, recordId } = await h.createKey('last-used', ['viewer']);
      const before = Date.now();
      expect((await whoami(key)).status).to.equal(200);
      await h.api.keys.flushLastUsed();
      const first = await keyRow(recordId);

      // Act
      for (let i = 0; i < 20; i++) expect((await whoami(key)).status).to.equal(200);
      const beforeFlush = await keyRow(recordId);
      await h.api.keys.flushLastUsed();
      const afterFlush = await keyRow(recordId);

      // Assert: one timestamp, and the row version (xmin) never moved: no write per request.
      expect(first.last_used_at, 'last_used_at after the first flush').to.be.instanceOf(Date);
      expect(first.last_used_at!.getTime()).to.be.at.least(before - 1000);
      expect(beforeFlush.last_used_at!.getTime()).to.equal(first.last_used_at!.getTime());
      expect(beforeFlush.version).to.equal(first.version);
      expect(afterFlush.last_used_at!.getTime()).to.equal(first.last_used_at!.getTime());
      expect(afterFlush.version).to.equal(first.version);
    });
  });

  describe('pipelines under identities', () => {
    it('same Idempotency-Key and body from two submitters: two pipelines; a third with another body gets its own 202; the first replays its own', async () => {
      // Arrange
      const alice = await h.createKey('alice', ['submitter']);
      const bob = await h.createKey('bob', ['submitter']);
      const carol = await h.createKey('carol', ['submitter']);
      const idem = { 'idempotency-key': unique('same-key') };
      const body = pipeline('idempotent-per-identity');

      // Act
      const a = await post(PIPELINES, body, alice.key, idem);
      const b = await post(PIPELINES, body, bob.key, idem);
      const c = await post(PIPELINES, pipeline('another-body'), carol.key, idem);
      const aAgain = await post(PIPELINES, body, alice.key, idem);
      const aOtherBody = await post(PIPELINES, pipeline('another-body'), alice.key, idem);

      // Assert
      expect([a.status, b.status, c.status, aAgain.status]).to.deep.equal([202, 202, 202, 202]);
      expect(b.body.id).to.not.equal(a.body.id);
      expect(a.body.submitter).to.equal(alice.id);
      expect(b.body.submitter).to.equal(bob.id);
      expect(b.headers.get('idempotent-replayed')).to.equal(null);
      expect(c.body.id).to.not.equal(a.body.id);
      expect(c.body.submitter).to.equal(carol.id);
      expect(c.headers.get('idempotent-replayed')).to.equal(null);
      expect(JSON.stringify(c.body)).not.to.include(a.body.id);
      expect(JSON.stringify([...c.headers])).not.to.include(a.body.id);
      expect(aAgain.body.id).to.equal(a.body.id);
      expect(aAgain.headers.get('idempotent-replayed')).to.equal('true');
      expectError(aOtherBody, 409, 'IDEMPOTENCY_KEY_REUSED');
    });

    it('X-Submitter header: 400 naming X-Submitter; without it the submitter is the key name', async () => {
      // Arrange
      const submitter = await h.createKey('ci', ['submitter']);

      // Act
      const spoofed = await post(PIPELINES, pipeline('spoofed'), submitter.key, { 'x-submitter': 'someone-else' });
      const honest = await post(PIPELINES, pipeline('honest'), submitter.key);

      // Assert
      expectValidationError(spoofed, 'X-Submitter');
      expect(honest.status, JSON.stringify(honest.body)).to.equal(202);
      expect(honest.body.submitter).to.equal(submitter.name);
    });

    it('cancel: another submitter 403, the viewer 403, its own submitter 202, an operator any pipeline 202', async () => {
      // Arrange
      const owner = await h.createKey('owner', ['submitter']);
      const other = await h.createKey('other', ['submitter']);
      const viewer = await h.createKey('viewer', ['viewer']);
      const operator = await h.createKey('ops', ['operator']);
      const mine = await post(PIPELINES, pipeline('mine'), owner.key);
      const theirs = await post(PIPELINES, pipeline('theirs'), other.key);

      // Act
      const byOther = await post(`${PIPELINES}/${mine.body.id}/cancel`, {}, other.key);
      const byViewer = await post(`${PIPELINES}/${mine.body.id}/cancel`, {}, viewer.key);
      const byOwner = await post(`${PIPELINES}/${mine.body.id}/cancel`, {}, owner.key);
      const byOperator = await post(`${PIPELINES}/${theirs.body.id}/cancel`, {}, operator.key);

      // Assert
      expectError(byOther, 403, 'FORBIDDEN');
      expectError(byViewer, 403, 'FORBIDDEN');
      expect(byOwner.status, JSON.stringify(byOwner.body)).to.equal(202);
      expect(byOperator.status, JSON.stringify(byOperator.body)).to.equal(202);
      const cancelledBy = await audit({ action: 'pipeline.cancelled', targetId: mine.body.id });
      expect(cancelledBy.map((e) => e.identity.id)).to.deep.equal([owner.id]);
    });
  });

  describe('JWT', () => {
    it('client-credentials token with roles [submitter]: submits; the pipeline and its audit event name the service jwt:<sub>', async () => {
      // Arrange
      const sub = unique('ci-client');
      const token = await new SignJWT({ roles: ['submitter'], gty: 'client-credentials' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(sub)
        .setIssuer(JWT_ISSUER)
        .setAudience(JWT_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(JWT_SECRET));

      // Act
      const me = await whoami(token);
      const created = await post(PIPELINES, pipeline('from-ci'), token);
      const events = await audit({ action: 'pipeline.submitted', targetId: String(created.body.id) });

      // Assert
      expect(me.body).to.include({ id: `jwt:${sub}`, kind: 'service', via: 'jwt' });
      expect(created.status, JSON.stringify(created.body)).to.equal(202);
      expect(created.body.submitter).to.equal(`jwt:${sub}`);
      expect(events).to.have.length(1);
      expect(events[0]!.identity).to.deep.include({ id: `jwt:${sub}`, kind: 'service', via: 'jwt', roles: ['submitter'] });
    });
  });

  describe('audit trail', () => {
    it('submit, cancel, key create, revoke and rotate: each an event with the identity, its roles, the request id and a source address', async () => {
      // Arrange
      const submitter = await h.createKey('audited', ['submitter', 'tech_lead']);

      // Act
      const submitted = await post(PIPELINES, pipeline('audited'), submitter.key);
      const cancelled = await post(`${PIPELINES}/${submitted.body.id}/cancel`, {}, submitter.key);
      const created = await post(KEYS, { name: unique('audited-key'), roles: ['viewer'] });
      const rotated = await post(`${KEYS}/${created.body.id}/rotate`, { overlap: '1h' });
      const revoked = await post(`${KEYS}/${rotated.body.id}/revoke`, {});

      // Assert
      const cases: Array<[string, JsonResponse<Loose>, Record<string, string>, string, string[]]> = [
        ['pipeline.submitted', submitted, { targetId: submitted.body.id }, submitter.id, ['submitter', 'tech_lead']],
        ['pipeline.cancelled', cancelled, { targetId: submitted.body.id }, submitter.id, ['submitter', 'tech_lead']],
        ['key.created', created, { targetId: created.body.id }, adminId, ['admin']],
        ['key.rotated', rotated, { targetId: created.body.id }, adminId, ['admin']],
        ['key.revoked', revoked, { targetId: rotated.body.id }, adminId, ['admin']],
      ];
      for (const [action, res, filter, identityId, roles] of cases) {
        expect(res.status, `${action}: ${JSON.stringify(res.body)}`).to.be.oneOf([201, 202, 200]);
        const events = await audit({ action, ...filter });
        expect(events, action).to.have.length(1);
        const event = events[0]!;
        expect(event.identity, action).to.deep.include({ id: identityId, name: identityId, via: 'api_key', roles });
        expect(event.requestId, action).to.equal(res.headers.get('x-request-id'));
        expect(event.sourceAddress, action)
          .to.be.a('string')
          .and.match(/127\.0\.0\.1|::1/);
      }
      const [submittedEvent] = await audit({ action: 'pipeline.submitted', targetId: submitted.body.id });
      expect(submittedEvent).to.include({ targetType: 'pipeline', pipelineId: submitted.body.id });
      const [createdEvent] = await audit({ action: 'key.created', targetId: created.body.id });
      expect(createdEvent!.data).to.include({ name: created.body.name, keyId: created.body.keyId });
      expect(JSON.stringify(createdEvent)).not.to.include(created.body.key);
      const [rotatedEvent] = await audit({ action: 'key.rotated', targetId: created.body.id });
      expect(JSON.stringify(rotatedEvent)).not.to.include(rotated.body.key);
    });

    it('filters and cursor pagination: identity + action pages one by one, newest first, to the end; pipelineId, targetType and since filter', async () => {
      // Arrange
      const submitter = await h.createKey('paged', ['submitter']);
      const ids: string[] = [];
      for (const n of [1, 2, 3]) ids.push((await post(PIPELINES, pipeline(`paged-${n}`), submitter.key)).body.id as string);

      // Act
      const pages: Loose[] = [];
      let cursor: string | null = null;
      do {
        const query: Record<string, string> = {
          identity: submitter.id,
          action: 'pipeline.submitted',
          limit: '1',
          ...(cursor ? { cursor } : {}),
        };
        const res = await get(`${AUDIT}?${new URLSearchParams(query)}`);
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        pages.push(res.body);
        cursor = res.body.nextCursor as string | null;
      } while (cursor && pages.length < 10);
      const byPipeline = await audit({ pipelineId: ids[1]! });
      const byIdentity = await audit({ identity: submitter.id });
      const keyEvents = await audit({ targetType: 'api_key', limit: '5' });
      const future = await audit({ identity: submitter.id, since: new Date(Date.now() + 3_600_000).toISOString() });
      const past = await audit({ identity: submitter.id, until: new Date(Date.now() - 3_600_000).toISOString() });

      // Assert
      expect(pages).to.have.length(3);
      expect(pages.map((p) => (p.items as Loose[]).length)).to.deep.equal([1, 1, 1]);
      expect(pages.map((p) => p.items[0].targetId)).to.deep.equal([...ids].reverse());
      expect(pages[0]!.nextCursor).to.be.a('string');
      expect(pages[2]!.nextCursor).to.equal(null);
      const eventIds = pages.map((p) => BigInt(p.items[0].id as string));
      expect(eventIds[0]! > eventIds[1]! && eventIds[1]! > eventIds[2]!, `ids ${eventIds.join(', ')}`).to.equal(true);
      expect(byPipeline.map((e) => [e.action, e.targetId])).to.deep.equal([['pipeline.submitted', ids[1]]]);
      expect(byIdentity).to.have.length(3);
      expect(keyEvents.length).to.be.within(1, 5);
      expect(keyEvents.every((e) => e.targetType === 'api_key')).to.equal(true);
      expect(future).to.deep.equal([]);
      expect(past).to.deep.equal([]);
    });

    it('GET /audit as a non-admin: 403; with a bad cursor or an unknown action: 400 naming the field', async () => {
      // Arrange
      const submitter = await h.createKey('nosy', ['submitter', 'operator', 'approver']);

      // Act
      const forbidden = await get(AUDIT, submitter.key);
      const notACursor = await get(`${AUDIT}?cursor=abc`);
      const tooBig = await get(`${AUDIT}?cursor=9999999999999999999`);
      const badAction = await get(`${AUDIT}?action=pipeline.exploded`);

      // Assert
      expectError(forbidden, 403, 'FORBIDDEN');
      expectValidationError(notACursor, 'cursor');
      expectValidationError(tooBig, 'cursor');
      expectValidationError(badAction, 'action');
    });
  });

  describe('cli keys', function () {
    this.timeout(90_000);
    const cli = async (...args: string[]) => {
      const env = { ...process.env, DATABASE_URL: process.env.TEST_DATABASE_URL! };
      const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'keys', ...args], { env });
      return stdout;
    };
    const lastLine = (stdout: string) => stdout.trimEnd().split('\n').at(-1)!;

    it('create prints the key alone on the last line and it authenticates; --json has the key; list shows no secret; revoke makes it 401', async () => {
      // Arrange
      const name = unique('cli-made');
      const jsonName = unique('cli-json');

      // Act
      const created = await cli('create', '--name', name, '--role', 'viewer', '--expires', '30d');
      const key = lastLine(created);
      const me = await whoami(key);
      const json = JSON.parse(await cli('create', '--name', jsonName, '--role', 'viewer', '--role', 'tech_lead', '--json')) as Loose;
      const listing = await cli('list');
      const record = ((await get(KEYS)).body.items as Loose[]).find((k) => k.name === name)!;
      const revoked = await cli('revoke', record.id as string);
      const afterRevoke = await whoami(key);

      // Assert
      expect(key).to.match(KEY_PATTERN);
      expect(me.status, JSON.stringify(me.body)).to.equal(200);
      expect(me.body).to.deep.include({ id: name, name, via: 'api_key', roles: ['viewer'] });
      expect(record.expiresAt).to.be.a('string');
      expect(new Date(record.expiresAt).getTime() - Date.now()).to.be.within(29 * 86_400_000, 30 * 86_400_000);
      expect(json.key).to.match(KEY_PATTERN);
      expect(json).to.include({ name: jsonName });
      expect(json.roles).to.deep.equal(['viewer', 'tech_lead']);
      expect((await whoami(json.key as string)).status).to.equal(200);
      expect(listing).to.include(name);
      expect(listing).to.include(`sdlc_${record.keyId}…`);
      expect(listing).not.to.include(key);
      expect(listing).not.to.include(json.key);
      expect(revoked).to.include(record.id).and.include('revoked');
      expectError(afterRevoke, 401, 'API_KEY_REVOKED');
      const [createdEvent] = await audit({ action: 'key.created', targetId: record.id as string });
      expect(createdEvent!.identity).to.include({ via: 'cli' });
      expect(createdEvent!.identity.id).to.match(/^cli:/);
    });
  });
});
