// The Express app factory: it never listens (the entry file does), so tests mount it on port 0.
import express, { type Express, type Router } from 'express';
import helmet from 'helmet';
import type { AgentDirectory } from '../services/agent-directory.service.js';
import type { AgentPauseService } from '../services/agent-pause.service.js';
import type { PipelinePauseService } from '../services/pipeline-pause.service.js';
import { agentPauseRouter, pipelinePauseRouter } from './routes/pause.routes.js';
import type { PipelineService, TemplateSource } from '../services/pipeline.service.js';
import type { Logger } from '../domain/logger.js';
import { errorHandler, notFoundHandler } from './middleware/errors.js';
import { requestId, type RequestContext } from './middleware/request-id.js';
import { buildOpenApiDocument } from './contract/openapi.js';
import { REPEATABLE_QUERY_PARAMETERS } from './contract/pipelines.schema.js';
import { agentsRouter, templatesRouter } from './routes/catalog.routes.js';
import { canaryRouter } from './routes/canary.routes.js';
import type { CanaryReports } from '../services/canary-report.service.js';
import { pipelinesRouter } from './routes/pipelines.routes.js';
import { rerunRouter } from './routes/rerun.routes.js';
import type { RerunService } from '../services/rerun.service.js';
import { schedulesRouter } from './routes/schedules.routes.js';
import type { ScheduleService } from '../services/schedule.service.js';
import { stageLogsRouter } from './routes/stage-logs.routes.js';
import type { StageLogService } from '../services/stage-log.service.js';
import type { StageWaitingOf } from './pipeline-presenter.js';
import { eventsRouter, type EventRoutesDeps } from './routes/events.routes.js';
import { clarificationsRouter } from './routes/clarifications.routes.js';
import { decisionsRouter } from './routes/decisions.routes.js';
import type { ClarificationService } from '../services/clarification.service.js';
import type { DecisionService } from '../services/decision.service.js';
import type { DlqService } from '../services/dlq.service.js';
import { dlqRouter } from './routes/dlq.routes.js';
import { webhooksRouter } from './routes/webhooks.routes.js';
import type { WebhookDeliveryService } from '../services/webhook-delivery.service.js';
import { flagsRouter } from './routes/flags.routes.js';
import type { FlagOverviewService } from '../services/flag-overview.service.js';
import { healthRouter, type DetailedHealthDeps, type MetricsSource } from './routes/health.routes.js';
import { probesRouter, type ReadinessCheck, type ReadinessInfo } from './routes/probes.routes.js';
import { requestMetrics, type HttpRequestSample } from './middleware/request-metrics.js';
import { routeTemplate } from './middleware/route-template.js';
import { authenticate, type AuthenticateOptions } from './middleware/authenticate.js';
import { keysRouter } from './routes/keys.routes.js';
import { auditRouter } from './routes/audit.routes.js';
import type { ApiKeyService } from '../services/api-key.service.js';
import type { AuditLog } from '../services/identity.ports.js';
import { requestTracing } from './middleware/request-tracing.js';
import { jsonBodiesOnly } from './middleware/json-bodies-only.js';
import { corsAllowList } from './middleware/cors-allow-list.js';
import { jsonBody, type InputLimits } from './middleware/json-body.js';
import { queryGuard } from './middleware/query-guard.js';
import type { InFlightRequests } from './middleware/in-flight.js';
import type { RateLimiters } from './middleware/rate-limit.js';
import type { DashboardMount } from './dashboard-app.js';

/** The probes: answered without credentials, and never rate limited (load balancers poll them). */
export const PROBE_PATHS = ['/health', '/health/ready'] as const;
/** The OpenAPI document: public, as specs conventionally are, but rate limited like the API. */
export const OPENAPI_PATH = '/api/v1/openapi.json';
/** The only paths answered without credentials. */
export const PUBLIC_PATHS = [...PROBE_PATHS, OPENAPI_PATH] as const;

export interface AppDeps {
  /** Proves who a credential (API key or JWT) stands for; see src/http/middleware/authenticate.ts. */
  auth: Pick<AuthenticateOptions, 'verify' | 'metricsToken'>;
  keys: ApiKeyService;
  audit: Pick<AuditLog, 'list'>;
  pipelines: PipelineService;
  /** Re-run from a stage (POST /pipelines/:id/rerun). */
  reruns: RerunService;
  /** Stage logs (GET /pipelines/:id/stages/:key/logs). */
  stageLogs: StageLogService;
  decisions: DecisionService;
  clarifications: ClarificationService;
  /** The agent types with their queues and workers online (GET /agents; the DLQ's agent filter). */
  agentDirectory: Pick<AgentDirectory, 'list' | 'types'>;
  /** Shadow-run agreement per agent type (GET /agents/:type/canary). */
  canary: CanaryReports;
  /** Pause and resume a pipeline (POST /pipelines/:id/pause|resume). */
  pipelinePauses: PipelinePauseService;
  /** Pause and resume an agent type's queue (POST /agents/:type/pause|resume). */
  agentPauses: AgentPauseService;
  templates: TemplateSource;
  logger: Logger;
  /** The log context and trace ids of each request (telemetry); absent: log lines carry neither. */
  requestContext?: RequestContext;
  /** The version the OpenAPI document states (package.json's). */
  version: string;
  bodyLimit: string;
  /** A pipeline answer holds its stages while under this many bytes (RESPONSE_PAGE_BYTES). */
  responsePageBytes: number;
  /** Why a stage waits, read per answer (a queued stage of a switched-off agent: `waiting`); absent: never said. */
  stageWaiting?: StageWaitingOf;
  /** JSON nesting, key and string caps on every body and query string (JSON_MAX_DEPTH, JSON_MAX_KEY_LENGTH, JSON_MAX_STRING_LENGTH). */
  inputLimits: InputLimits;
  /** Browser origins allowed by CORS (CORS_ORIGINS); none by default. */
  corsOrigins?: readonly string[];
  readiness: ReadinessCheck[];
  /** Reported by readiness beside its checks, never a reason for its 503 (workers online, the workspace disk); absent: left out. */
  readinessInfo?: ReadinessInfo;
  /** True once the process is stopping (SIGTERM): readiness answers 503 from then on. */
  shuttingDown?: () => boolean;
  /** False while the queue's Redis connection is down: POST /pipelines is refused before any write. */
  queueReady?: () => boolean;
  /** SSE streams and the audit trail (GET /events, /pipelines/:id/events, /pipelines/:id/audit). */
  events: EventRoutesDeps;
  /** Schedules (/schedules); absent: not served. */
  schedules?: ScheduleService;
  /** The dead-letter queue of the agent queues (GET/POST/DELETE /dlq). */
  dlq: DlqService;
  /** Failed webhook deliveries and their redelivery (/webhooks/failed); absent: not served. */
  webhooks?: WebhookDeliveryService;
  /** The feature flags as this process sees them (GET /flags). */
  flags: FlagOverviewService;
  /** GET /health/detailed (operator role); absent: not served. */
  detailedHealth?: DetailedHealthDeps;
  /** GET /metrics (Prometheus text); absent: not served. */
  metrics?: MetricsSource;
  /** Each finished request's latency (http_request_duration_seconds); absent: not measured. */
  observeHttp?: (sample: HttpRequestSample) => void;
  /** Bull Board (src/dashboard/bull-board.ts), mounted at its path; absent: not served. */
  bullBoard?: { path: string; router: Router };
  /** The pipeline dashboard's static page (src/http/dashboard-app.ts), public, and `/` redirecting to it; absent: not served. */
  dashboard?: DashboardMount;
  /** The rate limiters (src/http/middleware/rate-limit.ts, over the shared Redis store); absent: none. */
  rateLimits?: RateLimiters;
  /** Express's `trust proxy` (TRUST_PROXY): which proxies may name the client's address (`req.ip`); absent: none. */
  trustProxy?: boolean | number | string;
  /** Counts the requests whose handler has not answered (middleware/in-flight.ts), for the shutdown to wait for; absent: not counted. */
  inFlight?: InFlightRequests;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // Rate limits and the audit trail key on req.ip: believing X-Forwarded-For from anyone would let a client pick it.
  app.set('trust proxy', deps.trustProxy ?? false);
  app.set('query parser', 'simple');
  if (deps.inFlight) app.use(deps.inFlight.track);
  app.use(routeTemplate());
  app.use(requestTracing());
  if (deps.observeHttp) app.use(requestMetrics(deps.observeHttp));
  // The CSP lets Bull Board render: its scripts and styles come from self; its page carries inline
  // style attributes and one <style> block (so 'unsafe-inline' for styles only, never scripts) and
  // links the IBM Plex fonts from Google Fonts. No upgrade-insecure-requests: TLS ends before us.
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          baseUri: ["'self'"],
          scriptSrc: ["'self'"],
          scriptSrcAttr: ["'none'"],
          styleSrc: ["'self'", "'unsafe-inline'", 'https://fonts.googleapis.com'],
          fontSrc: ["'self'", 'https://fonts.gstatic.com'],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          objectSrc: ["'none'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
        },
      },
    }),
  );
  app.use(requestId({ logger: deps.logger, context: deps.requestContext }));
  const cors = corsAllowList(deps.corsOrigins ?? []);
  if (cors) app.use(cors);
  // Before anything with an effect, authentication included (CSRF: see the middleware).
  app.use(jsonBodiesOnly());
  const limits = deps.rateLimits ?? {};
  // Before any credential is checked: a flood or a brute force costs no key lookup.
  if (limits.perAddress) app.use(limits.perAddress);
  // The dashboard's files carry no data (the page calls the API with the user's key): served
  // before authentication, as a browser loads them without one, and before the failed-sign-in
  // guard, so a locked-out address still gets the page, which shows the API's 429 and its wait.
  if (deps.dashboard) {
    const { path, handler } = deps.dashboard;
    app.get('/', (_req, res) => res.redirect(302, path));
    app.use(path, handler);
  }
  if (limits.authFailureGuard) app.use(limits.authFailureGuard);
  // Before the body is read: an anonymous caller costs no parsing. Every path but PUBLIC_PATHS.
  app.use(
    authenticate({
      ...deps.auth,
      publicPaths: PUBLIC_PATHS,
      basicRealmPaths: deps.bullBoard ? [deps.bullBoard.path] : [],
    }),
  );
  if (limits.authFailureCount) app.use(limits.authFailureCount);
  if (limits.perIdentity) app.use(limits.perIdentity);
  // Hostile bodies and query strings (too deep, NUL, lone surrogates, too long) get a 400 here, never reach a route.
  app.use(
    jsonBody({ limit: deps.bodyLimit, ...deps.inputLimits }),
    queryGuard({ ...deps.inputLimits, repeatable: REPEATABLE_QUERY_PARAMETERS, mutationsWithoutQuery: '/api/v1' }),
  );

  app.use(probesRouter({ readiness: deps.readiness, info: deps.readinessInfo, shuttingDown: deps.shuttingDown }));
  app.use(healthRouter(deps.detailedHealth, deps.metrics));

  // Built once: the document depends on the code only, not on the request.
  const openApiDocument = buildOpenApiDocument(deps.version);
  const v1 = express.Router();
  v1.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });
  v1.use(
    '/pipelines',
    pipelinesRouter(deps.pipelines, {
      queueReady: deps.queueReady,
      submitLimit: limits.submit,
      pageBytes: deps.responsePageBytes,
      stageWaiting: deps.stageWaiting,
    }),
  );
  v1.use('/pipelines', pipelinePauseRouter(deps.pipelinePauses, { pageBytes: deps.responsePageBytes, stageWaiting: deps.stageWaiting }));
  v1.use(
    '/pipelines',
    rerunRouter(deps.reruns, {
      queueReady: deps.queueReady,
      submitLimit: limits.submit,
      pageBytes: deps.responsePageBytes,
      stageWaiting: deps.stageWaiting,
    }),
  );
  if (deps.schedules) v1.use('/schedules', schedulesRouter(deps.schedules, { queueReady: deps.queueReady }));
  v1.use(stageLogsRouter(deps.stageLogs));
  v1.use('/decisions', decisionsRouter(deps.decisions));
  v1.use('/clarifications', clarificationsRouter(deps.clarifications));
  v1.use('/agents', agentsRouter(deps.agentDirectory));
  v1.use('/agents', canaryRouter(deps.canary));
  v1.use('/agents', agentPauseRouter(deps.agentPauses));
  v1.use('/templates', templatesRouter(deps.templates));
  v1.use('/dlq', dlqRouter(deps.dlq, deps.agentDirectory.types()));
  if (deps.webhooks) v1.use('/webhooks', webhooksRouter(deps.webhooks));
  v1.use('/flags', flagsRouter(deps.flags));
  v1.use('/keys', keysRouter(deps.keys));
  v1.use(auditRouter(deps.audit));
  v1.use(eventsRouter(deps.events));
  app.use('/api/v1', v1);
  if (deps.bullBoard) app.use(deps.bullBoard.path, deps.bullBoard.router);

  app.use(notFoundHandler());
  app.use(errorHandler({ logger: deps.logger }));
  return app;
}
