// Schedules (docs/pipeline-operations.md, "Schedules"): the create request, the timing rules
// (a cron expression in an IANA time zone, or an interval; start and end dates), the fire times
// they give, what a tick does under each overlap policy, and what a rebuild after a Redis loss
// catches up. Pure: the service and the repository take their decisions from here.
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { ValidationError, type ErrorDetail } from './errors.js';
import type { ScheduleState, ScheduleTickOutcome } from './status.js';
import { zodIssuesToDetails } from './zod-details.js';
import { CONTROL_CHARACTER_MESSAGE, isDisplayText } from './display-text.js';
import { LATEST_INSTANT_MS, isoInstant } from './instant.js';
import { can, type Identity, type Permission } from './identity.js';

/** What a tick does while an earlier run of the schedule is unfinished. */
export const OVERLAP_POLICIES = ['skip', 'queue_one', 'allow'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

/** Interval bounds: one second (the cron's own resolution) to 366 days; SCHEDULE_MIN_INTERVAL_MS may raise the floor. */
export const MIN_EVERY_MS = 1000;
export const MAX_EVERY_MS = 366 * 24 * 3600 * 1000;

/**
 * The request id of everything a schedule's tick does (its run's audit event, its log lines).
 * Reserved: the API refuses it from a client's X-Request-Id (http/middleware/request-id.ts), so
 * a request cannot pass for a scheduled run in the audit trail.
 */
export const SCHEDULE_REQUEST_ID_PREFIX = 'schedule:';
export const scheduleRequestId = (scheduleId: string): string => `${SCHEDULE_REQUEST_ID_PREFIX}${scheduleId}`;
/** True for an id under the reserved prefix, in any case: `SCHEDULE:…` reads as a tick's id to a person too. */
export const isScheduleRequestId = (id: string): boolean =>
  id.slice(0, SCHEDULE_REQUEST_ID_PREFIX.length).toLowerCase() === SCHEDULE_REQUEST_ID_PREFIX;

/**
 * Who may own a schedule: create one (POST /schedules), and have its ticks submit as itself.
 * A tick asks it again of the creator as it stands then, so a key lowered to `viewer` or
 * `approver` stops submitting, as its create would now be refused.
 */
export const SCHEDULE_OWNER_PERMISSIONS = ['schedule_own', 'schedule_any'] as const satisfies readonly Permission[];
export const mayOwnSchedules = (identity: Pick<Identity, 'roles'>): boolean => SCHEDULE_OWNER_PERMISSIONS.some((p) => can(identity, p));

/** How many fire times GET /schedules/:id shows by default, and at most. */
export const DEFAULT_NEXT_FIRES = 5;
export const MAX_NEXT_FIRES = 50;

const isoDate = isoInstant('an ISO 8601 date-time, e.g. 2027-01-31T02:00:00Z');

/** The body of POST /api/v1/schedules, as the HTTP edge parses it (the run itself is checked by the pipeline service). */
export const scheduleCreateSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(200).refine(isDisplayText, CONTROL_CHARACTER_MESSAGE).optional(),
    template: z.string().min(1).max(64).optional(),
    input: z.record(z.string(), z.unknown()).optional(),
    definition: z.record(z.string(), z.unknown()).optional(),
    labels: z.record(z.string(), z.unknown()).optional(),
    cron: z.string().trim().min(1).max(200).optional(),
    timezone: z.string().min(1).max(100).optional(),
    everyMs: z.number().int('a whole number of milliseconds').min(MIN_EVERY_MS).max(MAX_EVERY_MS).optional(),
    startAt: isoDate.optional(),
    endAt: isoDate.optional(),
    overlap: z.enum(OVERLAP_POLICIES).default('skip'),
  })
  .meta({ id: 'ScheduleCreate' });
export type ScheduleCreateRequest = z.output<typeof scheduleCreateSchema>;

/** When a schedule fires: exactly one of `cron` (with its time zone) and `everyMs`. */
export type ScheduleTiming =
  | { kind: 'cron'; cron: string; timezone: string; startAt: Date | null; endAt: Date | null }
  | { kind: 'every'; everyMs: number; startAt: Date | null; endAt: Date | null };

function invalid(details: ErrorDetail[]): ValidationError {
  return new ValidationError('VALIDATION_FAILED', 'The schedule is invalid.', { details });
}

/** True when the runtime knows the IANA zone (`Europe/Paris`, `UTC`). */
export function isKnownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Parses the body of POST /schedules (400 naming each field), without the run it submits. */
export function parseScheduleCreate(body: unknown): ScheduleCreateRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalid([{ field: '(body)', message: 'expected a JSON object' }]);
  const parsed = scheduleCreateSchema.safeParse(body);
  if (!parsed.success) throw invalid(zodIssuesToDetails(parsed.error));
  return parsed.data;
}

/** How many of a cron's next fire times are compared for the closest two (see timingOf). */
export const CRON_GAP_SAMPLES = 100;

/** What the deployment allows of a schedule's timing (SCHEDULE_MIN_INTERVAL_MS). */
export interface TimingBounds {
  /** The shortest interval, and the shortest gap between two fire times of a cron (at least MIN_EVERY_MS). */
  minIntervalMs: number;
}

/**
 * The shortest gap between two consecutive fire times of a cron among its next `samples` from
 * `from` (its start and end dates applied); null when it fires fewer than twice. Each cron field
 * repeats the same values under every value of the coarser ones, so the closest fires of a
 * pattern (seconds, minutes or hours apart) show within its first matched minute, hour or day.
 */
export function closestCronGapMs(
  timing: Extract<ScheduleTiming, { kind: 'cron' }>,
  from: number,
  samples = CRON_GAP_SAMPLES,
): number | null {
  const times = fireTimes(timing, from, samples).map((t) => t.getTime());
  let closest: number | null = null;
  for (let i = 1; i < times.length; i++) closest = Math.min(closest ?? Number.POSITIVE_INFINITY, times[i]! - times[i - 1]!);
  return closest;
}

/**
 * True when a cron uses cron-parser's `H` (a value drawn at random each time the expression is
 * parsed, `H 2 * * *`, `H/15 * * * *`, `H(0-29) …`). Each read of the fire times and each tick of
 * the job scheduler parses it again, so it would fire at another minute each time, twice in a
 * day or not at all; `THU` is a day name, not a hash.
 */
export function usesCronHash(cron: string): boolean {
  return cron
    .trim()
    .split(/\s+/)
    .some((field) => field.split(',').some((item) => /^H(?:$|[(/])/.test(item)));
}

/**
 * The timing of a request, checked as a whole against `now`: cron or everyMs (not both, not
 * neither), a cron expression cron-parser reads, a known time zone (default UTC, for cron only),
 * an end after the start and after now; an interval, or a cron's closest two fire times, no
 * shorter than `bounds.minIntervalMs`. Each problem names its field.
 */
export function timingOf(
  request: Pick<ScheduleCreateRequest, 'cron' | 'timezone' | 'everyMs' | 'startAt' | 'endAt'>,
  now: Date,
  bounds: TimingBounds = { minIntervalMs: MIN_EVERY_MS },
): ScheduleTiming {
  const details: ErrorDetail[] = [];
  const startAt = request.startAt === undefined ? null : new Date(request.startAt);
  const endAt = request.endAt === undefined ? null : new Date(request.endAt);
  if (request.cron !== undefined && request.everyMs !== undefined) {
    details.push({ field: 'cron', message: 'give either cron (with timezone) or everyMs, not both' });
  } else if (request.cron === undefined && request.everyMs === undefined) {
    details.push({ field: 'cron', message: 'give a cron expression (with timezone) or an interval (everyMs)' });
  }
  if (request.timezone !== undefined && request.cron === undefined) {
    details.push({ field: 'timezone', message: 'a time zone applies to a cron expression only' });
  }
  const timezone = request.timezone ?? 'UTC';
  if (!isKnownTimeZone(timezone))
    details.push({ field: 'timezone', message: `unknown IANA time zone "${timezone}" (e.g. "Europe/Paris", "UTC")` });
  else if (request.cron !== undefined && usesCronHash(request.cron)) {
    details.push({
      field: 'cron',
      message: 'H (a random value, drawn again each time the next fire is computed) is not supported: give the value itself',
    });
  } else if (request.cron !== undefined) {
    let parsed: ReturnType<typeof CronExpressionParser.parse> | undefined;
    try {
      parsed = CronExpressionParser.parse(request.cron, { tz: timezone, strict: false, currentDate: now });
    } catch (error) {
      details.push({ field: 'cron', message: `not a cron expression: ${(error as Error).message}` });
    }
    // `0 0 31 2 *` parses, then cron-parser finds no date ("loop limit exceeded"): recorded, it
    // would fail every read that lists its fire times, and its job scheduler.
    if (parsed && !parsed.hasNext()) {
      details.push({ field: 'cron', message: 'no date matches it (such as the 31st of February): it would never fire' });
    }
  }
  if (startAt && endAt && endAt.getTime() <= startAt.getTime()) details.push({ field: 'endAt', message: 'must be after startAt' });
  else if (endAt && endAt.getTime() <= now.getTime())
    details.push({ field: 'endAt', message: 'is in the past: the schedule would never run' });
  const minimum = `at least ${bounds.minIntervalMs} ms apart (SCHEDULE_MIN_INTERVAL_MS)`;
  if (request.everyMs !== undefined && request.everyMs < bounds.minIntervalMs)
    details.push({ field: 'everyMs', code: 'interval_too_short', message: `must be ${minimum}` });
  if (details.length > 0) throw invalid(details);
  if (request.cron === undefined) return { kind: 'every', everyMs: request.everyMs!, startAt, endAt };
  const timing: ScheduleTiming = { kind: 'cron', cron: request.cron, timezone, startAt, endAt };
  const gap = bounds.minIntervalMs > MIN_EVERY_MS ? closestCronGapMs(timing, now.getTime()) : null;
  if (gap !== null && gap < bounds.minIntervalMs) {
    throw invalid([{ field: 'cron', code: 'interval_too_short', message: `fires ${gap} ms apart; its fire times must be ${minimum}` }]);
  }
  return timing;
}

/** The first fire time of a new interval schedule: at startAt, else one interval from now (never at once). */
export function firstIntervalFire(timing: Extract<ScheduleTiming, { kind: 'every' }>, now: Date): number {
  return Math.max(timing.startAt?.getTime() ?? 0, now.getTime() + timing.everyMs);
}

/**
 * Up to `count` fire times from `first` on (the job scheduler's next tick when Redis has it), in
 * order, none after the end date nor after year 9999 (LATEST_INSTANT_MS: the API writes four-digit
 * years). A cron's are cron-parser's in its time zone; an interval's are `first` plus whole intervals.
 */
export function fireTimes(timing: ScheduleTiming, first: number, count: number): Date[] {
  const end = Math.min(timing.endAt?.getTime() ?? LATEST_INSTANT_MS, LATEST_INSTANT_MS);
  const times: number[] = [];
  if (timing.kind === 'every') {
    for (let t = first; times.length < count && t <= end; t += timing.everyMs) times.push(t);
  } else {
    // From 1 ms before `first`, so that `first` itself, when it is a fire time, is the first.
    const from = Math.max(first - 1, (timing.startAt?.getTime() ?? 0) - 1);
    const cron = CronExpressionParser.parse(timing.cron, { tz: timing.timezone, currentDate: new Date(from) });
    while (times.length < count) {
      let next: number;
      try {
        next = cron.next().getTime();
      } catch {
        // No date matches (`0 0 31 2 *`: timingOf refuses it now; a row stored before lists none, not a 500).
        break;
      }
      if (next > end) break;
      times.push(next);
    }
  }
  return times.map((t) => new Date(t));
}

/** A cron's next fire time after `after` (no end date applied); +Infinity when no date matches it (a row stored before timingOf refused those). */
function nextCronFire(timing: Extract<ScheduleTiming, { kind: 'cron' }>, after: number): number {
  const cron = CronExpressionParser.parse(timing.cron, { tz: timing.timezone, currentDate: new Date(after) });
  return cron.hasNext() ? cron.next().getTime() : Number.POSITIVE_INFINITY;
}

/** A schedule's state as shown: `ended` once its end date has passed, else as stored. */
export function scheduleStateAt(stored: 'active' | 'paused', endAt: Date | null, now: Date): ScheduleState {
  return endAt && endAt.getTime() <= now.getTime() ? 'ended' : stored;
}

/** What the guarded tick statement knows when it decides (read under the schedule row's lock). */
export interface TickSituation {
  state: 'active' | 'paused';
  overlap: OverlapPolicy;
  endAt: Date | null;
  /** The tick's time (the job scheduler's). */
  tickAt: Date;
  /** Runs of this schedule started and not finished (a run still being created counts). */
  unfinished: number;
  /** Ticks of this schedule waiting for the unfinished run (queue_one: at most one). */
  waiting: number;
}

export interface TickDecision {
  outcome: ScheduleTickOutcome;
  reason: string | null;
}

/**
 * What a tick does. Paused or past the end date: skipped. Then the overlap policy while a run
 * is unfinished: `allow` starts another; `skip` skips; `queue_one` leaves one tick waiting (and
 * skips the ones after it). A `queue_one` tick with nothing running but one waiting (its
 * promotion not yet done) is skipped: the waiting one goes first.
 */
export function decideTick(s: TickSituation): TickDecision {
  if (s.state === 'paused') return { outcome: 'skipped', reason: 'paused' };
  if (s.endAt && s.tickAt.getTime() > s.endAt.getTime()) return { outcome: 'skipped', reason: 'ended' };
  if (s.overlap === 'allow') return { outcome: 'started', reason: null };
  if (s.overlap === 'skip') return s.unfinished > 0 ? { outcome: 'skipped', reason: 'overlap' } : { outcome: 'started', reason: null };
  if (s.waiting > 0) return { outcome: 'skipped', reason: 'overlap' };
  return s.unfinished > 0 ? { outcome: 'waiting', reason: 'overlap' } : { outcome: 'started', reason: null };
}

/**
 * How the job scheduler is installed when Redis has none (a new schedule, a resume, or a rebuild
 * after Redis lost it). `startAt`: the first tick's time (BullMQ fires it at once when past);
 * `immediately`: a cron fires once now, then on its pattern.
 */
export interface SchedulerPlan {
  startAt: Date | null;
  immediately: boolean;
  /** True when the plan runs a tick that was missed while the scheduler was gone. */
  catchUp: boolean;
}

/**
 * Missed ticks policy, "run once on recovery": a rebuild (`recover`) of a schedule that missed
 * one or more ticks since `lastTickAt` (or since it was created) fires once now, whatever the
 * number missed, then keeps its timing. A new or resumed schedule (`recover` false) never
 * catches up: an interval fires one interval from now (or at its start date), a cron on its pattern.
 */
export function schedulerPlan(
  timing: ScheduleTiming,
  history: { createdAt: Date; lastTickAt: Date | null },
  now: Date,
  recover: boolean,
): SchedulerPlan {
  const end = timing.endAt?.getTime() ?? Number.POSITIVE_INFINITY;
  // Past its end date a schedule runs nothing, missed or not.
  if (now.getTime() > end) return { startAt: null, immediately: false, catchUp: false };
  const since = Math.max(history.lastTickAt?.getTime() ?? history.createdAt.getTime(), timing.startAt ? timing.startAt.getTime() - 1 : 0);
  if (timing.kind === 'every') {
    const due = history.lastTickAt ? history.lastTickAt.getTime() + timing.everyMs : firstIntervalFire(timing, history.createdAt);
    const missed = recover && due <= now.getTime();
    if (missed) return { startAt: now, immediately: false, catchUp: true };
    return { startAt: new Date(recover ? due : firstIntervalFire(timing, now)), immediately: false, catchUp: false };
  }
  const missed = recover && nextCronFire(timing, since) <= now.getTime();
  return { startAt: missed ? null : timing.startAt, immediately: missed, catchUp: missed };
}

/** A run's body as POST /pipelines takes it, and the name the schedule shows. */
export interface ScheduledRun {
  name: string;
  body: Record<string, unknown>;
  /** Where a problem the pipeline service finds in `body` sits in the schedule request (`definition.`, or none). */
  fieldPrefix: string;
  /** Fields of `body` the request sent beside the definition (`input`, `labels`): named without the prefix. */
  ownFields: readonly string[];
}

/**
 * Where a field the pipeline service names in a run's body (`stages[0].agent`, `labels.team`)
 * sits in the schedule request: inside the definition (`definition.stages[0].agent`), or where it
 * was sent beside it (`labels.team`); `(body)` is the definition itself.
 */
export function requestFieldOf(run: ScheduledRun, field: string): string {
  if (!run.fieldPrefix) return field;
  if (field === '(body)') return 'definition';
  const top = /^[^.[]+/.exec(field)?.[0];
  return top !== undefined && run.ownFields.includes(top) ? field : `${run.fieldPrefix}${field}`;
}

/**
 * The body each tick submits, from a request with a template (its input and labels) or a
 * definition (its input, if given, replacing the definition's; labels). The pipeline service
 * checks it as it checks a POST /pipelines (see ScheduleService.create).
 */
export function scheduledRunOf(request: ScheduleCreateRequest): ScheduledRun {
  const { template, definition, input, labels } = request;
  if (template !== undefined && definition !== undefined) {
    throw invalid([{ field: 'template', message: 'give either a template (with its input) or a definition, not both' }]);
  }
  if (template === undefined && definition === undefined) {
    throw invalid([{ field: 'template', message: 'give a template (with its input) or a pipeline definition' }]);
  }
  const extra = labels === undefined ? {} : { labels };
  if (template !== undefined) {
    return { name: request.name ?? template, body: { template, input: input ?? {}, ...extra }, fieldPrefix: '', ownFields: [] };
  }
  const body: Record<string, unknown> = { ...definition, ...(input === undefined ? {} : { input }), ...extra };
  const definitionName = typeof definition?.name === 'string' ? definition.name : 'schedule';
  const ownFields = [...(input === undefined ? [] : ['input']), ...(labels === undefined ? [] : ['labels'])];
  return { name: request.name ?? definitionName, body, fieldPrefix: 'definition.', ownFields };
}
