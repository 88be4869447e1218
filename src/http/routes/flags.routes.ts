// /api/v1/flags: the feature flags as this API process sees them: where they come from (Unleash
// server or FLAGS_FILE), how fresh they are, each flag's state and origin, each agent type's
// flags and the platform switches' effective values. Access: operator (and admin).
import { Router } from 'express';
import type { FlagOverviewService } from '../../services/flag-overview.service.js';
import { toFlagOverviewBody } from '../contract/flags.schema.js';
import { authorize } from '../middleware/authorize.js';
import { refuseQuery } from '../validate.js';

export function flagsRouter(flags: FlagOverviewService): Router {
  const router = Router();
  // In memory (the client's last set): no I/O, so it answers even while the flag server is down.
  router.get('/', authorize('operate'), (req, res) => {
    refuseQuery(req);
    res.json(toFlagOverviewBody(flags.overview()));
  });
  return router;
}
