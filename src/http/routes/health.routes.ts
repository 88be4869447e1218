// Operator endpoints: GET /health/detailed (dependencies, queue counts, workers online, the
// workspace disk, breaker states, paused agent types, switched-off agents and platform switches,
// memory, the configuration with secrets masked) for operators, and GET /metrics (Prometheus
// text) for operators or a scraper holding METRICS_TOKEN.
import { Router } from 'express';
import type { WorkspaceDisk } from '../../domain/workspace-disk.js';
import { authorize, authorizeRule } from '../middleware/authorize.js';
import type { DetailedHealthBody, FlagsHealthBody, PausedAgentsBody } from '../contract/health.schema.js';

/** A dependency check (same shape as the app's readiness checks). */
export interface HealthCheck {
  name: string;
  check(): Promise<void>;
}

export interface DetailedHealthDeps {
  version: string;
  components: readonly HealthCheck[];
  /** Job counts per queue name. */
  queues(): Promise<Record<string, Record<string, number>>>;
  /** Breaker states per agent type, with the queue hold in ms. */
  breakers(): Promise<Record<string, unknown>>;
  /** Workers online per agent type (and `conductor`); absent: the section is left out. */
  workers?: () => Promise<Record<string, number>>;
  /** The filesystem holding WORKSPACE_ROOT; absent: the section is left out. Low (`ok: false`) makes the answer `degraded`. */
  workspaceDisk?: () => Promise<WorkspaceDisk>;
  /** Switched-off agents and platform switches, from this process's flags (in memory); absent: the section is left out. */
  flags?: () => FlagsHealthBody;
  /** The process's configuration, secrets and URL passwords already masked; absent: the section is left out. */
  config?: () => Record<string, unknown>;
  /** Agent types whose queue is paused, with the platform's record; absent: the section is left out. Never `degraded`. */
  pausedAgents?: () => Promise<PausedAgentsBody>;
}

export interface MetricsSource {
  contentType: string;
  metrics(): Promise<string>;
}

const timed = async (check: HealthCheck) => {
  const started = performance.now();
  try {
    await check.check();
    return { name: check.name, ok: true, latencyMs: Math.round((performance.now() - started) * 10) / 10 };
  } catch (error) {
    return { name: check.name, ok: false, latencyMs: Math.round((performance.now() - started) * 10) / 10, error: (error as Error).message };
  }
};

/**
 * A section that could not be read is reported as `{ error }` rather than failing the whole
 * answer; `describe` words the error (its message by default; the public readiness, its kind only).
 */
export const section = async <T>(
  read: () => Promise<T>,
  describe: (error: unknown) => string = (error) => (error as Error).message,
): Promise<T | { error: string }> => {
  try {
    return await read();
  } catch (error) {
    return { error: describe(error) };
  }
};

export function healthRouter(detailed: DetailedHealthDeps | undefined, metrics: MetricsSource | undefined): Router {
  const router = Router();
  if (detailed) {
    router.get('/health/detailed', authorize('operate'), async (_req, res) => {
      const [components, queues, workers, workspaceDisk, breakers, pausedAgents] = await Promise.all([
        Promise.all(detailed.components.map(timed)),
        section(() => detailed.queues()),
        detailed.workers ? section(detailed.workers) : undefined,
        detailed.workspaceDisk ? section(detailed.workspaceDisk) : undefined,
        section(() => detailed.breakers()),
        detailed.pausedAgents ? section(detailed.pausedAgents) : undefined,
      ]);
      // A disk that could not be measured is an error in its section, not a low disk.
      const diskLow = workspaceDisk !== undefined && 'ok' in workspaceDisk && !workspaceDisk.ok;
      // Always 200: this is for people; /health/ready is the probe that answers 503.
      const body: DetailedHealthBody = {
        status: components.every((c) => c.ok) && !diskLow ? 'ok' : 'degraded',
        version: detailed.version,
        uptimeSeconds: Math.round(process.uptime()),
        components,
        queues,
        ...(workers === undefined ? {} : { workers }),
        ...(workspaceDisk === undefined ? {} : { workspaceDisk }),
        breakers,
        // Paused on purpose: listed, but never a reason for `degraded`.
        ...(pausedAgents === undefined ? {} : { pausedAgents }),
        // Switched off on purpose: listed, but never a reason for `degraded`.
        ...(detailed.flags ? { flags: detailed.flags() } : {}),
        memory: { ...process.memoryUsage() },
        ...(detailed.config ? { config: detailed.config() } : {}),
      };
      res.json(body);
    });
  }
  if (metrics) {
    router.get('/metrics', authorizeRule({ permissions: ['operate'], metricsToken: true }), async (_req, res) => {
      const body = await metrics.metrics();
      res.set('Content-Type', metrics.contentType).send(body);
    });
  }
  return router;
}
