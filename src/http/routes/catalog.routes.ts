// /api/v1/agents and /api/v1/templates: what can be run. Access: viewer and up.
import { Router } from 'express';
import { NotFoundError } from '../../domain/errors.js';
import type { AgentDirectory } from '../../services/agent-directory.service.js';
import type { TemplateSource } from '../../services/pipeline.service.js';
import { templateNameParams, toAgentBody, toTemplateBody, toTemplateSummaryBody } from '../contract/catalog.schema.js';
import { parseOrThrow, refuseQuery } from '../validate.js';
import { authorize } from '../middleware/authorize.js';

export function agentsRouter(directory: Pick<AgentDirectory, 'list'>): Router {
  const router = Router();
  router.get('/', authorize('read'), async (req, res) => {
    refuseQuery(req);
    const items = (await directory.list()).map(toAgentBody);
    res.json({ items });
  });
  return router;
}

export function templatesRouter(templates: TemplateSource): Router {
  const router = Router();
  router.get('/', authorize('read'), (req, res) => {
    refuseQuery(req);
    const items = templates.names().map((name) => toTemplateSummaryBody(templates.get(name)!));
    res.json({ items });
  });
  router.get('/:name', authorize('read'), (req, res) => {
    const { name } = parseOrThrow(templateNameParams, req.params, 'Invalid template name.');
    refuseQuery(req);
    const template = templates.get(name);
    if (!template) throw new NotFoundError('TEMPLATE_NOT_FOUND', `No template "${name}".`);
    res.json(toTemplateBody(template));
  });
  return router;
}
