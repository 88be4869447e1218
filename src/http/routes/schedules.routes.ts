// /api/v1/schedules: create (a template or a definition, a cron with its time zone or an
// interval, start and end dates, an overlap policy), list with the next fire time, read one with
// its next fire times and latest ticks, pause, resume, delete. A create honours Idempotency-Key
// as POST /pipelines does (per creating identity; a replay answers 201 with Idempotent-Replayed).
// Access: read → viewer and up; create → schedule_own (submitter) or schedule_any (operator);
// pause, resume, delete → its creator (schedule_own), or schedule_any. Pause and resume take no
// body (or `{}`): any field is a 400 naming it.
import { Router } from 'express';
import { SCHEDULE_OWNER_PERMISSIONS } from '../../domain/schedule.js';
import type { ScheduleService } from '../../services/schedule.service.js';
import {
  scheduleChangeBodySchema,
  scheduleGetQuerySchema,
  scheduleListQuerySchema,
  toScheduleBody,
  toScheduleDetailBody,
} from '../contract/schedules.schema.js';
import { decodeCursor, page } from '../cursor.js';
import { actorOf, authorize } from '../middleware/authorize.js';
import { parseOrThrow, requireJson, uuidParam } from '../validate.js';
import { refuseWhileQueueDown } from './pipelines.routes.js';
import { idempotencyKeyOf, markReplayed } from '../idempotency-key.js';

export function schedulesRouter(service: ScheduleService, { queueReady = () => true }: { queueReady?: () => boolean } = {}): Router {
  const router = Router();
  // A change needs the queue (the job scheduler): refused at once while Redis is unreachable, before any write.
  const gate = refuseWhileQueueDown(queueReady);

  router.post('/', authorize(...SCHEDULE_OWNER_PERMISSIONS), gate, async (req, res) => {
    requireJson(req, 'the schedule');
    const { schedule, replayed } = await service.create(req.body, actorOf(req), { idempotencyKey: idempotencyKeyOf(req) });
    res.setHeader('Location', `${req.baseUrl}/${schedule.id}`);
    markReplayed(res, replayed);
    res.status(201).json(toScheduleBody(schedule));
  });

  router.get('/', authorize('read'), async (req, res) => {
    const query = parseOrThrow(scheduleListQuerySchema, req.query, 'Invalid query.');
    const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
    const found = page(await service.list({ limit: query.limit + 1, cursor }), query.limit);
    res.json({ items: found.items.map(toScheduleBody), nextCursor: found.nextCursor });
  });

  router.get('/:id', authorize('read'), async (req, res) => {
    const { id } = parseOrThrow(uuidParam, req.params, 'Invalid schedule id.');
    const query = parseOrThrow(scheduleGetQuerySchema, req.query, 'Invalid query.');
    res.json(toScheduleDetailBody(await service.get(id, { next: query.next })));
  });

  router.post('/:id/pause', authorize('schedule_own', 'schedule_any'), gate, async (req, res) => {
    const { id } = parseOrThrow(uuidParam, req.params, 'Invalid schedule id.');
    parseOrThrow(scheduleChangeBodySchema, req.body ?? {}, 'Invalid pause request.');
    res.json(toScheduleBody(await service.pause(id, actorOf(req))));
  });

  router.post('/:id/resume', authorize('schedule_own', 'schedule_any'), gate, async (req, res) => {
    const { id } = parseOrThrow(uuidParam, req.params, 'Invalid schedule id.');
    parseOrThrow(scheduleChangeBodySchema, req.body ?? {}, 'Invalid resume request.');
    res.json(toScheduleBody(await service.resume(id, actorOf(req))));
  });

  router.delete('/:id', authorize('schedule_own', 'schedule_any'), gate, async (req, res) => {
    const { id } = parseOrThrow(uuidParam, req.params, 'Invalid schedule id.');
    await service.delete(id, actorOf(req));
    res.status(204).end();
  });

  return router;
}
