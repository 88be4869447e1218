// Bull Board at /admin/queues, behind the operator gate (ADMIN_TOKEN as Bearer, or as the HTTP
// Basic password so a browser can prompt for it). Agent queues allow retry, clean and promote;
// the control queue is read-only in the UI (readOnlyMode) and any write to its API answers 405.
// Retrying a failed stage job on the board is a DLQ replay: a bare job.retry would find the stage
// `failed` in Postgres and do nothing, so the board's retry routes go through the DLQ service,
// which reopens the stage, its skipped dependants and the pipeline, then retries the job.
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { requireAdminToken } from '../src/http/middleware/admin-auth.js';
import { AppError } from '../src/domain/errors.js';
import { agentQueueName } from '../src/infra/queue/queue-names.js';
import type { DlqService } from '../src/services/dlq.service.js';

/** Where the board is mounted; `setBasePath` must name the same path or its assets 404. */
export const BULL_BOARD_PATH = '/admin/queues';
export const BULL_BOARD_REALM = 'agentic-sdlc';

export interface BullBoardDeps {
  /** The agent queues: full access (retry, clean, promote). */
  agentQueues: readonly Queue[];
  /** The control queue: shown read-only. */
  controlQueue: Queue;
  /** Other queues with full access, each with the description the board shows (the webhook deliveries). */
  otherQueues?: readonly { queue: Queue; description: string }[];
  /** Replays behind the board's retry of failed agent jobs; absent: Bull Board's own retry. */
  replays?: Pick<DlqService, 'replay' | 'replayMatching'>;
  /** Agent types, to tell an agent queue's name on the board's routes. */
  agentTypes?: readonly string[];
  /** ADMIN_TOKEN; empty means unset. */
  adminToken: string;
  /** Unset token leaves the board open (test, development) instead of refusing it (production). */
  openWhenUnset: boolean;
}

export interface BullBoardMount {
  path: string;
  router: Router;
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A URL path segment decoded, or undefined when it is malformed. */
const decoded = (part: string): string | undefined => {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
};

/** 405 for a write to `/api/queues/<name>/...` of a read-only queue (the UI hides these; the API must refuse them too). */
function refuseWritesTo(readOnly: ReadonlySet<string>) {
  return function readOnlyGate(req: Request, res: Response, next: NextFunction) {
    if (!WRITE_METHODS.has(req.method)) return next();
    const match = /^\/api\/queues\/([^/]+)(?:\/|$)/.exec(req.path);
    const name = match ? decoded(match[1]!) : undefined;
    if (name === undefined || !readOnly.has(name)) return next();
    res.set('Allow', 'GET, HEAD');
    res.status(405).json({ error: { code: 'READ_ONLY_QUEUE', message: `Queue ${name} is read-only on the board.` } });
  };
}

/** Who the audit trail names for a replay made on the board (it sits behind the one admin token). */
export const BULL_BOARD_ACTOR = 'bull-board';
/** A retry-all on the board replays at most this many failed jobs (the DLQ API's bulk maximum). */
const RETRY_ALL_MAX = 1000;
/** Replay refusals that are not about a stage job: left to Bull Board's own retry. */
const NOT_OURS = new Set(['DLQ_JOB_NOT_FOUND', 'DLQ_JOB_NOT_FAILED', 'DLQ_JOB_MALFORMED']);

/**
 * The board's `PUT /api/queues/<agent queue>/<job>/retry` and `PUT /api/queues/<agent queue>/retry/failed`
 * as DLQ replays. A job the DLQ does not own (not failed, not a stage job) falls through to Bull
 * Board; a replay the DLQ refuses (pipeline cancelled, stage not failed, …) answers its 409.
 */
function retriesAsReplays(replays: NonNullable<BullBoardDeps['replays']>, agentTypes: readonly string[]) {
  const agentOf = new Map(agentTypes.map((type) => [agentQueueName(type), type]));
  return async function replayGate(req: Request, res: Response, next: NextFunction) {
    if (req.method !== 'PUT') return next();
    const all = /^\/api\/queues\/([^/]+)\/retry\/failed$/.exec(req.path);
    const one = all ? null : /^\/api\/queues\/([^/]+)\/([^/]+)\/retry$/.exec(req.path);
    const agent = agentOf.get(decoded((all ?? one)?.[1] ?? '') ?? '');
    if (!agent) return next();
    try {
      if (all) {
        const report = await replays.replayMatching({ agent, limit: RETRY_ALL_MAX, actor: BULL_BOARD_ACTOR });
        res.json({ retried: report.replayed, skipped: report.matched - report.replayed });
        return;
      }
      const jobId = decoded(one![2]!);
      if (!jobId) return next();
      await replays.replay(jobId, { actor: BULL_BOARD_ACTOR });
      res.status(204).end();
    } catch (error) {
      if (error instanceof AppError && NOT_OURS.has(error.code)) return next();
      next(error);
    }
  };
}

export function createBullBoardMount(deps: BullBoardDeps): BullBoardMount {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: [
      ...deps.agentQueues.map((queue) => new BullMQAdapter(queue, { allowRetries: true })),
      new BullMQAdapter(deps.controlQueue, { readOnlyMode: true, allowRetries: false, description: 'Conductor messages (read-only)' }),
      ...(deps.otherQueues ?? []).map(({ queue, description }) => new BullMQAdapter(queue, { allowRetries: true, description })),
    ],
    serverAdapter,
    options: { uiConfig: { boardTitle: 'agentic-sdlc' } },
  });
  const router = Router();
  router.use(requireAdminToken(deps.adminToken, deps.openWhenUnset, { basicRealm: BULL_BOARD_REALM }));
  router.use(refuseWritesTo(new Set([deps.controlQueue.name])));
  if (deps.replays) router.use(retriesAsReplays(deps.replays, deps.agentTypes ?? []));
  router.use(serverAdapter.getRouter() as Router);
  return { path: BULL_BOARD_PATH, router };
}
