// The one declaration of the status vocabularies. The Prisma enums (prisma/schema.prisma), the
// zod enums at the HTTP edge and every SQL guard take their lists from here (the SQL through
// src/domain/stage-lifecycle.ts), so a status is added in one place.

/**
 * `waiting`: held by an open decision or clarification; it neither runs nor blocks. `paused`:
 * released while its pipeline is paused; it neither runs nor blocks until the pipeline resumes.
 */
export const STAGE_STATUSES = ['pending', 'queued', 'running', 'succeeded', 'failed', 'skipped', 'cancelled', 'waiting', 'paused'] as const;
export type StageStatus = (typeof STAGE_STATUSES)[number];

/** `queued`: admission control keeps it from starting; `running` until every stage is terminal. */
export const PIPELINE_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type PipelineStatus = (typeof PIPELINE_STATUSES)[number];

/** How one attempt (a stage_runs row) ended; `abandoned`: its worker was lost. */
export const RUN_STATUSES = ['running', 'succeeded', 'failed', 'cancelled', 'abandoned', 'suspended'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const DECISION_STATUSES = ['pending', 'escalated', 'approved', 'rejected', 'expired', 'cancelled'] as const;
export type DecisionStatus = (typeof DECISION_STATUSES)[number];
/** A decision that still holds its stage. */
export const OPEN_DECISION_STATUSES: ReadonlySet<DecisionStatus> = new Set(['pending', 'escalated']);

export const CLARIFICATION_STATUSES = ['open', 'answered', 'cancelled'] as const;
export type ClarificationStatus = (typeof CLARIFICATION_STATUSES)[number];

export const TERMINAL_STAGE_STATUSES: ReadonlySet<StageStatus> = new Set(['succeeded', 'failed', 'skipped', 'cancelled']);
export const TERMINAL_PIPELINE_STATUSES: ReadonlySet<PipelineStatus> = new Set(['succeeded', 'failed', 'cancelled']);

/** Stages that may still change on their own (not terminal). */
export const UNFINISHED_STAGE_STATUSES: readonly StageStatus[] = STAGE_STATUSES.filter((s) => !TERMINAL_STAGE_STATUSES.has(s));

/**
 * Stages that still move without a person (released, queued, running): while a pipeline has one,
 * it is not settled; once it has none, the conductor decides what follows (skips, a hold, the outcome).
 */
export const MOVING_STAGE_STATUSES: readonly StageStatus[] = ['pending', 'queued', 'running'];

/** A schedule (docs/pipeline-operations.md): ticking, paused by a person, or past its end date (read from `end_at`, never stored). */
/** Statuses in which a stage's error, when it has one, is its previous attempt's: the next attempt waits or runs. */
export const ERROR_OF_PREVIOUS_ATTEMPT_STATUSES: ReadonlySet<StageStatus> = new Set(['queued', 'running']);

export const SCHEDULE_STATES = ['active', 'paused', 'ended'] as const;
export type ScheduleState = (typeof SCHEDULE_STATES)[number];

/**
 * What one tick of a schedule did: `started` a run, left one `waiting` for the unfinished run
 * (overlap `queue_one`; started once that run finishes), `skipped` (overlap, paused, ended), or
 * `failed` (the submission was refused: the definition no longer validates, the backlog is full).
 */
export const SCHEDULE_TICK_OUTCOMES = ['started', 'waiting', 'skipped', 'failed'] as const;
export type ScheduleTickOutcome = (typeof SCHEDULE_TICK_OUTCOMES)[number];
