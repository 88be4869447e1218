// Times each request for http_request_duration_seconds, labelled with the route template
// (`/api/v1/pipelines/:id`), never the raw URL: the template is captured when the router
// matches a route (req.route is assigned), together with the baseUrl at that moment, because by
// the time an error handler answers, Express has already restored baseUrl.
import type { NextFunction, Request, Response } from 'express';

export interface HttpRequestSample {
  method: string;
  /** The matched route template, or `unmatched` (404s, so scanners cannot explode the label set). */
  route: string;
  status: number;
  seconds: number;
}

export function requestMetrics(observe: (sample: HttpRequestSample) => void) {
  return function measureRequest(req: Request, res: Response, next: NextFunction) {
    const started = performance.now();
    let template: string | undefined;
    let current: unknown;
    Object.defineProperty(req, 'route', {
      configurable: true,
      enumerable: true,
      get: () => current,
      set(route: { path?: unknown } | undefined) {
        current = route;
        // A router's `/` route is its mount path: `/api/v1/pipelines`, not `/api/v1/pipelines/`.
        if (route && typeof route.path === 'string') template = route.path === '/' && req.baseUrl ? req.baseUrl : `${req.baseUrl}${route.path}`;
      },
    });
    res.once('finish', () => {
      observe({ method: req.method, route: template ?? 'unmatched', status: res.statusCode, seconds: (performance.now() - started) / 1000 });
    });
    next();
  };
}
