// Captures the matched route template (`/api/v1/pipelines/:id`), never the raw URL, for the
// latency metric and the request's span name: the template is taken when the router matches a
// route (req.route is assigned), together with the baseUrl at that moment, because by the time
// an error handler answers, Express has already restored baseUrl.
import type { NextFunction, Request, Response } from 'express';

/** The route template of a finished request, or `unmatched` (404s, so scanners cannot explode label sets). */
export function routeTemplateOf(res: Response): string {
  return (res.locals.routeTemplate as string | undefined) ?? 'unmatched';
}

/**
 * Names the route template of a request that no Express route answers: a mount serving files (the
 * dashboard, Bull Board's page) or a gate answering for the router behind it. A route matched
 * later still names its own.
 */
export function setRouteTemplate(res: Response, template: string): void {
  res.locals.routeTemplate = template;
}

export function routeTemplate() {
  return function captureRouteTemplate(req: Request, res: Response, next: NextFunction) {
    let current: unknown;
    Object.defineProperty(req, 'route', {
      configurable: true,
      enumerable: true,
      get: () => current,
      set(route: { path?: unknown } | undefined) {
        current = route;
        // A router's `/` route is its mount path: `/api/v1/pipelines`, not `/api/v1/pipelines/`.
        if (route && typeof route.path === 'string')
          res.locals.routeTemplate = route.path === '/' && req.baseUrl ? req.baseUrl : `${req.baseUrl}${route.path}`;
      },
    });
    next();
  };
}
