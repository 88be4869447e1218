// JWT verification with real crypto (jose) and a real local JWKS endpoint that counts its fetches.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { createJwtVerifier, looksLikeJwt, type JwtVerifierOptions } from '../../src/infra/auth/jwt-verifier.js';
import { AppError } from '../../src/domain/errors.js';

const SECRET = 'a-test-hmac-secret-of-at-least-32-bytes!';
const ISSUER = 'https://idp.example.test/realms/acme';
const AUDIENCE = 'agentic-sdlc';
const TOLERANCE_S = 30;
/** jose's createRemoteJWKSet refetches on an unknown kid at most this often. */
const JWKS_COOLDOWN_MS = 30_000;

const nowS = (): number => Math.floor(Date.now() / 1000);
const b64url = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

interface Signer {
  alg: string;
  key: CryptoKey | Uint8Array;
  kid?: string;
}

const hmac: Signer = { alg: 'HS256', key: new TextEncoder().encode(SECRET) };

/** A token with sane defaults (sub, iss, aud, iat, exp in an hour); `undefined` in `claims` drops a claim. */
async function tokenFor(signer: Signer, claims: JWTPayload = {}): Promise<string> {
  const payload: JWTPayload = { sub: 'alice', iss: ISSUER, aud: AUDIENCE, iat: nowS(), exp: nowS() + 3600, ...claims };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  return new SignJWT(payload).setProtectedHeader({ alg: signer.alg, ...(signer.kid ? { kid: signer.kid } : {}) }).sign(signer.key);
}

function hmacOptions(overrides: Partial<JwtVerifierOptions> = {}): JwtVerifierOptions {
  return { secret: SECRET, issuer: ISSUER, audience: AUDIENCE, rolesClaim: 'roles', clockToleranceSeconds: TOLERANCE_S, ...overrides };
}

/** Awaits a verification that must be refused; checks the code, the status and that the token stays out of the message. */
async function refusal(promise: Promise<unknown>, token: string): Promise<AppError> {
  const error = await promise.then(
    () => expect.fail('the token was accepted'),
    (caught: unknown) => caught,
  );
  expect(error).to.be.instanceOf(AppError);
  const appError = error as AppError;
  expect(appError.code).to.equal('TOKEN_INVALID');
  expect(appError.status).to.equal(401);
  expect(appError.message).not.to.include(token);
  for (const part of token.split('.').filter((p) => p.length > 8)) expect(appError.message).not.to.include(part);
  return appError;
}

/** Runs `fn` with Date.now shifted forward: jose times the JWKS cache and cooldown with Date.now (claims use `new Date()`). */
async function withClockAdvanced<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  const realNow = Date.now;
  Date.now = () => realNow() + ms;
  try {
    return await fn();
  } finally {
    Date.now = realNow;
  }
}

describe('jwt verifier (unit)', () => {
  describe('with an HMAC secret', () => {
    it('a valid HS256 token: gives the identity with id, name, kind and filtered, deduplicated roles', async () => {
      const verifier = createJwtVerifier(hmacOptions());
      const token = await tokenFor(hmac, {
        preferred_username: 'Alice A.',
        roles: ['submitter', 'tech_lead', 'submitter', 'Admin', 'x y', 42, 'approver'],
      });

      const identity = await verifier.verify(token);

      expect(identity).to.deep.equal({
        id: 'jwt:alice',
        name: 'Alice A.',
        kind: 'user',
        via: 'jwt',
        roles: ['submitter', 'tech_lead', 'approver'],
      });
    });

    it('a name with control characters or too long: stripped and capped at 100 characters; no name: the sub', async () => {
      const verifier = createJwtVerifier(hmacOptions());
      const noisy = await tokenFor(hmac, { name: `Eve\u0000\u001b[31m\u202Eevil\n${'x'.repeat(200)}` });
      const nameless = await tokenFor(hmac, { sub: 'bob' });

      const [fromName, fromSub] = await Promise.all([verifier.verify(noisy), verifier.verify(nameless)]);

      expect(fromName.name).to.match(/^Eve\[31mevilx+$/);
      expect(fromName.name).to.have.length(100);
      expect(fromSub.name).to.equal('bob');
    });

    it('an unsigned token with alg none: refused as TOKEN_INVALID naming the algorithm', async () => {
      const verifier = createJwtVerifier(hmacOptions());
      const token = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'mallory', iss: ISSUER, aud: AUDIENCE, exp: nowS() + 3600, roles: ['admin'] })}.`;

      const error = await refusal(verifier.verify(token), token);

      expect(error.message).to.equal('algorithm none is not accepted');
    });

    it('a token signed with another secret: refused for its signature', async () => {
      const verifier = createJwtVerifier(hmacOptions());
      const token = await tokenFor({ alg: 'HS256', key: new TextEncoder().encode('another-secret-that-is-long-enough!!') });

      const error = await refusal(verifier.verify(token), token);

      expect(error.message).to.match(/signature/);
    });

    it('a token for another audience: refused naming the expected audience', async () => {
      const verifier = createJwtVerifier(hmacOptions());
      const token = await tokenFor(hmac, { aud: 'some-other-api' });

      const error = await refusal(verifier.verify(token), token);

      expect(error.message).to.equal(`the token's audience is not ${AUDIENCE}`);
    });

    it('a token from another issuer: refused naming the expected issuer', async () => {
      const verifier = createJwtVerifier(hmacOptions());
      const token = await tokenFor(hmac, { iss: 'https://evil.example.test' });

      const error = await refusal(verifier.verify(token), token);

      expect(error.message).to.equal(`the token's issuer is not ${ISSUER}`);
    });

    it('a token expired beyond the clock tolerance: refused as expired', async () => {
      const verifier = createJwtVerifier(hmacOptions());
      const token = await tokenFor(hmac, { iat: nowS() - 7200, exp: nowS() - TOLERANCE_S - 60 });

      const error = await refusal(verifier.verify(token), token);

      expect(error.message).to.equal('the token expired');
    });

    it('a token expired within the clock tolerance: accepted', async () => {
      const verifier = createJwtVerifier(hmacOptions());
      const token = await tokenFor(hmac, { iat: nowS() - 3600, exp: nowS() - Math.floor(TOLERANCE_S / 3) });

      const identity = await verifier.verify(token);

      expect(identity.id).to.equal('jwt:alice');
    });

    it('a token whose nbf is beyond the clock tolerance: refused as not valid yet', async () => {
      const verifier = createJwtVerifier(hmacOptions());
      const token = await tokenFor(hmac, { nbf: nowS() + TOLERANCE_S + 60 });

      const error = await refusal(verifier.verify(token), token);

      expect(error.message).to.match(/not valid yet/);
    });

    it('a token without exp: refused naming the missing claim', async () => {
      const verifier = createJwtVerifier(hmacOptions());
      const token = await tokenFor(hmac, { exp: undefined });

      const error = await refusal(verifier.verify(token), token);

      expect(error.message).to.equal('the token has no exp claim');
    });

    it('a token without sub: refused naming the missing claim', async () => {
      const verifier = createJwtVerifier(hmacOptions());
      const token = await tokenFor(hmac, { sub: undefined });

      const error = await refusal(verifier.verify(token), token);

      expect(error.message).to.equal('the token has no sub claim');
    });

    it('roles under a dotted claim path (realm_access.roles): read from the nested claim', async () => {
      const verifier = createJwtVerifier(hmacOptions({ rolesClaim: 'realm_access.roles' }));
      const token = await tokenFor(hmac, {
        realm_access: { roles: ['operator', 'offline_access', 'uma-authorization'] },
        roles: ['admin'],
      });

      const identity = await verifier.verify(token);

      expect(identity.roles).to.deep.equal(['operator', 'offline_access']);
    });

    it('roles as a space- or comma-separated string: split, filtered and deduplicated', async () => {
      const verifier = createJwtVerifier(hmacOptions({ rolesClaim: 'scope' }));
      const token = await tokenFor(hmac, { scope: 'viewer  approver,submitter viewer read:all' });

      const identity = await verifier.verify(token);

      expect(identity.roles).to.deep.equal(['viewer', 'approver', 'submitter']);
    });

    it('a client-credentials token (gty) or a client acting as itself (client_id or azp = sub): kind service', async () => {
      const verifier = createJwtVerifier(hmacOptions());
      const byGrant = await tokenFor(hmac, { sub: 'ci-bot@clients', gty: 'client-credentials', azp: 'ci-bot' });
      const byClientId = await tokenFor(hmac, { sub: 'deploy-hook', client_id: 'deploy-hook' });
      const byAzp = await tokenFor(hmac, { sub: 'release-bot', azp: 'release-bot' });
      const person = await tokenFor(hmac, { sub: 'carol', azp: 'web-console' });

      const kinds = (await Promise.all([byGrant, byClientId, byAzp, person].map((t) => verifier.verify(t)))).map((i) => i.kind);

      expect(kinds).to.deep.equal(['service', 'service', 'service', 'user']);
    });

    it('options mixing a secret with public-key algorithms or alg none: refused at construction', () => {
      expect(() => createJwtVerifier(hmacOptions({ algorithms: ['RS256'] }))).to.throw(/cannot be used with a secret/);
      expect(() => createJwtVerifier(hmacOptions({ algorithms: ['none'] }))).to.throw(/cannot be used/);
      expect(() => createJwtVerifier(hmacOptions({ secret: 'short' }))).to.throw(/at least 32 bytes/);
      expect(() => createJwtVerifier(hmacOptions({ jwksUrl: 'https://idp.example.test/jwks' }))).to.throw(/exactly one/);
    });
  });

  describe('with a JWKS endpoint', () => {
    let server: Server;
    let jwksUrl: string;
    let initialKeys: { keys: JWK[] };
    let rotatedKeys: { keys: JWK[] };
    /** What the endpoint serves now; a test rotates keys by reassigning it. */
    let served: { keys: JWK[] };
    let fetches = 0;
    let first: Signer;
    let rotated: Signer;
    let publicPem: string;

    before(async () => {
      const [a, b] = await Promise.all([generateKeyPair('RS256'), generateKeyPair('RS256')]);
      first = { alg: 'RS256', key: a.privateKey, kid: 'key-1' };
      rotated = { alg: 'RS256', key: b.privateKey, kid: 'key-2' };
      publicPem = await exportSPKI(a.publicKey);
      initialKeys = { keys: [{ ...(await exportJWK(a.publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' }] };
      rotatedKeys = { keys: [{ ...(await exportJWK(b.publicKey)), kid: 'key-2', alg: 'RS256', use: 'sig' }] };
      server = createServer((_req, res) => {
        fetches += 1;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(served));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
    });

    beforeEach(() => {
      served = initialKeys;
      fetches = 0;
    });

    after(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    const jwksOptions = (overrides: Partial<JwtVerifierOptions> = {}): JwtVerifierOptions => ({
      jwksUrl,
      issuer: ISSUER,
      audience: AUDIENCE,
      rolesClaim: 'roles',
      clockToleranceSeconds: TOLERANCE_S,
      ...overrides,
    });

    it('a valid RS256 token: verified with the fetched key, which is cached for the next token', async () => {
      const verifier = createJwtVerifier(jwksOptions());
      const [one, two] = await Promise.all([tokenFor(first, { roles: ['viewer'] }), tokenFor(first, { sub: 'dave' })]);

      const identities = [await verifier.verify(one), await verifier.verify(two)];

      expect(identities.map((i) => [i.id, i.roles])).to.deep.equal([
        ['jwt:alice', ['viewer']],
        ['jwt:dave', []],
      ]);
      expect(fetches).to.equal(1);
    });

    it('a rotated key (unknown kid): refetched once the cooldown has passed, then accepted', async () => {
      const verifier = createJwtVerifier(jwksOptions());
      await verifier.verify(await tokenFor(first));
      served = rotatedKeys;
      const token = await tokenFor(rotated);

      const withinCooldown = await refusal(verifier.verify(token), token);
      const fetchesWithinCooldown = fetches;
      const identity = await withClockAdvanced(JWKS_COOLDOWN_MS + 1000, () => verifier.verify(token));

      expect(withinCooldown.message).to.match(/no signing key/);
      expect(fetchesWithinCooldown).to.equal(1);
      expect(identity.id).to.equal('jwt:alice');
      expect(fetches).to.equal(2);
    });

    it('an HS256 token when only RS256 is allowed: refused before any key lookup', async () => {
      const verifier = createJwtVerifier(jwksOptions({ algorithms: ['RS256'] }));
      const token = await tokenFor(hmac);

      const error = await refusal(verifier.verify(token), token);

      expect(error.message).to.equal('algorithm HS256 is not accepted');
      expect(fetches).to.equal(0);
    });

    it('an HS256 token signed with the public key as the HMAC secret (key confusion): refused', async () => {
      const verifier = createJwtVerifier(jwksOptions());
      const token = await tokenFor({ alg: 'HS256', key: new TextEncoder().encode(publicPem), kid: 'key-1' }, { roles: ['admin'] });

      const error = await refusal(verifier.verify(token), token);

      expect(error.message).to.equal('algorithm HS256 is not accepted');
      expect(() => createJwtVerifier(jwksOptions({ algorithms: ['RS256', 'HS256'] }))).to.throw(/cannot be used with a JWKS URL/);
    });

    it('an RS256 token whose signature was tampered with: refused for its signature', async () => {
      const verifier = createJwtVerifier(jwksOptions());
      const [header, , signature] = (await tokenFor(first)).split('.');
      const token = `${header}.${b64url({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, exp: nowS() + 3600, roles: ['admin'] })}.${signature}`;

      const error = await refusal(verifier.verify(token), token);

      expect(error.message).to.match(/signature/);
    });

    it('an unreachable JWKS endpoint: DEPENDENCY_UNAVAILABLE (503, retryable), not a refused token', async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const verifier = createJwtVerifier(jwksOptions({ jwksUrl: `http://127.0.0.1:${port}/jwks` }));
      const token = await tokenFor(first);

      const error = await verifier.verify(token).then(
        () => expect.fail('the token was accepted'),
        (caught: unknown) => caught as AppError,
      );

      expect(error.code).to.equal('DEPENDENCY_UNAVAILABLE');
      expect(error.status).to.equal(503);
      expect(error.retryable).to.equal(true);
    });
  });

  describe('looksLikeJwt', () => {
    it('compact JWS shapes: recognised; API keys and other text: not', async () => {
      const signed = await tokenFor(hmac);
      const unsigned = `${b64url({ alg: 'none' })}.${b64url({ sub: 'x' })}.`;

      const results = [signed, unsigned, 'sdlc_0123456789ABcdefghijklmnopqrstuvwxyz0123456789abcdef', 'a.b', 'a.b.c.d', 'a b.c.d', ''].map(
        looksLikeJwt,
      );

      expect(results).to.deep.equal([true, true, false, false, false, false, false]);
    });
  });
});
