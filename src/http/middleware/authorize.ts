// Authorization beside each route: `authorize('submit')` lets through a caller whose roles grant
// any of the named permissions (ROLE_GRANTS in src/domain/identity.ts) and answers 403 otherwise.
// Each returned middleware carries its rule, so the route-matrix test can find a route without one.
import type { NextFunction, Request, Response } from 'express';
import { AuthenticationError, ForbiddenError } from '../../domain/errors.js';
import { can, rolesGranting, type Identity, type Permission } from '../../domain/identity.js';

/** The property under which an authorize middleware exposes its rule. */
export const ACCESS_RULE = Symbol.for('agentic-sdlc.access-rule');

export interface AccessRule {
  /** Any of these permits the request. */
  permissions: readonly Permission[];
  /** Also let the METRICS_TOKEN identity through (GET /metrics only). */
  metricsToken?: boolean;
}

export type AuthorizeMiddleware = ((req: Request, res: Response, next: NextFunction) => void) & { [ACCESS_RULE]: AccessRule };

export function allowed(identity: Identity, rule: AccessRule): boolean {
  if (identity.via === 'metrics_token') return rule.metricsToken === true;
  return rule.permissions.some((p) => can(identity, p));
}

/** The caller must hold one of `permissions`. */
export function authorize(...permissions: Permission[]): AuthorizeMiddleware {
  return authorizeRule({ permissions });
}

export function authorizeRule(rule: AccessRule): AuthorizeMiddleware {
  const roles = [...new Set(rule.permissions.flatMap(rolesGranting))];
  const gate = function authorizeRequest(req: Request, _res: Response, next: NextFunction) {
    const identity = req.identity;
    if (!identity) return next(new AuthenticationError('AUTHENTICATION_REQUIRED', 'Authentication required.'));
    if (allowed(identity, rule)) return next();
    next(
      new ForbiddenError('FORBIDDEN', `${identity.name} may not do this: it needs the role ${roles.join(' or ')}.`, {
        details: [{ field: '(roles)', message: `has ${identity.roles.join(', ') || 'none'}` }],
      }),
    );
  } as AuthorizeMiddleware;
  gate[ACCESS_RULE] = rule;
  return gate;
}

/** The actor of a use case: who (the identity), under which request, from where. */
export function actorOf(req: Request) {
  if (!req.identity) throw new AuthenticationError('AUTHENTICATION_REQUIRED', 'Authentication required.');
  return { identity: req.identity, requestId: req.requestId, sourceAddress: req.ip ?? req.socket.remoteAddress };
}
