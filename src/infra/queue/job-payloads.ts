// zod schemas of the job payloads: what crosses Redis is validated on the way in.
import { z } from 'zod';

export const advanceJobSchema = z.object({
  pipelineId: z.uuid(),
  requestId: z.string().max(128).optional(),
  /** Re-add the jobs of stages already queued (see ControlQueue.requestAdvance). */
  redispatch: z.boolean().optional(),
});
export type AdvanceJob = z.infer<typeof advanceJobSchema>;

export const stageJobSchema = z.object({
  /** Envelope version, so a worker can upcast what an older producer queued. */
  v: z.literal(1),
  pipelineId: z.uuid(),
  stageId: z.uuid(),
  stageKey: z.string(),
  requestId: z.string().max(128).optional(),
});
export type StageJob = z.infer<typeof stageJobSchema>;

export const cancelMessageSchema = z.object({ stageIds: z.array(z.uuid()) });
