// What `pipelines prune` may delete: pipelines in a terminal status (TERMINAL_PIPELINE_STATUSES,
// the one home of "finished") that finished before a cutoff, and none of whose stages can still
// change. Pure: the operator's --older-than and --status, parsed, and the cutoff they give.
import { z } from 'zod';
import { DURATION_UNITS_MS, durationSchemaUpTo } from './duration.js';
import { TERMINAL_PIPELINE_STATUSES, UNFINISHED_STAGE_STATUSES, type PipelineStatus, type StageStatus } from './status.js';

/** The statuses a prune may select, all of them by default. */
export const PRUNABLE_STATUSES: readonly PipelineStatus[] = [...TERMINAL_PIPELINE_STATUSES];

/** A pipeline with a stage in one of these is left alone whatever its own status (nothing of it may still run). */
export const PRUNE_BLOCKING_STAGE_STATUSES: readonly StageStatus[] = UNFINISHED_STAGE_STATUSES;

/**
 * `--older-than`: at least a day, so that `3m` (minutes, not months) cannot empty the history by
 * accident; at most ten years.
 */
export const pruneAgeSchema = durationSchemaUpTo(3650 * DURATION_UNITS_MS.d, '3650d').refine(
  (ms) => ms >= DURATION_UNITS_MS.d,
  'must be at least 1d ("m" is minutes): a prune removes pipelines that finished days ago',
);

/** `--status succeeded,failed`: finished statuses only, each once, in the order of PRUNABLE_STATUSES. */
export const pruneStatusesSchema = z
  .string()
  .transform((text) => text.split(',').map((s) => s.trim()))
  .superRefine((items, ctx) => {
    if (items.length === 0 || !items.every(Boolean)) {
      ctx.addIssue({ code: 'custom', message: 'a comma-separated list of statuses' });
      return;
    }
    const unknown = items.filter((s) => !(PRUNABLE_STATUSES as readonly string[]).includes(s));
    if (unknown.length > 0)
      ctx.addIssue({
        code: 'custom',
        message: `only finished pipelines are pruned: ${unknown.map((s) => `"${s}"`).join(', ')} is not one of ${PRUNABLE_STATUSES.join(', ')}`,
      });
  })
  .transform((items) => PRUNABLE_STATUSES.filter((s) => items.includes(s)));

/** Pipelines that finished before this instant are old enough. */
export function pruneCutoff(now: Date, olderThanMs: number): Date {
  return new Date(now.getTime() - olderThanMs);
}
