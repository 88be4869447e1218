// Pipeline priorities, pure: the vocabulary (urgent, high, normal, low), the number each level is
// in BullMQ (lower runs first), and aging (how waiting lifts a level, so low priority is never
// starved for long). The one home of these rules: admission (admission.ts), the agent jobs
// (infra/queue), the aging pass and the dashboard take them from here; who may ask for which
// level and a submission's deadline are in pipeline-scheduling.ts. docs/pipeline-operations.md
// explains them.
import { z } from 'zod';

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
