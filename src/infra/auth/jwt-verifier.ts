// Bearer JWTs from an organisation's identity provider (HMAC secret or JWKS URL) turned into an
// Identity: checks the signature, `alg`, `iss`, `aud`, `exp` (required) and `nbf` with a clock
// tolerance; id = `jwt:<sub>`, name = `preferred_username` | `name` | sub (printable, <= 100
// characters), roles from a configurable (dotted) claim filtered by ROLE_NAME_PATTERN.
// kind: `service` for machine clients, i.e. client-credentials tokens, recognised by
// `gty: "client-credentials"` (Auth0) or a `client_id`/`azp` equal to `sub` (the client acting as
// itself, e.g. Okta); every other token is a `user`.
// Errors: a refused token → AuthenticationError TOKEN_INVALID (401) naming what failed, never the
// token; an unreachable or broken JWKS endpoint → UnavailableError DEPENDENCY_UNAVAILABLE (503,
// retryable), since the caller's token is not at fault and a retry can succeed.
// No I/O at import or construction: the key set is fetched on the first verification.
import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { AppError, AuthenticationError, ConfigurationError, UnavailableError } from '../../domain/errors.js';
import { ROLE_NAME_PATTERN, type Identity } from '../../domain/identity.js';

const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'];
const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
const DEFAULT_HMAC_ALGORITHMS = ['HS256'];
const DEFAULT_JWKS_ALGORITHMS = ['RS256', 'ES256'];
/** RFC 7518 §3.2: an HMAC key at least as long as the hash output (32 bytes for HS256). */
const MIN_SECRET_BYTES = 32;
/** Bigger than any real access token; refuses oversized input before any parsing. */
const MAX_TOKEN_LENGTH = 16_384;
const MAX_NAME_LENGTH = 100;
const MAX_SUBJECT_LENGTH = 255;
const COMPACT_JWS_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
/** Control, format (bidi overrides, zero-width) and line/paragraph separators. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
const UNPRINTABLE_ALL = new RegExp(UNPRINTABLE.source, 'gu');
const ROLE_SEPARATORS = /[\s,]+/;

export interface JwtVerifierOptions {
  /** HMAC secret (HS256/384/512), at least 32 bytes; exactly one of secret / jwksUrl. */
  secret?: string;
  /** JWKS URL of the identity provider: keys cached (10 min), refetched on an unknown `kid` at most every 30 s (jose's createRemoteJWKSet defaults). */
  jwksUrl?: string;
  issuer: string;
  audience: string;
  /** Accepted `alg`s; default ['HS256'] with a secret, ['RS256','ES256'] with JWKS. 'none' is never accepted, nor HMAC with JWKS (key confusion). */
  algorithms?: string[];
  /** Claim listing roles; a dotted path like `realm_access.roles` works (an exact claim name is tried first). Value: array of strings, or a space/comma separated string. */
  rolesClaim: string;
  clockToleranceSeconds: number;
}

export interface JwtVerifier {
  /** Resolves to the token's identity; rejects with AuthenticationError TOKEN_INVALID, or UnavailableError DEPENDENCY_UNAVAILABLE when the JWKS endpoint cannot be read. */
  verify(token: string): Promise<Identity>;
}

/** True when a credential has the shape of a compact JWS (three base64url parts; the last may be empty). */
export function looksLikeJwt(text: string): boolean {
  return text.length <= MAX_TOKEN_LENGTH && COMPACT_JWS_PATTERN.test(text);
}

/** Builds a verifier; throws ConfigurationError CONFIG_INVALID on inconsistent options. Does no I/O. */
export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  const { issuer, audience, rolesClaim, clockToleranceSeconds } = options;
  const algorithms = checkOptions(options);
  const getKey = options.secret ? hmacKey(options.secret) : jwksKey(options.jwksUrl!);
  const allowed = new Set(algorithms);

  return {
    async verify(token: string): Promise<Identity> {
      checkHeader(token, allowed);
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey, {
          algorithms,
          issuer,
          audience,
          clockTolerance: clockToleranceSeconds,
          requiredClaims: ['exp', 'sub'],
        }));
      } catch (error) {
        throw toAppError(error, options);
      }
      return identityOf(payload, rolesClaim);
    },
  };
}

function checkOptions(options: JwtVerifierOptions): string[] {
  const invalid = (message: string) => new ConfigurationError('CONFIG_INVALID', `JWT verifier: ${message}`);
  if (!options.secret === !options.jwksUrl) throw invalid('set exactly one of secret and jwksUrl');
  if (!options.issuer || !options.audience) throw invalid('issuer and audience are required');
  if (!options.rolesClaim) throw invalid('rolesClaim is required');
  if (!Number.isFinite(options.clockToleranceSeconds) || options.clockToleranceSeconds < 0)
    throw invalid('clockToleranceSeconds must be a number >= 0');
  const usable = options.secret ? HMAC_ALGORITHMS : ASYMMETRIC_ALGORITHMS;
  const algorithms = options.algorithms ?? (options.secret ? DEFAULT_HMAC_ALGORITHMS : DEFAULT_JWKS_ALGORITHMS);
  if (algorithms.length === 0) throw invalid('algorithms must not be empty');
  // A secret verifies only HMAC and a key set only public-key algorithms: mixing them is what lets
  // an attacker HMAC-sign a token with the public key (RS→HS key confusion).
  const unusable = algorithms.filter((alg) => !usable.includes(alg));
  if (unusable.length > 0)
    throw invalid(
      `algorithms ${unusable.join(', ')} cannot be used with ${options.secret ? 'a secret' : 'a JWKS URL'} (allowed: ${usable.join(', ')})`,
    );
  if (options.secret && new TextEncoder().encode(options.secret).length < MIN_SECRET_BYTES)
    throw invalid(`the secret must be at least ${MIN_SECRET_BYTES} bytes`);
  if (options.jwksUrl && !(/^https?:\/\//.test(options.jwksUrl) && URL.canParse(options.jwksUrl)))
    throw invalid('jwksUrl must be an http(s) URL');
  return [...algorithms];
}

function hmacKey(secret: string): JWTVerifyGetKey {
  const key = new TextEncoder().encode(secret);
  return () => key;
}

function jwksKey(jwksUrl: string): JWTVerifyGetKey {
  // jose's defaults: 5 s timeout, keys fresh for 10 min, a refetch on an unknown kid at most every
  // 30 s, so tokens with made-up kids cannot hammer the identity provider.
  const remote = createRemoteJWKSet(new URL(jwksUrl));
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      // Key selection errors are about the token (jwtVerify iterates MultipleMatchingKeys itself);
      // anything else is the endpoint: unreachable, timed out, not 200, not a key set.
      if (
        error instanceof errors.JWKSNoMatchingKey ||
        error instanceof errors.JWKSMultipleMatchingKeys ||
        error instanceof errors.JOSENotSupported
      )
        throw error;
      throw new UnavailableError('DEPENDENCY_UNAVAILABLE', "the identity provider's signing keys (JWKS) could not be fetched", {
        retryAfterSeconds: 5,
        hint: "The identity provider's JWKS endpoint is unreachable or answered badly; retry after the Retry-After delay.",
        cause: error,
      });
    }
  };
}

/** Refuses unusable headers before any key lookup, so `alg: none` or a disallowed alg never reaches a JWKS fetch. */
function checkHeader(token: string, allowed: ReadonlySet<string>): void {
  if (!looksLikeJwt(token)) throw refused('the token is not a compact JWT');
  let alg: unknown;
  try {
    ({ alg } = decodeProtectedHeader(token));
  } catch {
    throw refused("the token's header is malformed");
  }
  if (typeof alg !== 'string' || alg === '') throw refused('the token names no algorithm');
  if (alg.toLowerCase() === 'none') throw refused('algorithm none is not accepted');
  if (!allowed.has(alg)) throw refused(`algorithm ${/^[A-Za-z0-9-]{1,16}$/.test(alg) ? alg : '(unrecognised)'} is not accepted`);
}

function toAppError(error: unknown, options: JwtVerifierOptions): Error {
  if (error instanceof AppError) return error;
  if (!(error instanceof errors.JOSEError)) return error instanceof Error ? error : new Error(String(error));
  if (error instanceof errors.JWTExpired) return refused('the token expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return refused(`the token has no ${error.claim} claim`);
    if (error.claim === 'iss') return refused(`the token's issuer is not ${options.issuer}`);
    if (error.claim === 'aud') return refused(`the token's audience is not ${options.audience}`);
    if (error.claim === 'nbf') return refused('the token is not valid yet (nbf)');
    return refused(`the token's ${error.claim} claim is invalid`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return refused("the token's signature does not verify");
  if (error instanceof errors.JOSEAlgNotAllowed) return refused("the token's algorithm is not accepted");
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys)
    return refused("no signing key of the identity provider matches the token's kid");
  if (error instanceof errors.JOSENotSupported) return refused("the token's algorithm or key type is not supported");
  return refused('the token is malformed');
}

function identityOf(payload: JWTPayload, rolesClaim: string): Identity {
  const sub = payload.sub;
  if (typeof sub !== 'string' || sub === '') throw refused('the token has no sub claim');
  if (sub.length > MAX_SUBJECT_LENGTH || UNPRINTABLE.test(sub)) throw refused("the token's sub claim is not a usable subject");
  return {
    id: `jwt:${sub}`,
    name: printableName(payload.preferred_username) ?? printableName(payload.name) ?? printableName(sub) ?? sub,
    kind: isMachineClient(payload, sub) ? 'service' : 'user',
    via: 'jwt',
    roles: rolesOf(claimAt(payload, rolesClaim)),
  };
}

function isMachineClient(payload: JWTPayload, sub: string): boolean {
  return payload.gty === 'client-credentials' || payload.client_id === sub || payload.azp === sub;
}

function printableName(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  // Code points, not UTF-16 units, so the cap never splits a surrogate pair.
  const name = Array.from(value.replace(UNPRINTABLE_ALL, '').trim()).slice(0, MAX_NAME_LENGTH).join('').trim();
  return name === '' ? undefined : name;
}

/** The claim named exactly, else the dotted path walked through own properties only. */
function claimAt(payload: JWTPayload, path: string): unknown {
  if (Object.hasOwn(payload, path)) return payload[path];
  let value: unknown = payload;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function rolesOf(value: unknown): string[] {
  const candidates: unknown[] = typeof value === 'string' ? value.split(ROLE_SEPARATORS) : Array.isArray(value) ? value : [];
  const roles = candidates.filter((role): role is string => typeof role === 'string' && ROLE_NAME_PATTERN.test(role));
  return [...new Set(roles)];
}

// No `cause`: jose's claim errors carry the whole payload, which has no business in logs.
function refused(message: string): AuthenticationError {
  return new AuthenticationError('TOKEN_INVALID', message);
}
