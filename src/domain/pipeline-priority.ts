// Pipeline priorities and deadlines, pure: the vocabulary (urgent, high, normal, low), the number
// each level is in BullMQ (lower runs first), who may ask for which level, aging (how waiting
// lifts a level, so low priority is never starved for long), and a submission's deadline.
// The one home of these rules: admission (admission.ts), the agent jobs (infra/queue) and the
// aging pass all take them from here. docs/pipeline-operations.md explains them.
import { z } from 'zod';
import { durationSchemaUpTo } from './duration.js';
import { ForbiddenError, ValidationError, type ErrorDetail } from './errors.js';
import { can, type Identity } from './identity.js';

/** From most to least urgent. Postgres keeps the same order (the `PipelinePriority` enum). */
export const PIPELINE_PRIORITIES = ['urgent', 'high', 'normal', 'low'] as const;
export type PipelinePriority = (typeof PIPELINE_PRIORITIES)[number];
export const DEFAULT_PRIORITY: PipelinePriority = 'normal';
export const pipelinePrioritySchema = z.enum(PIPELINE_PRIORITIES);

/** The least urgent level's rank: aging counts down from it. */
const LOWEST_RANK = PIPELINE_PRIORITIES.length;

/** 1 (urgent) … 4 (low). Also the BullMQ job priority: BullMQ takes lower numbers first. */
export function priorityRank(priority: PipelinePriority): number {
  return PIPELINE_PRIORITIES.indexOf(priority) + 1;
}

/** The level of a rank (clamped to 1…4). */
export function priorityOfRank(rank: number): PipelinePriority {
  const index = Math.min(LOWEST_RANK, Math.max(1, Math.trunc(rank))) - 1;
  return PIPELINE_PRIORITIES[index]!;
}

/**
 * The BullMQ `priority` option of a stage job of a pipeline at this level. Never 0: BullMQ takes
 * jobs without a priority before every prioritized one, so every stage job carries one.
 */
export function jobPriority(priority: PipelinePriority): number {
  return priorityRank(priority);
}

/**
 * Aging: the most urgent rank anything that has waited `waitedMs` may be held at. Every
 * `stepMs` of waiting lifts the cap one level, counting down from `low`: after one step nothing
 * waits as `low`, after two nothing below `high`, after three everything competes as `urgent`.
 * `stepMs` 0 turns aging off (the cap stays at `low`).
 */
export function agingCap(waitedMs: number, stepMs: number): number {
  if (stepMs <= 0 || waitedMs <= 0) return LOWEST_RANK;
  return Math.max(1, LOWEST_RANK - Math.floor(waitedMs / stepMs));
}

/** The rank a `priority` pipeline (or job) competes at after waiting `waitedMs`: its own, or the aging cap when that is more urgent. */
export function effectiveRank(priority: PipelinePriority, waitedMs: number, stepMs: number): number {
  return Math.min(priorityRank(priority), agingCap(waitedMs, stepMs));
}

/**
 * The wait after which anything competes as `urgent`, whatever its level: the cap is
 * `low - floor(waited / step)`, so `(levels - 1) × step` (0 with aging off: no bound).
 */
export function urgentAfterMs(stepMs: number): number {
  return stepMs <= 0 ? 0 : (LOWEST_RANK - 1) * stepMs;
}

/** The most urgent level a caller without the `prioritize` permission may ask for. */
export const UNPRIVILEGED_MAX_PRIORITY: PipelinePriority = 'high';

/**
 * 403 PRIORITY_FORBIDDEN unless the identity may set this level: `urgent` needs the `prioritize`
 * permission (operators, admins), so that nobody starves everyone else by marking all urgent.
 */
export function checkPriorityAllowed(priority: PipelinePriority, identity: Pick<Identity, 'roles' | 'name'>): void {
  if (priorityRank(priority) >= priorityRank(UNPRIVILEGED_MAX_PRIORITY) || can(identity, 'prioritize')) return;
  throw new ForbiddenError(
    'PRIORITY_FORBIDDEN',
    `${identity.name} may submit up to priority "${UNPRIVILEGED_MAX_PRIORITY}"; "${priority}" needs the operator role.`,
    { details: [{ field: 'priority', message: `"${priority}" needs the prioritize permission (operator or admin)` }] },
  );
}

/** The cancel reason recorded on a pipeline its deadline cancelled. */
export const DEADLINE_EXCEEDED = 'DEADLINE_EXCEEDED';

export interface DeadlineBounds {
  /** How far ahead a deadline may be (PIPELINE_DEADLINE_MAX_MS). */
  maxMs: number;
}

/** The priority and deadline a submission asks for (the body's `priority`, `deadline`, `deadlineIn`). */
export interface SubmissionScheduling {
  priority: PipelinePriority;
  /** When an unfinished pipeline is cancelled with DEADLINE_EXCEEDED; null: never. */
  deadlineAt: Date | null;
}

const isoDateTimeSchema = z.iso.datetime({
  offset: true,
  error: 'must be an ISO 8601 date-time with a time zone, e.g. 2026-12-24T18:00:00Z',
});

/**
 * Reads `priority` (default normal), and a deadline given as `deadline` (an ISO date-time) or
 * `deadlineIn` (a duration from now, "30m", "4h"), never both. A deadline must lie after `now`
 * and at most `bounds.maxMs` ahead. 400 VALIDATION_FAILED naming each offending field.
 */
export function parseScheduling(
  raw: { priority?: unknown; deadline?: unknown; deadlineIn?: unknown },
  now: Date,
  bounds: DeadlineBounds,
): SubmissionScheduling {
  const details: ErrorDetail[] = [];
  let priority: PipelinePriority = DEFAULT_PRIORITY;
  if (raw.priority !== undefined) {
    const parsed = pipelinePrioritySchema.safeParse(raw.priority);
    if (parsed.success) priority = parsed.data;
    else details.push({ field: 'priority', code: 'invalid_priority', message: `must be one of ${PIPELINE_PRIORITIES.join(', ')}` });
  }
  let deadlineAt: Date | null = null;
  if (raw.deadline !== undefined && raw.deadlineIn !== undefined) {
    details.push({ field: 'deadline', message: 'give either deadline or deadlineIn, not both' });
  } else if (raw.deadline !== undefined) {
    const parsed = isoDateTimeSchema.safeParse(raw.deadline);
    if (!parsed.success) details.push({ field: 'deadline', message: parsed.error.issues[0]!.message });
    else {
      deadlineAt = new Date(parsed.data);
      const ahead = deadlineAt.getTime() - now.getTime();
      if (ahead <= 0) details.push({ field: 'deadline', code: 'deadline_past', message: `${parsed.data} is not in the future` });
      else if (ahead > bounds.maxMs)
        details.push({
          field: 'deadline',
          code: 'deadline_too_far',
          message: `at most ${bounds.maxMs} ms ahead (PIPELINE_DEADLINE_MAX_MS)`,
        });
    }
  } else if (raw.deadlineIn !== undefined) {
    const parsed = durationSchemaUpTo(bounds.maxMs, `${bounds.maxMs} ms (PIPELINE_DEADLINE_MAX_MS)`).safeParse(raw.deadlineIn);
    if (!parsed.success) details.push({ field: 'deadlineIn', message: parsed.error.issues[0]!.message });
    else deadlineAt = new Date(now.getTime() + parsed.data);
  }
  if (details.length > 0) throw new ValidationError('VALIDATION_FAILED', 'Invalid priority or deadline.', { details });
  return { priority, deadlineAt };
}
