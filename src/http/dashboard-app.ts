// The pipeline dashboard (docs/dashboard.md): the static assets built from dashboard/ into
// dashboard/dist, served at /dashboard without credentials (the page holds no data; every API
// call it makes sends the user's key). Paths under /dashboard without a file extension are the
// page's own client routes and get index.html; `/` redirects here.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { NotFoundError, UnavailableError } from '../domain/errors.js';
import { setRouteTemplate } from './middleware/route-template.js';

export const DASHBOARD_PATH = '/dashboard';

export interface DashboardMount {
  path: string;
  /** One handler for every path under `path`: a file of the build, or index.html for a client route. */
  handler: (req: Request, res: Response, next: NextFunction) => void;
}

const READS = new Set(['GET', 'HEAD']);

/** Serves `distDir` (dashboard/dist); while it is not built, a 503 says how to build it. */
export function createDashboardMount({ distDir }: { distDir: string }): DashboardMount {
  const index = join(distDir, 'index.html');
  // Hashed names are not used, so a build must be picked up at once: revalidate every time.
  const files = express.static(distDir, { index: false, fallthrough: true, maxAge: 0, redirect: false });
  return {
    path: DASHBOARD_PATH,
    handler: function serveDashboard(req, res, next) {
      // Anything but a read goes on to authentication and the 404 of an unknown route.
      if (!READS.has(req.method)) return next();
      // One label for the page, its client routes and its files (never the raw path).
      setRouteTemplate(res, `${DASHBOARD_PATH}/{*path}`);
      // Checked per request: `npm run dashboard:build` beside a running API is enough.
      if (!existsSync(index)) {
        return next(
          new UnavailableError('DEPENDENCY_UNAVAILABLE', 'The dashboard is not built: run `npm run dashboard:build`, then reload.', {
            retryAfterSeconds: 5,
          }),
        );
      }
      files(req, res, () => {
        // A missing asset (a name with an extension) is a 404, not the page.
        if (/\.[A-Za-z0-9]+$/.test(req.path)) {
          return next(new NotFoundError('ROUTE_NOT_FOUND', `No dashboard asset ${req.path}.`));
        }
        res.set('Cache-Control', 'no-cache');
        res.sendFile(index, (error) => (error ? next(error) : undefined));
      });
    },
  };
}
