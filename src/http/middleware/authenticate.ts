// Authentication for every request but the public probes: the credential comes as
// `Authorization: Bearer <key or JWT>`, `X-API-Key: <key>`, or, for browsers on Bull Board only,
// as the password of HTTP Basic auth. It is checked before the body is read; the identity it proves
// is `req.identity`. Anything else answers 401 with a JSON error and a WWW-Authenticate challenge,
// whatever the path (so a path variant of a protected page is no way around it). Long-lived
// responses (event streams) verify the same credential again through `req.credential`.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { AuthenticationError } from '../../domain/errors.js';
import type { Identity } from '../../domain/identity.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** The authenticated caller; set on every request that reaches a route other than the public probes. */
    identity?: Identity;
    /** The credential that proved `identity`, to verify again later; absent for the metrics token. */
    credential?: PresentedCredential;
  }
}

/**
 * A credential a request presented, kept so that a response that outlives the request (an event
 * stream) can ask again whether it is still good: revoked and expired keys, and expired JWTs, are
 * refused by `verify()` like on a new request. The secret stays inside the closure: nothing that
 * logs or serialises the request can print it.
 */
export interface PresentedCredential {
  /** SHA-256 of the credential (hex): the same for every request that presents it. */
  readonly fingerprint: string;
  verify(): Promise<Identity>;
}

export interface AuthenticateOptions {
  /** Proves who a presented credential (API key or JWT) stands for; throws AuthenticationError. */
  verify(credential: string): Promise<Identity>;
  /** Exact paths answered without credentials (GET/HEAD only). */
  publicPaths: readonly string[];
  /** METRICS_TOKEN: accepted on `metricsPath` only; empty: none. */
  metricsToken?: string;
  metricsPath?: string;
  /** Paths under which a 401 asks a browser for Basic credentials (Bull Board). */
  basicRealmPaths?: readonly string[];
  realm?: string;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * The one value of a credential header, trimmed; undefined when absent. Node keeps only the first
 * of two `Authorization` lines and joins two `X-API-Key` lines with ", ", so a request carrying two
 * different values would be answered for one of them silently (or as a malformed key): it is
 * refused as ambiguous, as Authorization and X-API-Key with different credentials are. The same
 * value sent twice is one credential.
 */
function singleHeader(req: Request, name: 'authorization' | 'x-api-key', label: string): string | undefined {
  const values = new Set((req.headersDistinct[name] ?? []).map((value) => value.trim()).filter((value) => value !== ''));
  if (values.size > 1) {
    throw new AuthenticationError('CREDENTIALS_AMBIGUOUS', `The request has ${values.size} different ${label} headers; send one.`);
  }
  return values.values().next().value;
}

/**
 * The credential a request presents; undefined when none; throws when two differ. Basic auth
 * (the key as password) only where `allowBasic`: Bull Board's pages. A browser keeps sending
 * cached Basic credentials, so accepting them on the API would let another site's form act
 * with them.
 */
function presentedCredential(req: Request, allowBasic: boolean): string | undefined {
  const authorization = singleHeader(req, 'authorization', 'Authorization');
  const apiKey = singleHeader(req, 'x-api-key', 'X-API-Key');
  let fromAuthorization: string | undefined;
  if (authorization) {
    const bearer = /^Bearer[ ]+(\S+)$/i.exec(authorization);
    const basic = bearer || !allowBasic ? null : /^Basic[ ]+([A-Za-z0-9+/=]+)$/i.exec(authorization);
    if (bearer) fromAuthorization = bearer[1];
    else if (basic) {
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      fromAuthorization = colon === -1 ? undefined : decoded.slice(colon + 1);
    }
    if (fromAuthorization === undefined) {
      throw new AuthenticationError(
        'AUTHENTICATION_REQUIRED',
        allowBasic
          ? 'The Authorization header must be `Bearer <credential>`, or Basic with the key as password.'
          : 'The Authorization header must be `Bearer <credential>` (Basic is accepted on Bull Board only).',
      );
    }
  }
  if (fromAuthorization !== undefined && apiKey && apiKey !== fromAuthorization) {
    throw new AuthenticationError('CREDENTIALS_AMBIGUOUS', 'Authorization and X-API-Key carry different credentials; send one.');
  }
  return fromAuthorization ?? (apiKey || undefined);
}

export function authenticate(options: AuthenticateOptions) {
  const { verify, publicPaths, metricsToken = '', metricsPath = '/metrics', basicRealmPaths = [], realm = 'agentic-sdlc' } = options;
  const publics = new Set(publicPaths);
  const metricsDigest = metricsToken ? digest(metricsToken) : undefined;
  const metricsIdentity: Identity = { id: 'metrics-token', name: 'metrics-token', kind: 'service', via: 'metrics_token', roles: [] };

  // Basic credentials (and a browser's prompt for them) only where a page needs them (Bull
  // Board), whatever the path's case or doubled slashes; elsewhere Bearer.
  const isBasicPath = (req: Request) => {
    const path = req.path.toLowerCase().replace(/\/{2,}/g, '/');
    return basicRealmPaths.some((p) => path === p || path.startsWith(`${p}/`));
  };
  const challenge = (req: Request) => (isBasicPath(req) ? `Basic realm="${realm}", charset="UTF-8"` : `Bearer realm="${realm}"`);

  return async function authenticateRequest(req: Request, res: Response, next: NextFunction) {
    if ((req.method === 'GET' || req.method === 'HEAD') && publics.has(req.path)) return next();
    try {
      const credential = presentedCredential(req, isBasicPath(req));
      if (credential === undefined) {
        throw new AuthenticationError(
          'AUTHENTICATION_REQUIRED',
          'Authentication required: send an API key as `Authorization: Bearer <key>` or `X-API-Key: <key>`.',
        );
      }
      if (metricsDigest && req.path === metricsPath && timingSafeEqual(digest(credential), metricsDigest)) {
        req.identity = metricsIdentity;
        return next();
      }
      req.identity = await verify(credential);
      req.credential = { fingerprint: digest(credential).toString('hex'), verify: () => verify(credential) };
      next();
    } catch (error) {
      if (error instanceof AuthenticationError) res.set('WWW-Authenticate', challenge(req));
      next(error);
    }
  };
}
