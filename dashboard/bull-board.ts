// Bull Board at /admin/queues, behind the operator gate (ADMIN_TOKEN as Bearer, or as the HTTP
// Basic password so a browser can prompt for it). Agent queues allow retry, clean and promote;
// the control queue is read-only in the UI (readOnlyMode) and any write to its API answers 405.
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { requireAdminToken } from '../src/http/middleware/admin-auth.js';

/** Where the board is mounted; `setBasePath` must name the same path or its assets 404. */
export const BULL_BOARD_PATH = '/admin/queues';
export const BULL_BOARD_REALM = 'agentic-sdlc';

export interface BullBoardDeps {
  /** The agent queues: full access (retry, clean, promote). */
  agentQueues: readonly Queue[];
  /** The control queue: shown read-only. */
  controlQueue: Queue;
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

/** 405 for a write to `/api/queues/<name>/...` of a read-only queue (the UI hides these; the API must refuse them too). */
function refuseWritesTo(readOnly: ReadonlySet<string>) {
  return function readOnlyGate(req: Request, res: Response, next: NextFunction) {
    if (!WRITE_METHODS.has(req.method)) return next();
    const match = /^\/api\/queues\/([^/]+)(?:\/|$)/.exec(req.path);
    if (!match) return next();
    let name: string;
    try {
      name = decodeURIComponent(match[1]!);
    } catch {
      return next();
    }
    if (!readOnly.has(name)) return next();
    res.set('Allow', 'GET, HEAD');
    res.status(405).json({ error: { code: 'READ_ONLY_QUEUE', message: `Queue ${name} is read-only on the board.` } });
  };
}

export function createBullBoardMount(deps: BullBoardDeps): BullBoardMount {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: [
      ...deps.agentQueues.map((queue) => new BullMQAdapter(queue, { allowRetries: true })),
      new BullMQAdapter(deps.controlQueue, { readOnlyMode: true, allowRetries: false, description: 'Conductor messages (read-only)' }),
    ],
    serverAdapter,
    options: { uiConfig: { boardTitle: 'agentic-sdlc' } },
  });
  const router = Router();
  router.use(requireAdminToken(deps.adminToken, deps.openWhenUnset, { basicRealm: BULL_BOARD_REALM }));
  router.use(refuseWritesTo(new Set([deps.controlQueue.name])));
  router.use(serverAdapter.getRouter() as Router);
  return { path: BULL_BOARD_PATH, router };
}
