// Times each request for http_request_duration_seconds, labelled with the route template
// (route-template.ts), never the raw URL.
import type { NextFunction, Request, Response } from 'express';
import { routeTemplateOf } from './route-template.js';

export interface HttpRequestSample {
  method: string;
  /** The matched route template, or `unmatched`. */
  route: string;
  status: number;
  seconds: number;
}

export function requestMetrics(observe: (sample: HttpRequestSample) => void) {
  return function measureRequest(req: Request, res: Response, next: NextFunction) {
    const started = performance.now();
    res.once('finish', () => {
      observe({ method: req.method, route: routeTemplateOf(res), status: res.statusCode, seconds: (performance.now() - started) / 1000 });
    });
    next();
  };
}
