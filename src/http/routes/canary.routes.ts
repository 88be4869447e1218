// /api/v1/agents/:type/canary: how often an agent's candidate version agreed with the incumbent
// in shadow runs, with the disagreements. Access: viewer and up, like the agent list.
import { Router } from 'express';
import type { CanaryReports } from '../../services/canary-report.service.js';
import { agentTypeParams, canaryQuerySchema, toCanaryReportBody } from '../contract/canary.schema.js';
import { authorize } from '../middleware/authorize.js';
import { parseOrThrow } from '../validate.js';

export function canaryRouter(reports: CanaryReports): Router {
  const router = Router();
  router.get('/:type/canary', authorize('read'), async (req, res) => {
    const { type } = parseOrThrow(agentTypeParams, req.params, 'Invalid agent type.');
    const query = parseOrThrow(canaryQuerySchema, req.query, 'Invalid query.');
    const report = await reports.report(type, { since: query.since ? new Date(query.since) : undefined, limit: query.limit });
    res.json(toCanaryReportBody(report));
  });
  return router;
}
