// The operator gate (until the security issue brings roles): ADMIN_TOKEN as a Bearer token, or,
// for browser pages such as Bull Board, as the password of HTTP Basic auth (any user name).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { ConfigurationError, ValidationError } from '../../domain/errors.js';

export interface AdminAuthOptions {
  /** Also accept `Authorization: Basic` (any user, the token as password); a 401 then asks the browser for it. */
  basicRealm?: string;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** The token a request presents (Bearer, or Basic's password when allowed); undefined when none. */
function presentedToken(header: string, allowBasic: boolean): string | undefined {
  const bearer = /^Bearer (.+)$/i.exec(header);
  if (bearer) return bearer[1]!.trim();
  if (!allowBasic) return undefined;
  const basic = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header.trim());
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? undefined : decoded.slice(colon + 1);
}

/**
 * ADMIN_TOKEN compared in constant time (over digests, so lengths do not leak either). Without a
 * token the endpoint is open when `openWhenUnset` (test, development), else refused with 403.
 */
export function requireAdminToken(adminToken: string, openWhenUnset: boolean, options: AdminAuthOptions = {}) {
  const expected = adminToken ? digest(adminToken) : undefined;
  const challenge = options.basicRealm ? `Basic realm="${options.basicRealm}"` : 'Bearer';
  return function adminGate(req: Request, res: Response, next: NextFunction) {
    if (!expected) {
      if (openWhenUnset) return next();
      return next(
        new ConfigurationError(
          'ADMIN_TOKEN_UNSET',
          'This operator endpoint is disabled: set ADMIN_TOKEN (16 characters at least) on the API process, restart it, and send `Authorization: Bearer <token>`.',
        ),
      );
    }
    const token = presentedToken(req.get('authorization') ?? '', options.basicRealm !== undefined);
    if (token !== undefined && timingSafeEqual(digest(token), expected)) return next();
    res.set('WWW-Authenticate', challenge);
    next(new ValidationError('A valid operator token is required (Authorization: Bearer <ADMIN_TOKEN>).', [], 'UNAUTHORIZED'));
  };
}
