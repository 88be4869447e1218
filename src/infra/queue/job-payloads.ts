// zod schemas of the job payloads: what crosses Redis is validated on the way in.
import { z } from 'zod';

export const advanceJobSchema = z.object({
  pipelineId: z.uuid(),
  requestId: z.string().max(128).optional(),
  /** Re-add the jobs of stages already queued (see ControlQueue.requestAdvance). */
  redispatch: z.boolean().optional(),
});
export type AdvanceJob = z.infer<typeof advanceJobSchema>;

/** A decision's deadline: a delayed control job, so it survives restarts of every process. */
export const deadlineJobSchema = z.object({ decisionId: z.string().regex(/^DEC-\d{4}-\d{5,}$/) });
export type DeadlineJob = z.infer<typeof deadlineJobSchema>;

/** A reconciler pass (from its job scheduler): no data, the pass reads Postgres and Redis. */
export const reconcileJobSchema = z.object({});
export type ReconcileJob = z.infer<typeof reconcileJobSchema>;

export const stageJobSchema = z.object({
  /** Envelope version, so a worker can upcast what an older producer queued. */
  v: z.literal(1),
  pipelineId: z.uuid(),
  stageId: z.uuid(),
  stageKey: z.string(),
  requestId: z.string().max(128).optional(),
});
export type StageJob = z.infer<typeof stageJobSchema>;

export const cancelMessageSchema = z.object({ jobIds: z.array(z.string().min(1).max(200)) });
