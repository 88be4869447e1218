// The public shape of the dead-letter queue (failed stage jobs, their fingerprint groups, replay
// receipts), the request schemas of /api/v1/dlq, and the mapping from the DLQ service's results.
import { z } from 'zod';
import { REPLAY_BLOCKS } from '../../domain/dlq-replay.js';
import { FINGERPRINT_PATTERN } from '../../domain/error-fingerprint.js';
import type { BulkReplayReport, DlqGroup, DlqItem, DlqPage, ReplayReceipt } from '../../services/dlq.service.js';
import { encodeCursor } from '../cursor.js';
import { isoDate, toIso, uuidInput } from './common.schema.js';
import { noActorField } from './decisions.schema.js';

/** At most this many jobs per bulk replay request. */
export const BULK_REPLAY_MAX = 1000;

// --- requests -------------------------------------------------------------------------------

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
/** A stage job's id: the stage id, or `<stage id>-<clarification id>` for a re-run after answers. */
export const jobIdSchema = z
  .string()
  .regex(new RegExp(`^${UUID}(?:-${UUID})?$`, 'i'), 'a job id: a stage id, or <stage id>-<clarification id>')
  // BullMQ's job ids are the stage ids as Postgres writes them: lower case (see uuidInput).
  .transform((id) => id.toLowerCase());
export const jobIdParams = z.object({ jobId: jobIdSchema });
export const fingerprintSchema = z.string().regex(FINGERPRINT_PATTERN, '16 lowercase hex characters, as GET /dlq reports them');

/**
 * The request schemas of the DLQ routes. `agentTypes`: the catalogue's types, which `agent` must
 * name (absent, for the document: any string, the route refuses an unknown one with a 400).
 */
export function dlqRequestSchemas(agentTypes?: readonly string[]) {
  const agent = agentTypes
    ? z.string().refine((type) => agentTypes.includes(type), `unknown agent type; known: ${[...agentTypes].sort().join(', ')}`)
    : z.string().meta({ description: 'An agent type of GET /api/v1/agents.' });
  return {
    listQuery: z
      .object({
        agent: agent.optional(),
        fingerprint: fingerprintSchema.optional(),
        pipelineId: uuidInput().optional(),
        limit: z.coerce.number().int().min(1).max(100).default(20),
        cursor: z.string().max(300).optional(),
      })
      .strict(),
    replayBody: z.object({ actor: noActorField }).strict(),
    bulkBody: z
      .object({
        fingerprint: fingerprintSchema.optional(),
        agent: agent.optional(),
        limit: z.number().int().min(1).max(BULK_REPLAY_MAX).optional(),
        actor: noActorField,
      })
      .strict(),
  };
}

// --- responses ------------------------------------------------------------------------------

export const dlqItemSchema = z
  .object({
    jobId: z.string(),
    agent: z.string(),
    // As the job data has them: null (or anything) for a malformed job, which replay refuses.
    pipelineId: z.string().nullable(),
    stageId: z.string().nullable(),
    stageKey: z.string().nullable(),
    error: z.object({ code: z.string(), message: z.string() }),
    attemptsMade: z.number().int(),
    failedAt: isoDate,
    fingerprint: z.string(),
    replayable: z.boolean(),
    replayBlockedBy: z.enum(REPLAY_BLOCKS).nullable(),
  })
  .meta({ id: 'DlqItem' });

const dlqGroupSchema = z.object({
  fingerprint: z.string(),
  agent: z.string(),
  code: z.string(),
  message: z.string(),
  count: z.number().int(),
  newestFailedAt: isoDate,
});

export const dlqPageSchema = z
  .object({
    items: z.array(dlqItemSchema),
    nextCursor: z.string().nullable(),
    total: z.number().int(),
    groups: z.array(dlqGroupSchema),
    scan: z.object({ perQueueCap: z.number().int(), truncated: z.boolean() }),
  })
  .meta({ id: 'DlqPage' });

export const replayReceiptSchema = z
  .object({
    jobId: z.string(),
    agent: z.string(),
    pipelineId: z.uuid(),
    stageId: z.uuid(),
    stageKey: z.string(),
    mode: z.enum(['reopened', 'resumed']),
    restored: z.array(z.string()),
  })
  .meta({ id: 'ReplayReceipt' });

export const bulkReplayReportSchema = z
  .object({
    matched: z.number().int(),
    replayed: z.number().int(),
    replayedJobIds: z.array(z.string()),
    skipped: z.array(z.object({ jobId: z.string(), reason: z.string(), message: z.string() })),
  })
  .meta({ id: 'BulkReplayReport' });

export type DlqPageBody = z.input<typeof dlqPageSchema>;

// --- mapping --------------------------------------------------------------------------------

const toItem = (i: DlqItem): z.input<typeof dlqItemSchema> => ({
  jobId: i.jobId,
  agent: i.agent,
  pipelineId: i.pipelineId,
  stageId: i.stageId,
  stageKey: i.stageKey,
  error: { code: i.error.code, message: i.error.message },
  attemptsMade: i.attemptsMade,
  failedAt: toIso(i.failedAt),
  fingerprint: i.fingerprint,
  replayable: i.replayable,
  replayBlockedBy: i.replayBlockedBy,
});

const toGroup = (g: DlqGroup): z.input<typeof dlqGroupSchema> => ({
  fingerprint: g.fingerprint,
  agent: g.agent,
  code: g.code,
  message: g.message,
  count: g.count,
  newestFailedAt: toIso(g.newestFailedAt),
});

/** The cursor of the next page keys on (failedAt, jobId) of the last item shown. */
export function toDlqPageBody(page: DlqPage): DlqPageBody {
  const last = page.items[page.items.length - 1];
  return {
    items: page.items.map(toItem),
    nextCursor: page.hasMore && last ? encodeCursor({ createdAt: last.failedAt, id: last.jobId }) : null,
    total: page.total,
    groups: page.groups.map(toGroup),
    scan: { perQueueCap: page.scan.perQueueCap, truncated: page.scan.truncated },
  };
}

export const toReplayReceiptBody = (r: ReplayReceipt): z.input<typeof replayReceiptSchema> => ({
  jobId: r.jobId,
  agent: r.agent,
  pipelineId: r.pipelineId,
  stageId: r.stageId,
  stageKey: r.stageKey,
  mode: r.mode,
  restored: r.restored,
});

export const toBulkReplayReportBody = (r: BulkReplayReport): z.input<typeof bulkReplayReportSchema> => ({
  matched: r.matched,
  replayed: r.replayed,
  replayedJobIds: r.replayedJobIds,
  skipped: r.skipped.map((s) => ({ jobId: s.jobId, reason: s.reason, message: s.message })),
});
