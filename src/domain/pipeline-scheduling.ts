// What a submission asks for besides its definition, pure: its priority (and whether the caller
// may ask for it) and its deadline. The vocabulary and aging are in pipeline-priority.ts;
// docs/pipeline-operations.md, "Priorities and deadlines", explains both.
import { z } from 'zod';
import { durationSchemaUpTo } from './duration.js';
import { ForbiddenError, ValidationError, type ErrorDetail } from './errors.js';
import { can, type Identity } from './identity.js';
import { DEFAULT_PRIORITY, PIPELINE_PRIORITIES, pipelinePrioritySchema, priorityRank, type PipelinePriority } from './pipeline-priority.js';

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

/**
 * The priority a pipeline takes over from the one it re-runs: the same, except that a caller who
 * may not ask for more than UNPRIVILEGED_MAX_PRIORITY gets that much (a submitter re-running an
 * urgent pipeline an operator raised is not refused for it).
 */
export function inheritedPriority(priority: PipelinePriority, identity: Pick<Identity, 'roles'>): PipelinePriority {
  if (priorityRank(priority) >= priorityRank(UNPRIVILEGED_MAX_PRIORITY) || can(identity, 'prioritize')) return priority;
  return UNPRIVILEGED_MAX_PRIORITY;
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
