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

/** A pipeline's deadline: a delayed control job (job id `pipeline-deadline-<id>-<ms>`). */
export const pipelineDeadlineJobSchema = z.object({ pipelineId: z.uuid() });
export type PipelineDeadlineJob = z.infer<typeof pipelineDeadlineJobSchema>;

/** An aging pass (from its job scheduler): no data, the pass reads the agent queues. */
export const priorityAgingJobSchema = z.object({});
export type PriorityAgingJob = z.infer<typeof priorityAgingJobSchema>;

/** A reconciler pass (from its job scheduler): no data, the pass reads Postgres and Redis. */
export const reconcileJobSchema = z.object({});
export type ReconcileJob = z.infer<typeof reconcileJobSchema>;

/** The job data queued before envelopes (still accepted: jobs queued before a deploy must run). */
export const stageJobV1Schema = z.object({
  /** Job data version, so a worker can read what an older producer queued. */
  v: z.literal(1),
  pipelineId: z.uuid(),
  stageId: z.uuid(),
  stageKey: z.string(),
  requestId: z.string().max(128).optional(),
});

/**
 * The header of the stage envelope (domain/stage-envelope.ts): ids, the contract version the
 * input was written under, trace and correlation ids. The input, upstream outputs and run id
 * are not here: the claim reads them from Postgres (the record), so jobs stay small.
 */
export const stageJobV2Schema = z.object({
  v: z.literal(2),
  contractVersion: z.number().int().min(1),
  pipelineId: z.uuid(),
  stageId: z.uuid(),
  stageKey: z.string(),
  traceparent: z
    .string()
    .regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/)
    .optional(),
  correlationId: z.string().max(128).optional(),
});

/**
 * Either version, read as one shape: `requestId` is v1's, or v2's correlation id. Told apart by
 * `v`, so each job is checked against its own version only (a plain union would check every v2
 * job against v1 first, and build that failure's issues, on each stage's path).
 */
export const stageJobSchema = z
  .discriminatedUnion('v', [stageJobV1Schema, stageJobV2Schema])
  .transform((job) =>
    job.v === 1
      ? { ...job, contractVersion: undefined, traceparent: undefined, correlationId: job.requestId }
      : { ...job, requestId: job.correlationId },
  );
/** What producers write (either version; new jobs are v2). */
export type StageJob = z.input<typeof stageJobSchema>;
export type StageJobV2 = z.infer<typeof stageJobV2Schema>;
/** A parsed job of either version. */
export type ParsedStageJob = z.output<typeof stageJobSchema>;

export const cancelMessageSchema = z.object({ jobIds: z.array(z.string().min(1).max(200)) });

/** A schedule's tick (from its job scheduler): the tick's time is the job id's `repeat:<scheduler id>:<millis>` suffix. */
export const scheduleTickJobSchema = z.object({ scheduleId: z.uuid() });
export type ScheduleTickJob = z.infer<typeof scheduleTickJobSchema>;

/** The tick time of a job-scheduler job, from its id (`repeat:schedule:<id>:<millis>`); null for any other id. */
export function tickTimeOf(jobId: string | undefined): Date | null {
  const match = /^repeat:.+:(\d{10,})$/.exec(jobId ?? '');
  return match ? new Date(Number(match[1])) : null;
}
