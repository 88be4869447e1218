// The public shape of pipelines, stages and runs, the request schemas of /api/v1/pipelines, and
// the mapping from the service's views (services/pipeline.ports.ts, stage-run.ports.ts) to that
// shape. The mapping names each field: a column added to a view does not reach the API until it
// is added here.
import { z } from 'zod';
import { DECISION_CATEGORIES } from '../../domain/decision-policy.js';
import { GATE_OPERATORS } from '../../domain/gates.js';
import { LABEL_KEY_PATTERN, MAX_LABEL_VALUE_LENGTH, MAX_LABELS, parseLabelFilter } from '../../domain/pipeline-labels.js';
import { PIPELINE_PRIORITIES } from '../../domain/pipeline-priority.js';
import { STAGE_CURSOR_PATTERN, STAGE_PAGE_MAX } from '../../domain/response-paging.js';
import { PIPELINE_STATUSES, RUN_STATUSES, STAGE_STATUSES } from '../../domain/status.js';
import { rerunRequestSchema } from '../../domain/rerun.js';
import type { PipelineView, StageView } from '../../services/pipeline.ports.js';
import type { StageErrorRecord } from '../../services/stage-error-record.js';
import type { StageRunView } from '../../services/stage-run.ports.js';
import { cursorPage, idempotencyKeyHeader, isoDate, jsonObject, jsonValue, toIso, toIsoOrNull, wholeNumberParam } from './common.schema.js';
import { clarificationSchema } from './clarifications.schema.js';
import { decisionSummarySchema } from './decisions.schema.js';

// --- requests -------------------------------------------------------------------------------

/** `label=key:value`, repeatable: the pairs, every one of which a listed pipeline carries. */
const labelFilterSchema = z
  .union([z.string(), z.array(z.string()).max(MAX_LABELS)])
  .transform((value, ctx) => {
    const pairs: [string, string][] = [];
    for (const filter of Array.isArray(value) ? value : [value]) {
      const pair = parseLabelFilter(filter);
      if (!pair) {
        ctx.addIssue({ code: 'custom', message: `"${filter.slice(0, 80)}" is not key:value (a label key, a colon, a value)` });
        return z.NEVER;
      }
      pairs.push(pair);
    }
    return pairs;
  })
  .meta({ description: '`key:value`; repeat it for several labels, all of which must match.' });

/**
 * The query parameters any route takes more than once: `label`, on GET /pipelines. Every other
 * parameter given twice is refused before the route (middleware/query-guard.ts).
 */
export const REPEATABLE_QUERY_PARAMETERS: readonly string[] = ['label'];

export const pipelineListQuerySchema = z
  .object({
    status: z.enum(PIPELINE_STATUSES).optional(),
    name: z.string().min(1).max(200).optional().meta({ description: 'A case-insensitive substring of the name.' }),
    submitter: z.string().min(1).max(200).optional().meta({ description: "The submitter's identity id, exactly." }),
    label: labelFilterSchema.optional(),
    priority: z.enum(PIPELINE_PRIORITIES).optional().meta({ description: 'Only pipelines of this priority.' }),
    limit: wholeNumberParam(1, 100).default(20),
    cursor: z.string().max(200).optional(),
  })
  .strict();

/** POST /pipelines/:id/priority. */
export const priorityChangeSchema = z
  .object({ priority: z.enum(PIPELINE_PRIORITIES).meta({ description: 'The new priority: `urgent`, `high`, `normal` or `low`.' }) })
  .strict()
  .meta({ id: 'PriorityChangeRequest' });

export const stagesQuerySchema = z
  .object({
    cursor: z.string().regex(STAGE_CURSOR_PATTERN, 'not a cursor returned by this API').optional(),
    limit: wholeNumberParam(1, STAGE_PAGE_MAX).default(STAGE_PAGE_MAX),
  })
  .strict();

/** For the document: the pipeline service checks priority and deadline (domain/pipeline-priority.ts), naming the field. */
const pipelinePriorityField = z.enum(PIPELINE_PRIORITIES).meta({
  id: 'PipelinePriority',
  description:
    "The stage jobs' BullMQ priority and the order queued pipelines start in: `urgent` (operators only), `high`, `normal` (default), `low`. Waiting lifts it (aging, PRIORITY_AGING_MS).",
});
const schedulingFields = {
  priority: pipelinePriorityField.optional(),
  deadline: z.iso
    .datetime({ offset: true })
    .optional()
    .meta({ description: 'An ISO 8601 date-time: if unfinished then, the pipeline is cancelled with reason DEADLINE_EXCEEDED.' }),
  deadlineIn: z.string().optional().meta({ description: 'The deadline as a duration from now ("30m", "4h", "2d"); not with `deadline`.' }),
};

/** For the document: the pipeline service checks labels (domain/pipeline-labels.ts), naming `labels.<key>`. */
const pipelineLabelsSchema = z.record(z.string().regex(LABEL_KEY_PATTERN), z.string().max(MAX_LABEL_VALUE_LENGTH)).meta({
  id: 'PipelineLabels',
  description: `Key/value tags (${MAX_LABELS} at most; keys: lower case, digits and \`._/-\`, 63 characters; values: ${MAX_LABEL_VALUE_LENGTH} characters).`,
});

/**
 * For the document only: the submission body is validated whole by the pipeline service
 * (validatePipelineDefinition, with the agent catalogue), which names every offending field.
 */
export const submitBodySchema = z
  .union([
    z
      .object({
        name: z.string().min(1).max(200),
        input: jsonObject.optional(),
        labels: pipelineLabelsSchema.optional(),
        ...schedulingFields,
        stages: z
          .array(
            z.object({
              key: z.string(),
              agent: z.string(),
              dependsOn: z.array(z.string()).optional(),
              input: jsonObject.optional(),
              retry: jsonObject.optional(),
              timeoutMs: z.number().int().optional(),
              continueOnFailure: z.boolean().optional(),
              gates: z.array(jsonObject).optional(),
              category: z.enum(DECISION_CATEGORIES).optional(),
            }),
          )
          .min(1),
      })
      .meta({ id: 'PipelineDefinition', description: 'A pipeline spelled out stage by stage (docs/api.md).' }),
    z
      .object({
        template: z.string().min(1).max(64),
        name: z.string().min(1).max(200).optional(),
        input: jsonObject.optional(),
        labels: pipelineLabelsSchema.optional(),
        ...schedulingFields,
      })
      .meta({ id: 'TemplateRunRequest', description: 'A pipeline made from a template (GET /api/v1/templates).' }),
  ])
  .meta({ id: 'SubmitPipelineRequest' });

export const submitHeadersSchema = z.object({
  'idempotency-key': idempotencyKeyHeader(
    'A retried submission with the same key and body answers the first pipeline (Idempotent-Replayed: true).',
  ),
});

/** POST /pipelines only: the rerun shares the Idempotency-Key header but always answers the whole pipeline. */
export const submitPipelineHeadersSchema = submitHeadersSchema.extend({
  prefer: z.string().optional().meta({
    description:
      'RFC 7240. `return=minimal`: the 202 carries only `id`, `status` and `links` (PipelineMinimal), with `Preference-Applied: return=minimal`. Other preferences are ignored.',
  }),
});

// --- responses ------------------------------------------------------------------------------

const stageErrorSchema = z
  .object({ code: z.string(), message: z.string(), retryable: z.boolean() })
  .catchall(z.unknown())
  .meta({ id: 'StageError', description: 'What the last attempt failed with; more fields may follow the three named.' });

const gateRuleSchema = z.object({
  metric: z.string(),
  operator: z.enum(GATE_OPERATORS),
  threshold: z.union([z.number(), z.string(), z.boolean()]).optional(),
  severity: z.enum(['blocking', 'warning']),
});

const gateResultSchema = z.object({
  metric: z.string(),
  operator: z.enum(GATE_OPERATORS),
  threshold: z.union([z.number(), z.string(), z.boolean()]).nullable(),
  severity: z.enum(['blocking', 'warning']),
  value: z.union([z.number(), z.string(), z.boolean()]).nullable(),
  verdict: z.enum(['passed', 'failed', 'warned']),
  reason: z.string(),
});

/** Why a queued stage does not run although its dependencies are done (services/flag-switches.ts). */
/** POST /pipelines/:id/rerun (domain/rerun.ts checks it; an empty or absent body re-runs from the default stages). */
export const rerunBodySchema = rerunRequestSchema.meta({ id: 'RerunRequest' });

/** Re-run from a stage: where a reused stage's output came from. */
export const stageReusedSchema = z.object({ fromPipeline: z.uuid(), fromStage: z.uuid() }).meta({
  id: 'StageReused',
  description:
    'A re-run took this stage over from `fromStage` of `fromPipeline` (the re-run one): created succeeded with that output, never run here.',
});

/** A pipeline's re-runs, oldest first. */
export const rerunLinkSchema = z.object({ id: z.uuid(), status: z.enum(PIPELINE_STATUSES), createdAt: isoDate }).meta({ id: 'RerunLink' });

export const stageWaitingSchema = z
  .object({
    reason: z.enum(['agent_switched_off']),
    flag: z.string().meta({ description: 'The flag holding it, e.g. `agent.validation.kill`.' }),
  })
  .meta({
    id: 'StageWaiting',
    description:
      'Present on a queued stage whose agent type is switched off (its kill switch is on, as this API process reads it): the stage waits, uses no attempt, and runs once the switch is released.',
  });

export const stageSchema = z
  .object({
    id: z.uuid(),
    key: z.string(),
    agent: z.string(),
    dependsOn: z.array(z.string()),
    input: jsonObject,
    retry: z.object({
      attempts: z.number().int(),
      backoff: z.object({ type: z.enum(['exponential', 'fixed']), delayMs: z.number().int(), jitter: z.number() }),
    }),
    timeoutMs: z.number().int().nullable(),
    continueOnFailure: z.boolean(),
    gates: z.array(gateRuleSchema),
    category: z.enum(DECISION_CATEGORIES),
    confidence: z.number().nullable(),
    status: z.enum(STAGE_STATUSES),
    attempts: z.number().int(),
    progress: z.number(),
    output: jsonValue.nullable(),
    error: stageErrorSchema.nullable(),
    queuedAt: isoDate.nullable(),
    startedAt: isoDate.nullable(),
    finishedAt: isoDate.nullable(),
    durationMs: z.number().nullable(),
    waiting: stageWaitingSchema.optional(),
    agentVersion: z
      .string()
      .nullable()
      .meta({ description: 'The agent version its latest attempt ran (the rollout flag picks it); null before the first attempt.' }),
    variant: z
      .string()
      .nullable()
      .meta({ description: "The variant of the agent's settings flag its latest attempt ran with; null: none." }),
    jobId: z.string().nullable().meta({
      description: 'The BullMQ job id of its current or last job (Bull Board: /admin/queues/queue/<queue>/<jobId>); null: never queued.',
    }),
    queue: z.string().meta({ description: 'The queue its jobs go to: `agent.<agent type>`.' }),
    reused: stageReusedSchema
      .nullable()
      .meta({ description: 'Set when a re-run reused the output instead of running the stage; else null.' }),
  })
  .meta({ id: 'Stage' });

export const pipelineSummarySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    status: z.enum(PIPELINE_STATUSES),
    template: z.string().nullable(),
    input: jsonObject,
    error: jsonValue
      .nullable()
      .meta({ description: '`{ code: "STAGES_FAILED", message, failedStages, reasons }` once failed, else null.' }),
    createdAt: isoDate,
    updatedAt: isoDate,
    startedAt: isoDate.nullable(),
    finishedAt: isoDate.nullable(),
    cancelRequestedAt: isoDate.nullable(),
    policyVersion: z.string().nullable(),
    submitter: z.string(),
    labels: pipelineLabelsSchema,
    traceId: z.string().nullable().meta({ description: "The W3C trace id of the submission's request span; null: tracing was off." }),
    paused: z.object({ at: isoDate, by: z.string(), reason: z.string().nullable() }).nullable().meta({
      description:
        'Set while the pipeline is paused (POST /pipelines/:id/pause): since when, by whom (identity id), why. Its released stages wait as `paused`; null: not paused.',
    }),
    priority: pipelinePriorityField,
    deadlineAt: isoDate
      .nullable()
      .meta({ description: 'When the pipeline is cancelled with reason `DEADLINE_EXCEEDED` if it has not finished; null: no deadline.' }),
    cancelReason: z
      .string()
      .nullable()
      .meta({ description: '`DEADLINE_EXCEEDED` when its deadline requested the cancel; null: cancelled by a person, or not cancelled.' }),
    schedule: z.object({ id: z.uuid(), scheduledFor: isoDate }).nullable().meta({
      description: 'The schedule whose tick started it (GET /schedules/:id), and that tick’s time; null when submitted otherwise.',
    }),
  })
  .meta({ id: 'PipelineSummary' });

export const pipelineSchema = pipelineSummarySchema
  .extend({
    durationMs: z.number().nullable(),
    stages: z.array(stageSchema),
    stagesNextCursor: z.string().nullable().meta({ description: 'GET /pipelines/:id/stages?cursor= reads the stages left out.' }),
    decisions: z.array(decisionSummarySchema),
    clarifications: z.array(clarificationSchema),
    rerunOf: z.uuid().nullable().meta({ description: 'The pipeline this one re-runs (POST /pipelines/:id/rerun); null: a submission.' }),
    rerunFrom: z
      .array(z.string())
      .meta({ description: 'The stages a re-run was asked to run again (with everything downstream); [] otherwise.' }),
    reruns: z.array(rerunLinkSchema).meta({ description: 'The re-runs of this pipeline, oldest first.' }),
  })
  .meta({ id: 'Pipeline' });

/** The 202 of POST /pipelines sent with `Prefer: return=minimal`: what a client needs to follow the pipeline. */
export const pipelineMinimalSchema = z
  .object({
    id: z.uuid(),
    status: z.enum(PIPELINE_STATUSES),
    links: z.object({
      self: z.string().meta({ description: 'GET: the pipeline document (as Location).' }),
      events: z.string().meta({ description: 'GET: its Server-Sent Event stream.' }),
    }),
  })
  .meta({
    id: 'PipelineMinimal',
    description: 'Answered instead of the pipeline document when the submission sends `Prefer: return=minimal`.',
  });

export const pipelinePageSchema = cursorPage(pipelineSummarySchema).meta({ id: 'PipelinePage' });
export const stagePageSchema = cursorPage(stageSchema).meta({ id: 'StagePage' });

export const runSchema = z
  .object({
    id: z.uuid(),
    stageKey: z.string(),
    attempt: z.number().int(),
    status: z.enum(RUN_STATUSES),
    output: jsonValue.nullable(),
    metrics: jsonObject.nullable(),
    gates: z.array(gateResultSchema),
    error: stageErrorSchema.nullable(),
    workerId: z.string(),
    startedAt: isoDate,
    finishedAt: isoDate.nullable(),
    agentVersion: z.string().nullable().meta({ description: 'The agent version the attempt ran; null: recorded before versions were.' }),
    variant: z.string().nullable().meta({ description: "The variant of the agent's settings flag it ran with; null: none." }),
  })
  .meta({ id: 'StageRun' });

export const runListSchema = z.object({ items: z.array(runSchema) }).meta({ id: 'StageRunList' });

export type StageBody = z.input<typeof stageSchema>;
export type StageWaitingBody = z.input<typeof stageWaitingSchema>;
export type PipelineSummaryBody = z.input<typeof pipelineSummarySchema>;
export type PipelineBody = z.input<typeof pipelineSchema>;
export type PipelineMinimalBody = z.input<typeof pipelineMinimalSchema>;
export type StagePageBody = z.input<typeof stagePageSchema>;
export type StageRunBody = z.input<typeof runSchema>;

// --- mapping --------------------------------------------------------------------------------

const durationMs = (start: Date | null, end: Date | null) => (start && end ? end.getTime() - start.getTime() : null);

const toStageError = (error: StageErrorRecord | null) => (error === null ? null : { ...error });

export function toStageBody(stage: StageView): StageBody {
  return {
    id: stage.id,
    key: stage.key,
    agent: stage.agent,
    dependsOn: stage.dependsOn,
    input: stage.input,
    retry: stage.retry,
    timeoutMs: stage.timeoutMs,
    continueOnFailure: stage.continueOnFailure,
    gates: stage.gates,
    category: stage.category,
    confidence: stage.confidence,
    status: stage.status,
    attempts: stage.attempts,
    progress: stage.progress,
    output: stage.output,
    error: toStageError(stage.error),
    queuedAt: toIsoOrNull(stage.queuedAt),
    startedAt: toIsoOrNull(stage.startedAt),
    finishedAt: toIsoOrNull(stage.finishedAt),
    durationMs: durationMs(stage.startedAt, stage.finishedAt),
    agentVersion: stage.agentVersion,
    variant: stage.variant,
    jobId: stage.jobId,
    queue: stage.queue,
    reused: stage.reused ?? null,
  };
}

/** `path`: the pipeline's own path (`/api/v1/pipelines/<id>`, its Location). */
export function toPipelineMinimalBody(pipeline: Pick<PipelineView, 'id' | 'status'>, path: string): PipelineMinimalBody {
  return { id: pipeline.id, status: pipeline.status, links: { self: path, events: `${path}/events` } };
}

export function toPipelineSummaryBody(pipeline: PipelineView): PipelineSummaryBody {
  return {
    id: pipeline.id,
    name: pipeline.name,
    status: pipeline.status,
    template: pipeline.template,
    input: pipeline.input,
    error: pipeline.error,
    createdAt: toIso(pipeline.createdAt),
    updatedAt: toIso(pipeline.updatedAt),
    startedAt: toIsoOrNull(pipeline.startedAt),
    finishedAt: toIsoOrNull(pipeline.finishedAt),
    cancelRequestedAt: toIsoOrNull(pipeline.cancelRequestedAt),
    policyVersion: pipeline.policyVersion,
    submitter: pipeline.submitter,
    labels: pipeline.labels,
    traceId: pipeline.traceId,
    paused: pipeline.paused ? { at: toIso(pipeline.paused.at), by: pipeline.paused.by, reason: pipeline.paused.reason } : null,
    priority: pipeline.priority,
    deadlineAt: toIsoOrNull(pipeline.deadlineAt),
    cancelReason: pipeline.cancelReason,
    schedule: pipeline.schedule ? { id: pipeline.schedule.id, scheduledFor: toIso(pipeline.schedule.scheduledFor) } : null,
  };
}

export function toRunBody(run: StageRunView): StageRunBody {
  return {
    id: run.id,
    stageKey: run.stageKey,
    attempt: run.attempt,
    status: run.status,
    output: run.output,
    metrics: run.metrics,
    gates: run.gates,
    error: toStageError(run.error),
    workerId: run.workerId,
    startedAt: toIso(run.startedAt),
    finishedAt: toIsoOrNull(run.finishedAt),
    agentVersion: run.agentVersion,
    variant: run.variant,
  };
}
