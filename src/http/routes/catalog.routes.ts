// /api/v1/agents and /api/v1/templates: what can be run. Access: viewer and up.
import { Router } from 'express';
import { z } from 'zod';
import type { AgentCatalog } from '../../agents/catalog.js';
import { NotFoundError } from '../../domain/errors.js';
import { templateStageKeys } from '../../domain/template.js';
import type { AgentQueues } from '../../services/ports.js';
import type { TemplateSource } from '../../services/pipeline.service.js';
import { agentQueueName } from '../../infra/queue/queue-names.js';
import { parseOrThrow } from '../validate.js';
import { authorize } from '../middleware/authorize.js';

export function agentsRouter(agents: AgentCatalog, queues: AgentQueues): Router {
  const router = Router();
  router.get('/', authorize('read'), async (_req, res) => {
    const items = await Promise.all(
      [...agents.values()].map(async (agent) => ({
        type: agent.type,
        version: agent.version,
        description: agent.description,
        queue: agentQueueName(agent.type),
        workersOnline: await queues.workersOnline(agent.type),
      })),
    );
    res.json({ items });
  });
  return router;
}

export function templatesRouter(templates: TemplateSource): Router {
  const router = Router();
  router.get('/', authorize('read'), (_req, res) => {
    const items = templates.names().map((name) => {
      const template = templates.get(name)!;
      return { name, description: template.description, stages: templateStageKeys(template), inputExample: template.inputExample ?? null };
    });
    res.json({ items });
  });
  router.get('/:name', authorize('read'), (req, res) => {
    const { name } = parseOrThrow(z.object({ name: z.string().min(1).max(64) }), req.params, 'Invalid template name.');
    const template = templates.get(name);
    if (!template) throw new NotFoundError('TEMPLATE_NOT_FOUND', `No template "${name}".`);
    res.json(template);
  });
  return router;
}
