// Bull Board at /admin/queues, for operators (the operator role; a browser sends the API key as
// the HTTP Basic password). The board cannot bypass the platform: every write is refused unless
// it is on a short allow-list, whatever the queue and however the path is spelt —
//   retry of failed jobs (a stage job's retry is a DLQ replay, which reopens the stage in Postgres
//   first; a webhook delivery's retry re-sends a stored event), promote of delayed jobs, and
//   pause/resume of an agent or webhook queue (an agent queue's, one or all, is the platform's
//   agent pause: recorded in Postgres, re-applied by the reconciler, audited by that service).
// Adding jobs, editing job data, delay or priority, cleaning, emptying, obliterating, concurrency,
// rate limits and job schedulers answer 403 BOARD_ACTION_REFUSED, and so does the retry of a job
// that is not failed (Bull Board's own retry also re-runs completed jobs: a delivered webhook would
// be sent again). The control queue is read-only.
// Every write that is let through is audited under the operator's identity.
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { ForbiddenError } from '../domain/errors.js';
import type { Actor } from '../domain/identity.js';
import type { Logger } from '../domain/logger.js';
import { actorOf, authorize } from '../http/middleware/authorize.js';
import { setRouteTemplate } from '../http/middleware/route-template.js';
import type { AgentPauseService } from '../services/agent-pause.service.js';
import type { DlqService } from '../services/dlq.service.js';
import type { AuditLog } from '../services/identity.ports.js';

/** Where the board is mounted; `setBasePath` must name the same path or its assets 404. */
export const BULL_BOARD_PATH = '/admin/queues';

export interface BullBoardDeps {
  /** The agent queues: retry (as DLQ replays), promote, pause/resume. */
  agentQueues: readonly Queue[];
  /** The control queue: shown read-only. */
  controlQueue: Queue;
  /** Other queues (the webhook deliveries), each with the description the board shows: retry, promote, pause/resume. */
  otherQueues?: readonly { queue: Queue; description: string }[];
  /** Replays behind the board's retry of failed agent jobs. */
  replays: Pick<DlqService, 'replay' | 'replayMatching'>;
  /** The agent-type pause behind the board's pause/resume of agent queues (one or all). */
  pauses: Pick<AgentPauseService, 'pause' | 'resume'>;
  /** Agent types, to tell an agent queue's name on the board's routes. */
  agentTypes: readonly string[];
  /** The queue name of an agent type (infra/queue/queue-names.ts), passed in: the board does not reach into infra. */
  agentQueueName(agentType: string): string;
  audit: Pick<AuditLog, 'record'>;
  /** Where a write that Bull Board did but the audit could not record is reported. */
  logger: Pick<Logger, 'error'>;
}

export interface BullBoardMount {
  path: string;
  router: Router;
}

/** Who the DLQ's records name as the channel of a board replay. */
export const BULL_BOARD_VIA = 'bull-board';
/** A retry-all on the board replays at most this many failed jobs (the DLQ API's bulk maximum). */
const RETRY_ALL_MAX = 1000;

/** A URL path segment decoded, or undefined when it is malformed. */
const decoded = (part: string): string | undefined => {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
};

type BoardWrite =
  | { action: 'retry_job'; queue: string; jobId: string }
  | { action: 'retry_all'; queue: string }
  | { action: 'promote_job'; queue: string; jobId: string }
  | { action: 'promote_all'; queue: string }
  | { action: 'pause' | 'resume'; queue: string }
  | { action: 'pause_all' | 'resume_all' };

// Matched case-insensitively, as Express routes are: a spelling variant is the same action.
const ALLOWED: readonly [string, RegExp, (m: string[]) => BoardWrite | undefined][] = [
  ['PUT', /^\/api\/queues\/pause\/?$/i, () => ({ action: 'pause_all' })],
  ['PUT', /^\/api\/queues\/resume\/?$/i, () => ({ action: 'resume_all' })],
  // Retry-all of failed jobs only: a completed stage job ran already, and its record stands.
  ['PUT', /^\/api\/queues\/([^/]+)\/retry\/failed\/?$/i, ([q]) => ({ action: 'retry_all', queue: q! })],
  ['PUT', /^\/api\/queues\/([^/]+)\/promote\/?$/i, ([q]) => ({ action: 'promote_all', queue: q! })],
  ['PUT', /^\/api\/queues\/([^/]+)\/pause\/?$/i, ([q]) => ({ action: 'pause', queue: q! })],
  ['PUT', /^\/api\/queues\/([^/]+)\/resume\/?$/i, ([q]) => ({ action: 'resume', queue: q! })],
  ['PUT', /^\/api\/queues\/([^/]+)\/([^/]+)\/retry\/?$/i, ([q, j]) => ({ action: 'retry_job', queue: q!, jobId: j! })],
  ['PUT', /^\/api\/queues\/([^/]+)\/([^/]+)\/promote\/?$/i, ([q, j]) => ({ action: 'promote_job', queue: q!, jobId: j! })],
];

/** Bull Board's own route template of each allowed write (its routes.js), for the latency label. */
const WRITE_TEMPLATES: Record<BoardWrite['action'], string> = {
  pause_all: '/api/queues/pause',
  resume_all: '/api/queues/resume',
  retry_all: '/api/queues/:queueName/retry/:queueStatus',
  promote_all: '/api/queues/:queueName/promote',
  pause: '/api/queues/:queueName/pause',
  resume: '/api/queues/:queueName/resume',
  retry_job: '/api/queues/:queueName/:jobId/retry',
  promote_job: '/api/queues/:queueName/:jobId/promote',
};

/**
 * Words Bull Board routes on where a job id would stand (`/<queue>/clean/retry` is its clean of
 * the `retry` state, not a retry of job `clean`): never a job id here.
 */
const BOARD_ROUTE_WORDS = new Set([
  'add',
  'clean',
  'retry',
  'promote',
  'pause',
  'resume',
  'empty',
  'obliterate',
  'concurrency',
  'rate-limit',
  'job-schedulers',
  'metrics',
  'workers',
]);

/** The allowed write a request is, with its segments decoded; undefined for anything else. */
export function classifyBoardWrite(method: string, path: string): BoardWrite | undefined {
  for (const [allowedMethod, pattern, build] of ALLOWED) {
    if (method !== allowedMethod) continue;
    const match = pattern.exec(path);
    if (!match) continue;
    const parts = match.slice(1).map(decoded);
    if (parts.some((p) => p === undefined)) return undefined;
    const write = build(parts as string[]);
    if (write && 'jobId' in write && BOARD_ROUTE_WORDS.has(write.jobId.toLowerCase())) return undefined;
    return write;
  }
  return undefined;
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function refused(message: string): ForbiddenError {
  return new ForbiddenError('BOARD_ACTION_REFUSED', message);
}

/**
 * Lets reads through, refuses every write that is not on the allow-list or that names a queue the
 * board does not show, runs stage-job retries as DLQ replays and agent-queue pauses/resumes as
 * agent pauses, and audits the writes it passes on.
 */
function guardWrites(deps: BullBoardDeps) {
  const agentOf = new Map(deps.agentTypes.map((type) => [deps.agentQueueName(type), type]));
  const otherQueues = (deps.otherQueues ?? []).map((o) => o.queue);
  const writable = new Map([...deps.agentQueues, ...otherQueues].map((q) => [q.name, q]));
  // What a pause/resume of all queues covers: the agent types through their pause, the rest by BullMQ's flag.
  const shownAgentTypes = deps.agentQueues.flatMap((q) => agentOf.get(q.name) ?? []);
  const flagQueues = [...deps.agentQueues.filter((q) => !agentOf.has(q.name)), ...otherQueues];
  const readOnly = deps.controlQueue.name;
  const via = { via: BULL_BOARD_VIA };
  /** Pauses or resumes an agent type as the API does: the record, its audit event, then the queue. */
  const pauseAgent = (action: 'pause' | 'resume', type: string, actor: Actor) =>
    action === 'pause' ? deps.pauses.pause(type, { reason: null, ...via }, actor) : deps.pauses.resume(type, actor, via);

  /** The refusal of a single-job retry of a job in `state`: the board retries failed jobs only. */
  const notFailed = (write: { queue: string; jobId: string }, state: string) =>
    refused(
      `Job ${write.jobId} of queue ${write.queue} is ${state}: the board retries failed jobs only` +
        (state === 'completed' ? ' (a completed job ran already: a retry would run it, or deliver its webhook, again).' : '.'),
    );

  /** Audits a write once it has answered with success; a row that cannot be written is an error in the log. */
  const auditOnSuccess = (res: Response, write: BoardWrite, actor: Actor) =>
    res.once('finish', () => {
      if (res.statusCode >= 400) return;
      const targetId = 'queue' in write ? write.queue : null;
      void deps.audit.record({ action: 'bullboard.action', actor, targetType: 'queue', targetId, data: { ...write } }).catch((error) =>
        deps.logger.error('bull board write done but not audited', {
          ...write,
          actor: actor.identity.id,
          requestId: actor.requestId,
          error: (error as Error).message,
        }),
      );
    });

  return async function boardWriteGate(req: Request, res: Response, next: NextFunction) {
    if (READ_METHODS.has(req.method)) return next();
    const write = classifyBoardWrite(req.method, req.path);
    // A write answered here (a DLQ replay, an agent pause) is labelled as Bull Board's router would label it.
    if (write) setRouteTemplate(res, `${BULL_BOARD_PATH}${WRITE_TEMPLATES[write.action]}`);
    if (!write)
      return next(
        refused(`${req.method} ${req.path} is not allowed on the board: it would bypass the platform's validation, gates or records.`),
      );
    if ('queue' in write && !writable.has(write.queue)) {
      return next(
        refused(
          write.queue === readOnly ? `Queue ${readOnly} is read-only on the board.` : `The board has no writable queue ${write.queue}.`,
        ),
      );
    }
    const actor = actorOf(req);
    const agent = 'queue' in write ? agentOf.get(write.queue) : undefined;
    try {
      // Failed jobs only, on every queue: Bull Board's retry takes the job's state as it finds it, completed included.
      if (write.action === 'retry_job') {
        const state = await writable.get(write.queue)!.getJobState(write.jobId);
        // An unknown job goes on: the DLQ, or Bull Board, answers 404 as they do.
        if (state !== 'failed' && state !== 'unknown') return next(notFailed(write, state));
      }
      if (agent && write.action === 'retry_all') {
        const report = await deps.replays.replayMatching({ agent, limit: RETRY_ALL_MAX }, actor, { via: BULL_BOARD_VIA });
        res.json({ retried: report.replayed, skipped: report.matched - report.replayed });
        return;
      }
      if (agent && write.action === 'retry_job') {
        await deps.replays.replay(write.jobId, actor, { via: BULL_BOARD_VIA });
        res.status(204).end();
        return;
      }
      // Done here, not by Bull Board, so that it is atomic: BullMQ moves the job only out of the
      // failed set, so a job another retry sent and completed meanwhile is not retried again.
      if (write.action === 'retry_job') {
        const job = await writable.get(write.queue)!.getJob(write.jobId);
        if (job) {
          try {
            await job.retry('failed');
          } catch (error) {
            const now = await job.getState();
            if (now !== 'failed') return next(notFailed(write, now));
            throw error;
          }
          auditOnSuccess(res, write, actor);
          res.status(204).end(); // Bull Board's own answer to a retry
          return;
        }
      }
      // Bull Board would only flip BullMQ's flag: the platform's pause record would not know, and
      // the reconciler would undo a resume of a recorded pause. The agent-pause service audits.
      if (agent && (write.action === 'pause' || write.action === 'resume')) {
        await pauseAgent(write.action, agent, actor);
        res.json({}); // Bull Board's own answer to a pause or resume
        return;
      }
      if (write.action === 'pause_all' || write.action === 'resume_all') {
        const action = write.action === 'pause_all' ? 'pause' : 'resume';
        for (const type of shownAgentTypes) await pauseAgent(action, type, actor);
        // The other writable queues (webhooks) have no platform record: BullMQ's flag, as Bull Board does.
        for (const queue of flagQueues) await (action === 'pause' ? queue.pause() : queue.resume());
        if (flagQueues.length > 0) auditOnSuccess(res, write, actor);
        res.json({});
        return;
      }
    } catch (error) {
      return next(error);
    }
    // Passed on to Bull Board; audited once it succeeded. Redis has changed by then: a row that
    // cannot be written is an error in the log, naming the write and who made it.
    auditOnSuccess(res, write, actor);
    next();
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
  // The board's page and files have no Express route: one label for them (its API routes name their own).
  router.use(function labelBoardRequests(_req: Request, res: Response, next: NextFunction) {
    setRouteTemplate(res, `${BULL_BOARD_PATH}/{*path}`);
    next();
  });
  router.use(authorize('operate'));
  router.use(guardWrites(deps));
  // The adapter's router is an Express app of its own, which would announce itself again.
  const boardApp = serverAdapter.getRouter() as Router & { disable(setting: string): unknown };
  boardApp.disable('x-powered-by');
  router.use(boardApp);
  return { path: BULL_BOARD_PATH, router };
}
