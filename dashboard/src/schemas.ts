// The API's answers as the dashboard reads them, checked with zod where they enter the page.
// Loose objects: the API may add fields; the ones named here are those the page shows. Fields
// newer API versions add (labels, traceId, a stage's jobId and queue) are optional.
import { z } from 'zod';
import { PIPELINE_STATUSES, SCHEDULE_STATES, STAGE_STATUSES } from '../../src/domain/status.js';
import { PIPELINE_PRIORITIES } from '../../src/domain/pipeline-priority.js';

const isoDate = z.string();
const json = z.unknown();

export const errorBodySchema = z.looseObject({
  error: z.looseObject({
    code: z.string(),
    message: z.string(),
    details: z.array(z.looseObject({ field: z.string().optional(), message: z.string() })).optional(),
  }),
});

export const whoamiSchema = z.looseObject({ id: z.string(), name: z.string(), kind: z.string(), roles: z.array(z.string()) });
export type Whoami = z.infer<typeof whoamiSchema>;

const labels = z.record(z.string(), z.string()).optional();

export const pipelineSummarySchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  status: z.enum(PIPELINE_STATUSES),
  submitter: z.string(),
  createdAt: isoDate,
  startedAt: isoDate.nullable(),
  finishedAt: isoDate.nullable(),
  error: json.nullable().optional(),
  cancelRequestedAt: isoDate.nullable().optional(),
  paused: z.looseObject({ at: isoDate, by: z.string(), reason: z.string().nullable() }).nullable().optional(),
  labels,
  traceId: z.string().nullable().optional(),
  priority: z.enum(PIPELINE_PRIORITIES).optional(),
  deadlineAt: isoDate.nullable().optional(),
  cancelReason: z.string().nullable().optional(),
});
export type PipelineSummary = z.infer<typeof pipelineSummarySchema>;

export const pipelinePageSchema = z.looseObject({ items: z.array(pipelineSummarySchema), nextCursor: z.string().nullable() });

export const stageSchema = z.looseObject({
  key: z.string(),
  agent: z.string(),
  dependsOn: z.array(z.string()),
  status: z.enum(STAGE_STATUSES),
  attempts: z.number(),
  progress: z.number(),
  output: json.nullable(),
  error: z.looseObject({ code: z.string(), message: z.string() }).nullable(),
  queuedAt: isoDate.nullable(),
  startedAt: isoDate.nullable(),
  finishedAt: isoDate.nullable(),
  durationMs: z.number().nullable(),
  category: z.string(),
  jobId: z.string().nullable().optional(),
  queue: z.string().nullable().optional(),
  /** Re-run from a stage: where a reused stage's output came from. */
  reused: z.looseObject({ fromPipeline: z.string(), fromStage: z.string() }).nullable().optional(),
});
export type Stage = z.infer<typeof stageSchema>;

export const decisionSummarySchema = z.looseObject({
  id: z.string(),
  pipelineId: z.string(),
  stageKey: z.string(),
  category: z.string(),
  status: z.string(),
  confidence: z.number(),
  deadlineAt: isoDate,
  createdAt: isoDate,
});
export type DecisionSummary = z.infer<typeof decisionSummarySchema>;

export const decisionSchema = decisionSummarySchema.extend({
  approvers: z.array(z.string()),
  quorum: z.number(),
  submitter: z.string(),
  evidence: z.record(z.string(), json),
  votes: z.array(z.looseObject({ actor: z.string(), verdict: z.string(), comment: z.string().nullable() })),
});
export type Decision = z.infer<typeof decisionSchema>;

export const clarificationSchema = z.looseObject({
  id: z.string(),
  pipelineId: z.string(),
  stageKey: z.string().nullable(),
  status: z.string(),
  questions: z.array(z.looseObject({ id: z.string(), reason: z.string(), question: z.string() })),
  askedBy: z.string(),
  createdAt: isoDate,
});
export type Clarification = z.infer<typeof clarificationSchema>;

export const pipelineSchema = pipelineSummarySchema.extend({
  durationMs: z.number().nullable(),
  stages: z.array(stageSchema),
  /** Set when `stages` holds the first ones only (over 100 stages, or over RESPONSE_PAGE_BYTES): the rest via /stages. */
  stagesNextCursor: z.string().nullable().optional(),
  decisions: z.array(decisionSummarySchema),
  clarifications: z.array(clarificationSchema),
  /** Re-run from a stage: the pipeline this one re-runs, the stages chosen, and its own re-runs. */
  rerunOf: z.string().nullable().optional(),
  rerunFrom: z.array(z.string()).optional(),
  reruns: z.array(z.looseObject({ id: z.string(), status: z.enum(PIPELINE_STATUSES), createdAt: isoDate })).optional(),
});
export type Pipeline = z.infer<typeof pipelineSchema>;

export const gateResultSchema = z.looseObject({
  metric: z.string(),
  operator: z.string(),
  threshold: json,
  value: json,
  verdict: z.string(),
  severity: z.string(),
  reason: z.string(),
});

export const runSchema = z.looseObject({
  stageKey: z.string(),
  attempt: z.number(),
  status: z.string(),
  gates: z.array(gateResultSchema),
  error: z.looseObject({ code: z.string(), message: z.string() }).nullable(),
  workerId: z.string(),
  startedAt: isoDate,
  finishedAt: isoDate.nullable(),
});
export type Run = z.infer<typeof runSchema>;
export const runListSchema = z.looseObject({ items: z.array(runSchema) });

export const dlqPageSchema = z.looseObject({
  items: z.array(z.looseObject({ jobId: z.string(), stageKey: z.string().nullable(), replayable: z.boolean() })),
});

export const timelineSchema = z.looseObject({
  pipelineId: z.string(),
  traceId: z.string().nullable().optional(),
  items: z.array(
    z.looseObject({
      at: isoDate,
      type: z.string(),
      stageKey: z.string().nullable().optional(),
      attempt: z.number().nullable().optional(),
      summary: z.string().optional(),
      data: json.optional(),
    }),
  ),
});
export type Timeline = z.infer<typeof timelineSchema>;

export const pageOf = <T extends z.ZodType>(item: T) => z.looseObject({ items: z.array(item), nextCursor: z.string().nullable() });

/** A schedule (GET /api/v1/schedules): when it fires, its state, its next fire time. */
export const scheduleSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  status: z.enum(SCHEDULE_STATES),
  cron: z.string().nullable(),
  timezone: z.string().nullable(),
  everyMs: z.number().nullable(),
  endAt: isoDate.nullable(),
  overlap: z.string(),
  owner: z.string(),
  pausedBy: z.string().nullable(),
  lastTickAt: isoDate.nullable(),
  nextFireTimes: z.array(isoDate),
});
export type Schedule = z.infer<typeof scheduleSchema>;

export const schedulePageSchema = z.looseObject({ items: z.array(scheduleSchema), nextCursor: z.string().nullable() });

/** An agent type (GET /api/v1/agents): its version, its workers, and whether its queue is paused. */
export const agentSchema = z.looseObject({
  type: z.string(),
  version: z.string(),
  workersOnline: z.number(),
  paused: z.boolean(),
  /** The platform's record of a pause; null when not paused, or paused in Redis outside the platform. */
  pause: z.looseObject({ at: isoDate, by: z.string(), reason: z.string().nullable() }).nullable(),
});
export type Agent = z.infer<typeof agentSchema>;

export const agentListSchema = z.looseObject({ items: z.array(agentSchema) });
