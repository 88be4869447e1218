// The route table of the public API: every route the app mounts, with its access rule, its
// request schemas and each response status with its schema. The OpenAPI document (openapi.ts) is
// generated from it, and test/integration/openapi.test.ts checks it against the routes Express
// actually serves, both ways, and that each rule here is the rule beside the route.
import { z } from 'zod';
import type { AccessRule } from '../middleware/authorize.js';
import { uuidParam } from '../validate.js';
import { SCHEDULE_OWNER_PERMISSIONS } from '../../domain/schedule.js';
import { auditListQuerySchema, auditPageSchema, whoamiSchema } from './audit.schema.js';
import { agentListSchema, templateListSchema, templateNameParams, templateSchema } from './catalog.schema.js';
import { agentTypeParams, canaryQuerySchema, canaryReportSchema } from './canary.schema.js';
import {
  clarificationAnswerSchema,
  clarificationListQuerySchema,
  clarificationPageSchema,
  clarificationSchema,
} from './clarifications.schema.js';
import {
  decisionAnswerSchema,
  decisionIdParams,
  decisionListQuerySchema,
  decisionPageSchema,
  decisionSchema,
  noFieldsBodySchema,
} from './decisions.schema.js';
import { bulkReplayReportSchema, dlqPageSchema, dlqRequestSchemas, jobIdParams, replayReceiptSchema } from './dlq.schema.js';
import { errorBodySchema } from './errors.schema.js';
import {
  deliveryJobIdParams,
  failedDeliveryPageSchema,
  failedDeliverySchema,
  redeliverAllReportSchema,
  webhookRequestSchemas,
} from './webhooks.schema.js';
import { stageLogParams, stageLogQuerySchema } from './stage-logs.schema.js';
import { flagOverviewSchema } from './flags.schema.js';
import { auditQuerySchema, pipelineAuditPageSchema, streamHeadersSchema, streamQuerySchema } from './events.schema.js';
import { detailedHealthSchema, liveSchema, readySchema } from './health.schema.js';
import {
  apiKeyListSchema,
  apiKeySchema,
  issuedKeySchema,
  keyCreateSchema,
  keyListQuerySchema,
  keyRotateSchema,
  rotatedKeySchema,
} from './keys.schema.js';
import {
  pipelineListQuerySchema,
  pipelinePageSchema,
  pipelineSchema,
  runListSchema,
  stagePageSchema,
  priorityChangeSchema,
  stagesQuerySchema,
  rerunBodySchema,
  submitBodySchema,
  submitHeadersSchema,
  submitPipelineHeadersSchema,
  pipelineMinimalSchema,
} from './pipelines.schema.js';
import { timelineQuerySchema, timelineSchema } from './timeline.schema.js';
import { agentPauseSchema, pauseBodySchema, pipelineResumedSchema, resumeBodySchema } from './pause.schema.js';
import {
  scheduleChangeBodySchema,
  scheduleCreateBodySchema,
  scheduleCreateHeadersSchema,
  scheduleDetailSchema,
  scheduleGetQuerySchema,
  scheduleListQuerySchema,
  schedulePageSchema,
  scheduleSchema,
} from './schedules.schema.js';

export type HttpMethod = 'get' | 'post' | 'delete';

export interface ResponseContract {
  description: string;
  /** JSON body schema; absent with `contentType`: a body that is not JSON; absent alone: no body. */
  schema?: z.ZodType;
  /** Defaults to application/json when `schema` is set. */
  contentType?: 'text/event-stream' | 'text/plain';
}

export interface RouteContract {
  method: HttpMethod;
  /** As Express mounts it: `/api/v1/pipelines/:id`. */
  path: string;
  summary: string;
  tag: string;
  /** `public`: answered without credentials (PUBLIC_PATHS in app.ts). */
  access: AccessRule | 'public';
  request?: {
    params?: z.ZodObject;
    query?: z.ZodObject;
    headers?: z.ZodObject;
    body?: z.ZodType;
  };
  /** Successful answers, and the error statuses particular to this route (the common ones are added by `responsesOf`). */
  responses: Record<number, ResponseContract>;
}

const permit = (...permissions: AccessRule['permissions']): AccessRule => ({ permissions });
const json = (description: string, schema: z.ZodType): ResponseContract => ({ description, schema });
const error = (description: string): ResponseContract => ({ description, schema: errorBodySchema });

const dlq = dlqRequestSchemas();
const pipelineId = uuidParam;
const V1 = '/api/v1';

export const API_ROUTES: readonly RouteContract[] = [
  // --- probes and operators ---
  {
    method: 'get',
    path: '/health',
    summary: 'Liveness: the process answers.',
    tag: 'health',
    access: 'public',
    responses: { 200: json('Alive.', liveSchema) },
  },
  {
    method: 'get',
    path: '/health/ready',
    summary: 'Readiness: Postgres, Redis and the migrations answer, and the process is not stopping.',
    tag: 'health',
    access: 'public',
    responses: { 200: json('Ready.', readySchema), 503: json('Not ready: `failing` names the components.', readySchema) },
  },
  {
    method: 'get',
    path: '/health/detailed',
    summary: 'Dependencies with latency, queue counts, workers online, breakers, memory (always 200).',
    tag: 'health',
    access: permit('operate'),
    responses: { 200: json('The state of the process and its dependencies.', detailedHealthSchema) },
  },
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics (text exposition format), for operators or a scraper holding METRICS_TOKEN.',
    tag: 'health',
    access: { permissions: ['operate'], metricsToken: true },
    responses: { 200: { description: 'Prometheus text.', contentType: 'text/plain' } },
  },
  {
    method: 'get',
    path: `${V1}/openapi.json`,
    summary: 'This document (OpenAPI 3.1).',
    tag: 'meta',
    access: 'public',
    responses: { 200: json('The OpenAPI document.', z.record(z.string(), z.unknown())) },
  },
  // --- pipelines ---
  {
    method: 'post',
    path: `${V1}/pipelines`,
    summary: 'Submit a pipeline (stages, or a template). Idempotent per submitter with Idempotency-Key.',
    tag: 'pipelines',
    access: permit('submit'),
    request: { body: submitBodySchema, headers: submitPipelineHeadersSchema },
    responses: {
      202: json(
        'Accepted: recorded, its roots queued. Location names it. The pipeline document, or with `Prefer: return=minimal` its id, status and links.',
        z.union([pipelineSchema, pipelineMinimalSchema]),
      ),
      403: error(
        'Priority `urgent` without the operator role (PRIORITY_FORBIDDEN), or a stage declaring a `category` other than the one its agent type implies without the operator role (CATEGORY_FORBIDDEN, naming `stages[i].category`).',
      ),
      409: error('The Idempotency-Key was used with another body (IDEMPOTENCY_KEY_REUSED).'),
      413: error('Over the stage or input quotas.'),
      429: error('Rate limited, or the backlog is full (BACKLOG_FULL); see Retry-After.'),
      503: error('The queue (Redis) is unreachable: nothing was recorded (QUEUE_UNAVAILABLE).'),
    },
  },
  {
    method: 'get',
    path: `${V1}/pipelines`,
    summary: 'List pipelines, newest first, with a cursor.',
    tag: 'pipelines',
    access: permit('read'),
    request: { query: pipelineListQuerySchema },
    responses: { 200: json('A page of pipelines (without stages).', pipelinePageSchema) },
  },
  {
    method: 'get',
    path: `${V1}/pipelines/:id`,
    summary: 'A pipeline with its first stages (paged by size), decisions and clarifications.',
    tag: 'pipelines',
    access: permit('read'),
    request: { params: pipelineId },
    responses: { 200: json('The pipeline.', pipelineSchema) },
  },
  {
    method: 'get',
    path: `${V1}/pipelines/:id/stages`,
    summary: 'A page of a pipeline’s stages, in definition order.',
    tag: 'pipelines',
    access: permit('read'),
    request: { params: pipelineId, query: stagesQuerySchema },
    responses: { 200: json('A page of stages.', stagePageSchema) },
  },
  {
    method: 'get',
    path: `${V1}/pipelines/:id/stages/:key/logs`,
    summary: 'A stage’s log (what its agent wrote through the workspace), every attempt or `?attempt=N`, streamed as text.',
    tag: 'pipelines',
    access: permit('read'),
    request: { params: stageLogParams, query: stageLogQuerySchema },
    responses: {
      200: {
        description: 'The log as text/plain (chunked), each attempt opened by a `=== attempt N (run <id>) ===` line.',
        contentType: 'text/plain',
      },
      404: error('PIPELINE_NOT_FOUND or STAGE_NOT_FOUND.'),
    },
  },
  {
    method: 'get',
    path: `${V1}/pipelines/:id/runs`,
    summary: 'Every ended attempt of every stage, with gate results.',
    tag: 'pipelines',
    access: permit('read'),
    request: { params: pipelineId },
    responses: { 200: json('The runs.', runListSchema) },
  },
  {
    method: 'get',
    path: `${V1}/pipelines/:id/timeline`,
    summary: 'A pipeline’s history in time order: attempts, retries, gate verdicts, decisions, clarifications, cancel, with its trace id.',
    tag: 'pipelines',
    access: permit('read'),
    request: { params: pipelineId, query: timelineQuerySchema },
    responses: {
      200: json('The timeline; with `?download=1` as an attachment (Content-Disposition).', timelineSchema),
      404: error('PIPELINE_NOT_FOUND.'),
    },
  },
  {
    method: 'post',
    path: `${V1}/pipelines/:id/cancel`,
    summary: 'Cancel a pipeline (its submitter, or an operator).',
    tag: 'pipelines',
    access: permit('cancel_own', 'cancel_any'),
    request: { params: pipelineId, body: noFieldsBodySchema },
    responses: { 202: json('Cancellation recorded.', pipelineSchema), 409: error('Already finished.') },
  },
  {
    method: 'post',
    path: `${V1}/pipelines/:id/pause`,
    summary: 'Pause a pipeline: it starts no new stage until resumed (its submitter, or an operator). Idempotent.',
    tag: 'pipelines',
    access: permit('pause_own', 'pause_any'),
    request: { params: pipelineId, body: pauseBodySchema },
    responses: {
      202: json('Paused (or paused already): `paused` says since when, by whom, why.', pipelineSchema),
      404: error('PIPELINE_NOT_FOUND.'),
      409: error('PIPELINE_FINISHED, or PIPELINE_CANCELLING (it has a cancel request).'),
    },
  },
  {
    method: 'post',
    path: `${V1}/pipelines/:id/resume`,
    summary: 'Resume a paused pipeline: the stages it held are queued and run (its submitter, or an operator). Idempotent.',
    tag: 'pipelines',
    access: permit('pause_own', 'pause_any'),
    request: { params: pipelineId, body: resumeBodySchema },
    responses: {
      202: json(
        'Resumed (or not paused): `paused` is null; `resumedStages` names the stages this resume queued again ([] when it was not paused).',
        pipelineResumedSchema,
      ),
      404: error('PIPELINE_NOT_FOUND.'),
      409: error('PIPELINE_FINISHED.'),
      503: error('QUEUE_UNAVAILABLE: resumed in Postgres, its jobs not added (Redis down); repeat the resume.'),
    },
  },
  {
    method: 'post',
    path: `${V1}/pipelines/:id/rerun`,
    summary:
      'Re-run a finished pipeline from stages (`from`, default: the failed and cancelled ones): a new linked pipeline that reuses the outputs of the stages it need not run (its submitter, or an operator).',
    tag: 'pipelines',
    access: permit('rerun_own', 'rerun_any'),
    request: { params: pipelineId, body: rerunBodySchema, headers: submitHeadersSchema },
    responses: {
      202: json('Accepted: the new pipeline (`rerunOf`, `rerunFrom`, reused stages with `reused`). Location names it.', pipelineSchema),
      409: error('PIPELINE_NOT_FINISHED (the old one is queued or running), RERUN_DEFINITION_INVALID, or IDEMPOTENCY_KEY_REUSED.'),
      429: error('Rate limited, or the backlog is full (BACKLOG_FULL); see Retry-After.'),
      503: error('The queue (Redis) is unreachable: nothing was recorded (QUEUE_UNAVAILABLE).'),
    },
  },
  {
    method: 'post',
    path: `${V1}/pipelines/:id/priority`,
    summary: 'Change an unfinished pipeline’s priority and re-prioritise its waiting stage jobs (operators).',
    tag: 'pipelines',
    access: permit('prioritize'),
    request: { params: pipelineId, body: priorityChangeSchema },
    responses: {
      200: json('The pipeline with its new priority.', pipelineSchema),
      404: error('PIPELINE_NOT_FOUND.'),
      409: error('Already finished (PIPELINE_FINISHED).'),
      503: error('Recorded, but Redis was unreachable to re-prioritise the waiting jobs (QUEUE_UNAVAILABLE); repeat it.'),
    },
  },
  // --- schedules ---
  {
    method: 'post',
    path: `${V1}/schedules`,
    summary:
      'Create a schedule: a template or a definition run on a cron (with its time zone) or an interval. Idempotent per creator with Idempotency-Key.',
    tag: 'schedules',
    access: permit(...SCHEDULE_OWNER_PERMISSIONS),
    request: { body: scheduleCreateBodySchema, headers: scheduleCreateHeadersSchema },
    responses: {
      201: json('The schedule, with its next fire time; Location names it.', scheduleSchema),
      403: error(
        'What each tick would submit is refused to the creator: priority `urgent` (PRIORITY_FORBIDDEN, naming `definition.priority`) or a stage category override (CATEGORY_FORBIDDEN, naming `definition.stages[i].category`) without the operator role.',
      ),
      409: error(
        'The creator owns SCHEDULE_MAX_PER_OWNER schedules that have not ended (SCHEDULE_LIMIT_REACHED), the Idempotency-Key was used with another body (IDEMPOTENCY_KEY_REUSED), or its schedule was deleted (SCHEDULE_DELETED).',
      ),
    },
  },
  {
    method: 'get',
    path: `${V1}/schedules`,
    summary: 'List schedules, newest first, each with its next fire time.',
    tag: 'schedules',
    access: permit('read'),
    request: { query: scheduleListQuerySchema },
    responses: { 200: json('A page of schedules.', schedulePageSchema) },
  },
  {
    method: 'get',
    path: `${V1}/schedules/:id`,
    summary: 'One schedule with its next fire times and its latest ticks (the runs they started, the ticks skipped).',
    tag: 'schedules',
    access: permit('read'),
    request: { params: uuidParam, query: scheduleGetQuerySchema },
    responses: { 200: json('The schedule.', scheduleDetailSchema), 404: error('SCHEDULE_NOT_FOUND.') },
  },
  {
    method: 'post',
    path: `${V1}/schedules/:id/pause`,
    summary: 'Pause a schedule (its creator, or an operator): no tick runs until it is resumed.',
    tag: 'schedules',
    access: permit('schedule_own', 'schedule_any'),
    request: { params: uuidParam, body: scheduleChangeBodySchema },
    responses: { 200: json('The paused schedule.', scheduleSchema), 409: error('SCHEDULE_ENDED.') },
  },
  {
    method: 'post',
    path: `${V1}/schedules/:id/resume`,
    summary: 'Resume a paused schedule (its creator, or an operator); ticks missed while paused are not run.',
    tag: 'schedules',
    access: permit('schedule_own', 'schedule_any'),
    request: { params: uuidParam, body: scheduleChangeBodySchema },
    responses: { 200: json('The active schedule.', scheduleSchema), 409: error('SCHEDULE_ENDED.') },
  },
  {
    method: 'delete',
    path: `${V1}/schedules/:id`,
    summary: 'Delete a schedule (its creator, or an operator); the runs it started stay.',
    tag: 'schedules',
    access: permit('schedule_own', 'schedule_any'),
    request: { params: uuidParam },
    responses: { 204: { description: 'Deleted.' } },
  },
  // --- events ---
  {
    method: 'get',
    path: `${V1}/events`,
    summary: 'Server-Sent Events of every pipeline, from now or from Last-Event-ID.',
    tag: 'events',
    access: permit('read'),
    request: { query: streamQuerySchema, headers: streamHeadersSchema },
    responses: {
      200: { description: 'An SSE stream; each frame’s `data:` is a PipelineEvent.', contentType: 'text/event-stream' },
      429: error('Too many open streams (STREAM_LIMIT).'),
    },
  },
  {
    method: 'get',
    path: `${V1}/pipelines/:id/events`,
    summary: 'Server-Sent Events of one pipeline, from its first event or from Last-Event-ID.',
    tag: 'events',
    access: permit('read'),
    request: { params: pipelineId, query: streamQuerySchema, headers: streamHeadersSchema },
    responses: {
      200: { description: 'An SSE stream; each frame’s `data:` is a PipelineEvent.', contentType: 'text/event-stream' },
      429: error('Too many open streams (STREAM_LIMIT).'),
    },
  },
  {
    method: 'get',
    path: `${V1}/pipelines/:id/audit`,
    summary: 'One pipeline’s state changes with their actors, oldest first, with a cursor.',
    tag: 'events',
    access: permit('read'),
    request: { params: pipelineId, query: auditQuerySchema },
    responses: { 200: json('A page of the pipeline’s history.', pipelineAuditPageSchema) },
  },
  // --- decisions and clarifications ---
  {
    method: 'get',
    path: `${V1}/decisions`,
    summary: 'List decisions, newest first, with a cursor.',
    tag: 'decisions',
    access: permit('read'),
    request: { query: decisionListQuerySchema },
    responses: { 200: json('A page of decisions.', decisionPageSchema) },
  },
  {
    method: 'get',
    path: `${V1}/decisions/:id`,
    summary: 'A decision with its evidence and votes.',
    tag: 'decisions',
    access: permit('read'),
    request: { params: decisionIdParams },
    responses: { 200: json('The decision.', decisionSchema) },
  },
  {
    method: 'post',
    path: `${V1}/decisions/:id/approve`,
    summary: 'Approve (one vote towards the quorum).',
    tag: 'decisions',
    access: permit('decide'),
    request: { params: decisionIdParams, body: decisionAnswerSchema(false) },
    responses: { 200: json('The decision after the vote.', decisionSchema), 409: error('Not open, or already voted.') },
  },
  {
    method: 'post',
    path: `${V1}/decisions/:id/reject`,
    summary: 'Reject, saying why.',
    tag: 'decisions',
    access: permit('decide'),
    request: { params: decisionIdParams, body: decisionAnswerSchema(true) },
    responses: { 200: json('The decision after the vote.', decisionSchema), 409: error('Not open, or already voted.') },
  },
  {
    method: 'get',
    path: `${V1}/clarifications`,
    summary: 'List clarifications, newest first, with a cursor.',
    tag: 'clarifications',
    access: permit('read'),
    request: { query: clarificationListQuerySchema },
    responses: { 200: json('A page of clarifications.', clarificationPageSchema) },
  },
  {
    method: 'get',
    path: `${V1}/clarifications/:id`,
    summary: 'A clarification with its questions and answers.',
    tag: 'clarifications',
    access: permit('read'),
    request: { params: uuidParam },
    responses: { 200: json('The clarification.', clarificationSchema) },
  },
  {
    method: 'post',
    path: `${V1}/clarifications/:id/answer`,
    summary: 'Answer every question; the stage that asked runs again.',
    tag: 'clarifications',
    access: permit('decide'),
    request: { params: uuidParam, body: clarificationAnswerSchema },
    responses: { 200: json('The answered clarification.', clarificationSchema), 409: error('Not open.') },
  },
  // --- catalogue ---
  {
    method: 'get',
    path: `${V1}/agents`,
    summary: 'The agent types, their queues and workers online.',
    tag: 'catalog',
    access: permit('read'),
    responses: { 200: json('The agent types.', agentListSchema) },
  },
  {
    method: 'get',
    path: `${V1}/agents/:type/canary`,
    summary: 'How often the agent’s candidate version agreed with the incumbent in shadow runs, with the disagreements.',
    tag: 'catalog',
    access: permit('read'),
    request: { params: agentTypeParams, query: canaryQuerySchema },
    responses: { 200: json('The canary report.', canaryReportSchema), 404: error('No such agent type (AGENT_NOT_FOUND).') },
  },
  {
    method: 'post',
    path: `${V1}/agents/:type/pause`,
    summary: 'Pause an agent type: its queue is paused for every worker, its jobs wait (operators). Recorded in Postgres. Idempotent.',
    tag: 'catalog',
    access: permit('operate'),
    request: { params: agentTypeParams, body: pauseBodySchema },
    responses: {
      200: json('The agent type’s pause.', agentPauseSchema),
      404: error('No such agent type (AGENT_NOT_FOUND).'),
      503: error('QUEUE_UNAVAILABLE: recorded in Postgres; the reconciler pauses the queue once Redis is back.'),
    },
  },
  {
    method: 'post',
    path: `${V1}/agents/:type/resume`,
    summary: 'Resume an agent type’s queue, whoever paused it (operators). Idempotent.',
    tag: 'catalog',
    access: permit('operate'),
    request: { params: agentTypeParams, body: resumeBodySchema },
    responses: {
      200: json('The agent type’s pause (none now).', agentPauseSchema),
      404: error('No such agent type (AGENT_NOT_FOUND).'),
      503: error('QUEUE_UNAVAILABLE: the record is deleted but the queue may still be paused; repeat the resume.'),
    },
  },
  {
    method: 'get',
    path: `${V1}/templates`,
    summary: 'The pipeline templates.',
    tag: 'catalog',
    access: permit('read'),
    responses: { 200: json('The templates.', templateListSchema) },
  },
  {
    method: 'get',
    path: `${V1}/templates/:name`,
    summary: 'One template, as written.',
    tag: 'catalog',
    access: permit('read'),
    request: { params: templateNameParams },
    responses: { 200: json('The template.', templateSchema) },
  },
  // --- dead-letter queue ---
  {
    method: 'get',
    path: `${V1}/dlq`,
    summary: 'Failed stage jobs across the agent queues, with fingerprint groups.',
    tag: 'dlq',
    access: permit('operate'),
    request: { query: dlq.listQuery },
    responses: { 200: json('A page of failed jobs.', dlqPageSchema) },
  },
  {
    method: 'post',
    path: `${V1}/dlq/retry`,
    summary: 'Replay the failed jobs of one fingerprint or one agent.',
    tag: 'dlq',
    access: permit('operate'),
    request: { body: dlq.bulkBody },
    responses: { 202: json('What was replayed and what was skipped, with why.', bulkReplayReportSchema) },
  },
  {
    method: 'post',
    path: `${V1}/dlq/:jobId/retry`,
    summary: 'Replay one failed job.',
    tag: 'dlq',
    access: permit('operate'),
    request: { params: jobIdParams, body: dlq.replayBody },
    responses: {
      202: json('The stage was queued again.', replayReceiptSchema),
      409: error('Not replayable now (the code says why; PIPELINE_RERUN: the pipeline was re-run, replay the re-run).'),
    },
  },
  {
    method: 'delete',
    path: `${V1}/dlq/:jobId`,
    summary: 'Remove one failed job.',
    tag: 'dlq',
    access: permit('operate'),
    request: { params: jobIdParams },
    responses: { 204: { description: 'Removed.' }, 409: error('The job is not failed (it was replayed or is running).') },
  },
  // --- webhook deliveries ---
  {
    method: 'get',
    path: `${V1}/webhooks/failed`,
    summary: 'Webhook deliveries that failed for good (attempts used, a final 4xx, or refused), newest first.',
    tag: 'webhooks',
    access: permit('operate'),
    request: { query: webhookRequestSchemas.listQuery },
    responses: { 200: json('The failed deliveries (at most `limit`) and how many there are.', failedDeliveryPageSchema) },
  },
  {
    method: 'post',
    path: `${V1}/webhooks/failed/retry`,
    summary: 'Redeliver the oldest failed deliveries (at most `limit`), each with its attempts afresh.',
    tag: 'webhooks',
    access: permit('operate'),
    request: { body: webhookRequestSchemas.retryAllBody },
    responses: { 202: json('What was redelivered and what was skipped, with why.', redeliverAllReportSchema) },
  },
  {
    method: 'post',
    path: `${V1}/webhooks/failed/:jobId/retry`,
    summary: 'Redeliver one failed delivery (BullMQ retry of its job: same delivery id, attempts afresh).',
    tag: 'webhooks',
    access: permit('operate'),
    request: { params: deliveryJobIdParams, body: webhookRequestSchemas.retryBody },
    responses: {
      202: json('The delivery is queued again.', failedDeliverySchema),
      404: error('WEBHOOK_DELIVERY_NOT_FOUND: the queue holds no such delivery.'),
      409: error('WEBHOOK_DELIVERY_NOT_FAILED: it is not failed (delivered, waiting, or already redelivered).'),
    },
  },
  // --- feature flags ---
  {
    method: 'get',
    path: `${V1}/flags`,
    summary: 'The feature flags as this process sees them: source, freshness, each flag’s origin, each agent’s flags, platform switches.',
    tag: 'flags',
    access: permit('operate'),
    responses: { 200: json('The flag overview (from memory: it answers while Unleash is down, `source.stale`).', flagOverviewSchema) },
  },
  // --- identity ---
  {
    method: 'post',
    path: `${V1}/keys`,
    summary: 'Create an API key (shown once).',
    tag: 'keys',
    access: permit('manage_keys'),
    request: { body: keyCreateSchema },
    responses: { 201: json('The key, with its secret.', issuedKeySchema), 409: error('The name is taken.') },
  },
  {
    method: 'get',
    path: `${V1}/keys`,
    summary: 'List API keys (never their secrets).',
    tag: 'keys',
    access: permit('manage_keys'),
    request: { query: keyListQuerySchema },
    responses: { 200: json('The keys.', apiKeyListSchema) },
  },
  {
    method: 'post',
    path: `${V1}/keys/:id/revoke`,
    summary: 'Revoke an API key (effective on the next request).',
    tag: 'keys',
    access: permit('manage_keys'),
    request: { params: uuidParam, body: noFieldsBodySchema },
    responses: { 200: json('The revoked key.', apiKeySchema), 409: error('Already inactive.') },
  },
  {
    method: 'post',
    path: `${V1}/keys/:id/rotate`,
    summary: 'Rotate an API key: a new secret, the old one valid for the overlap.',
    tag: 'keys',
    access: permit('manage_keys'),
    request: { params: uuidParam, body: keyRotateSchema },
    responses: { 201: json('The new key, with its secret, and the one it replaces.', rotatedKeySchema), 409: error('Inactive.') },
  },
  {
    method: 'get',
    path: `${V1}/audit`,
    summary: 'Every change with its identity, newest first, filtered, with a cursor.',
    tag: 'audit',
    access: permit('read_audit'),
    request: { query: auditListQuerySchema },
    responses: { 200: json('A page of audit events.', auditPageSchema) },
  },
  {
    method: 'get',
    path: `${V1}/whoami`,
    summary: 'The caller’s own identity.',
    tag: 'audit',
    access: permit('read'),
    responses: { 200: json('Who the credential stands for.', whoamiSchema) },
  },
];

/**
 * Every status a route may answer: its own, and those any route may (the edge middleware in
 * app.ts): 400 hostile input, 401/403 when guarded, 404 for an unknown id, 413/415 for a body,
 * 429 rate limits, 500, 503 while a dependency is down.
 */
export function responsesOf(route: RouteContract): Record<number, ResponseContract> {
  const common: Record<number, ResponseContract> = {
    400: error('Invalid request (VALIDATION_FAILED and friends); `details` names each field.'),
    429: error('Rate limited; see Retry-After.'),
    500: error('Internal error (nothing in the body but the request id).'),
    503: error(
      'A dependency (Postgres, Redis) is unreachable, or a statement ran past the statement timeout (DATABASE_TIMEOUT); retry after Retry-After.',
    ),
  };
  if (route.access !== 'public') {
    common[401] = error('No valid credential.');
    common[403] = error('The identity’s roles do not grant this route.');
  }
  if (route.request?.params) common[404] = error('No such resource.');
  if (route.method !== 'get') {
    common[413] = error('Body over HTTP_BODY_LIMIT.');
    common[415] = error('The body is not JSON.');
  }
  return { ...common, ...route.responses };
}

/** `/api/v1/pipelines/:id` → `/api/v1/pipelines/{id}`. */
export const openApiPath = (path: string): string => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
