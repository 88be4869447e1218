// The probes, answered without credentials and never rate limited: GET /health (liveness: the
// process answers) and GET /health/ready (readiness: every check passes and the process is not
// stopping, else 503). Readiness also reports the workers online per agent type, the workspace
// disk and the paused agent types, for information only: none ever makes it 503, since a missing
// worker, a full disk or a paused queue is no reason to take this API out of a load balancer's rotation.
// Anyone may ask, so the answer names nothing internal: no WORKSPACE_ROOT path, and of a failure
// only its kind (`unreachable (ECONNREFUSED)`), not the driver's message with its hosts, addresses,
// user names or paths: /health/detailed, for operators, has those.
import { Router } from 'express';
import { classifyNetworkError } from '../../domain/network-errors.js';
import type { WorkspaceDisk } from '../../domain/workspace-disk.js';
import type { LiveBody, ReadyBody } from '../contract/health.schema.js';
import { section } from './health.routes.js';

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
  /** Its errors are the platform's own words and name nothing internal (the migrations check): shown as they are. */
  publicErrors?: boolean;
}

/** What readiness reports beside its checks; each absent one is left out of the answer. */
export interface ReadinessInfo {
  /** Workers online per agent type (and `conductor`), from the source /health/detailed reads. */
  workers?: () => Promise<Record<string, number>>;
  /** The filesystem holding WORKSPACE_ROOT. */
  workspaceDisk?: () => Promise<WorkspaceDisk>;
  /** Agent types whose queue is paused (their jobs wait): an operator's choice, never a reason for 503. */
  pausedAgents?: () => Promise<string[]>;
}

export interface ProbeDeps {
  readiness: readonly ReadinessCheck[];
  info?: ReadinessInfo;
  /** True once the process is stopping (SIGTERM): readiness answers 503 from then on. */
  shuttingDown?: () => boolean;
}

/**
 * How long readiness waits for what it only reports: a frozen Redis must not hold the probe
 * past its own checks' timeouts (the Redis check gives up after 2 s, and so answers first).
 */
export const READINESS_INFO_TIMEOUT_MS = 1000;

/** A failure told as it is: the words are this file's own. */
class PublicReason extends Error {}

/**
 * What an anonymous caller is told of a failed check or section: its kind and code when a
 * dependency could not be reached, else only that it failed. The message is left out unless it is
 * the platform's own (`messageIsPublic`, or a PublicReason).
 */
function publicReason(error: unknown, messageIsPublic = false): string {
  // First: a check whose own words are public (migrations) still reaches Postgres, and then fails with the driver's.
  const failure = classifyNetworkError(error);
  if (failure) return `${failure.kind}${failure.code ? ` (${failure.code})` : ''}; the details are in /health/detailed`;
  if (messageIsPublic || error instanceof PublicReason) return (error as Error).message;
  return 'failed; the details are in /health/detailed';
}

/** The disk as readiness shows it: without `path`, which is WORKSPACE_ROOT on this machine. */
function withoutPath(read: () => Promise<WorkspaceDisk>): () => Promise<Omit<WorkspaceDisk, 'path'>> {
  return async () => {
    const { path: _path, ...disk } = await read();
    return disk;
  };
}

/** `read`, or an error naming the wait when it has not answered in time (its late answer is dropped). */
function withinInfoTimeout<T>(read: () => Promise<T>): () => Promise<T> {
  return () => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PublicReason(`no answer within ${READINESS_INFO_TIMEOUT_MS} ms`)), READINESS_INFO_TIMEOUT_MS);
    });
    const answer = read();
    answer.catch(() => undefined);
    return Promise.race([answer, late]).finally(() => clearTimeout(timer));
  };
}

async function runCheck({ name, check, publicErrors = false }: ReadinessCheck) {
  try {
    await check();
    return { name, ok: true };
  } catch (error) {
    return { name, ok: false, error: publicReason(error, publicErrors) };
  }
}

export function probesRouter({ readiness, info = {}, shuttingDown = () => false }: ProbeDeps): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' } satisfies LiveBody);
  });
  router.get('/health/ready', async (_req, res) => {
    // A stopping process leaves the load balancer's rotation whatever its dependencies say.
    if (shuttingDown()) {
      res.status(503).json({ status: 'unavailable', shuttingDown: true, components: [] } satisfies ReadyBody);
      return;
    }
    const [components, workers, workspaceDisk, pausedAgents] = await Promise.all([
      Promise.all(readiness.map(runCheck)),
      info.workers ? section(withinInfoTimeout(info.workers), publicReason) : undefined,
      info.workspaceDisk ? section(withinInfoTimeout(withoutPath(info.workspaceDisk)), publicReason) : undefined,
      info.pausedAgents ? section(withinInfoTimeout(info.pausedAgents), publicReason) : undefined,
    ]);
    const extra = {
      ...(workers === undefined ? {} : { workers }),
      ...(workspaceDisk === undefined ? {} : { workspaceDisk }),
      ...(pausedAgents === undefined ? {} : { pausedAgents }),
    };
    const failing = components.filter((c) => !c.ok).map((c) => c.name);
    if (failing.length === 0) {
      res.json({ status: 'ready', components, ...extra } satisfies ReadyBody);
      return;
    }
    res.status(503).json({ status: 'unavailable', failing, components, ...extra } satisfies ReadyBody);
  });
  return router;
}
