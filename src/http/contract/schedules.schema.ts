// The public shape of schedules and their ticks, the request schemas of /api/v1/schedules, and
// the mapping from the service's views (services/schedule.service.ts) to that shape.
import { z } from 'zod';
import { DEFAULT_NEXT_FIRES, MAX_NEXT_FIRES, OVERLAP_POLICIES, scheduleCreateSchema } from '../../domain/schedule.js';
import { PIPELINE_STATUSES, SCHEDULE_STATES, SCHEDULE_TICK_OUTCOMES } from '../../domain/status.js';
import type { ScheduleDetail, ScheduleView } from '../../services/schedule.service.js';
import type { ScheduleTickRecord } from '../../services/schedule.ports.js';
import { cursorPage, idempotencyKeyHeader, isoDate, jsonObject, toIso, toIsoOrNull, wholeNumberParam } from './common.schema.js';
import { noFieldsBodySchema } from './decisions.schema.js';

// --- requests -------------------------------------------------------------------------------

/** For the document: the schedule service checks it (domain/schedule.ts), naming each field. */
export const scheduleCreateBodySchema = scheduleCreateSchema;

export const scheduleCreateHeadersSchema = z.object({
  'idempotency-key': idempotencyKeyHeader(
    'A retried create with the same key and body answers the first schedule (Idempotent-Replayed: true); keys are per creating identity.',
  ),
});

export const scheduleListQuerySchema = z
  .object({
    limit: wholeNumberParam(1, 100).default(20),
    cursor: z.string().max(200).optional(),
  })
  .strict();

export const scheduleGetQuerySchema = z
  .object({
    next: wholeNumberParam(1, MAX_NEXT_FIRES)
      .default(DEFAULT_NEXT_FIRES)
      .meta({ description: `How many next fire times to show (default ${DEFAULT_NEXT_FIRES}, at most ${MAX_NEXT_FIRES}).` }),
  })
  .strict();

/**
 * The body of POST /schedules/:id/pause and /resume: none, or `{}`. A schedule's pause records who
 * (the authenticated caller), never why, so a `reason` is refused rather than dropped unseen.
 */
export const scheduleChangeBodySchema = noFieldsBodySchema;

// --- responses ------------------------------------------------------------------------------

export const scheduleTickSchema = z
  .object({
    scheduledFor: isoDate.meta({ description: 'The tick’s time (the job scheduler’s): the `scheduledFor` of the run it started.' }),
    outcome: z.enum(SCHEDULE_TICK_OUTCOMES),
    reason: z
      .string()
      .nullable()
      .meta({ description: '`overlap`, `paused`, `ended`, or the error code of a refused submission; null when it started.' }),
    pipelineId: z.uuid().nullable(),
    pipelineStatus: z.enum(PIPELINE_STATUSES).nullable(),
    recordedAt: isoDate,
  })
  .meta({ id: 'ScheduleTick' });

export const scheduleSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    status: z.enum(SCHEDULE_STATES),
    cron: z.string().nullable(),
    timezone: z.string().nullable(),
    everyMs: z.number().int().nullable(),
    startAt: isoDate.nullable(),
    endAt: isoDate.nullable(),
    overlap: z.enum(OVERLAP_POLICIES),
    owner: z.string().meta({ description: 'The identity that created it: each run is submitted as this identity.' }),
    pausedBy: z.string().nullable().meta({
      description:
        'The identity that paused it, null when it is not paused: only that identity or an operator (schedule_any) may resume it.',
    }),
    request: jsonObject.meta({ description: 'The body each tick submits, as POST /pipelines takes it.' }),
    createdAt: isoDate,
    updatedAt: isoDate,
    lastTickAt: isoDate.nullable(),
    nextFireTimes: z.array(isoDate).meta({ description: 'The next fire times (none while paused or ended).' }),
  })
  .meta({ id: 'Schedule' });

export const scheduleDetailSchema = scheduleSchema
  .extend({ ticks: z.array(scheduleTickSchema).meta({ description: 'The latest ticks, newest first.' }) })
  .meta({ id: 'ScheduleDetail' });

export const schedulePageSchema = cursorPage(scheduleSchema);

export type ScheduleBody = z.infer<typeof scheduleSchema>;

export function toScheduleBody(s: ScheduleView): ScheduleBody {
  const { timing } = s;
  return {
    id: s.id,
    name: s.name,
    status: s.status,
    cron: timing.kind === 'cron' ? timing.cron : null,
    timezone: timing.kind === 'cron' ? timing.timezone : null,
    everyMs: timing.kind === 'every' ? timing.everyMs : null,
    startAt: toIsoOrNull(timing.startAt),
    endAt: toIsoOrNull(timing.endAt),
    overlap: s.overlap,
    owner: s.owner,
    pausedBy: s.pausedBy ?? null,
    request: s.request,
    createdAt: toIso(s.createdAt),
    updatedAt: toIso(s.updatedAt),
    lastTickAt: toIsoOrNull(s.lastTickAt),
    nextFireTimes: s.nextFireTimes.map(toIso),
  };
}

function toTickBody(t: ScheduleTickRecord): z.infer<typeof scheduleTickSchema> {
  return {
    scheduledFor: toIso(t.scheduledFor),
    outcome: t.outcome,
    reason: t.reason,
    pipelineId: t.pipelineId,
    pipelineStatus: t.pipelineStatus,
    recordedAt: toIso(t.createdAt),
  };
}

export function toScheduleDetailBody(s: ScheduleDetail): z.infer<typeof scheduleDetailSchema> {
  return { ...toScheduleBody(s), ticks: s.ticks.map(toTickBody) };
}
