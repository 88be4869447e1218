// The Express app factory: it never listens (the entry file does), so tests mount it on port 0.
import express, { type Express } from 'express';
import type { AgentCatalog } from '../agents/catalog.js';
import type { AgentQueues } from '../services/ports.js';
import type { PipelineService, TemplateSource } from '../services/pipeline.service.js';
import type { Logger } from '../infra/telemetry/logger.js';
import { errorHandler, notFoundHandler } from './middleware/errors.js';
import { requestId } from './middleware/request-id.js';
import { agentsRouter, templatesRouter } from './routes/catalog.routes.js';
import { pipelinesRouter } from './routes/pipelines.routes.js';
import { eventsRouter, type EventRoutesDeps } from './routes/events.routes.js';
import { clarificationsRouter } from './routes/clarifications.routes.js';
import { decisionsRouter } from './routes/decisions.routes.js';
import type { ClarificationService } from '../services/clarification.service.js';
import type { DecisionService } from '../services/decision.service.js';

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export interface AppDeps {
  pipelines: PipelineService;
  decisions: DecisionService;
  clarifications: ClarificationService;
  agents: AgentCatalog;
  agentQueues: AgentQueues;
  templates: TemplateSource;
  logger: Logger;
  bodyLimit: string;
  readiness: ReadinessCheck[];
  /** SSE streams and the audit trail (GET /events, /pipelines/:id/events, /pipelines/:id/audit). */
  events: EventRoutesDeps;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(requestId());
  app.use(express.json({ limit: deps.bodyLimit }));

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/health/ready', async (_req, res) => {
    const results = await Promise.all(
      deps.readiness.map(async ({ name, check }) => {
        try {
          await check();
          return { name, ok: true };
        } catch (error) {
          return { name, ok: false, error: (error as Error).message };
        }
      }),
    );
    const ready = results.every((r) => r.ok);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', components: results });
  });

  const v1 = express.Router();
  v1.use('/pipelines', pipelinesRouter(deps.pipelines));
  v1.use('/decisions', decisionsRouter(deps.decisions));
  v1.use('/clarifications', clarificationsRouter(deps.clarifications));
  v1.use('/agents', agentsRouter(deps.agents, deps.agentQueues));
  v1.use('/templates', templatesRouter(deps.templates));
  v1.use(eventsRouter(deps.events));
  app.use('/api/v1', v1);

  app.use(notFoundHandler());
  app.use(errorHandler({ logger: deps.logger }));
  return app;
}
