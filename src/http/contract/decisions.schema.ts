// The public shape of decisions, the request schemas of /api/v1/decisions, and the mapping from
// the service's views (services/decision.ports.ts).
import { z } from 'zod';
import { DECISION_CATEGORIES, DECISION_ID_PATTERN } from '../../domain/decision-policy.js';
import { DECISION_STATUSES } from '../../domain/status.js';
import { isProseText, PROSE_CONTROL_CHARACTER_MESSAGE } from '../../domain/display-text.js';
import type { DecisionSummary, DecisionView } from '../../services/decision.ports.js';
import { cursorPage, isoDate, jsonObject, toIso, toIsoOrNull, uuidInput, wholeNumberParam } from './common.schema.js';

// --- requests -------------------------------------------------------------------------------

export const decisionId = z.string().regex(DECISION_ID_PATTERN, 'a decision id such as DEC-2026-00042');
export const decisionIdParams = z.object({ id: decisionId });

export const decisionListQuerySchema = z
  .object({
    status: z.enum(DECISION_STATUSES).optional(),
    category: z.enum(DECISION_CATEGORIES).optional(),
    pipelineId: uuidInput().optional(),
    limit: wholeNumberParam(1, 100).default(20),
    cursor: z.string().max(200).optional(),
  })
  .strict();

/** A body that names its own actor is refused: who answers is whoever authenticated. */
export const noActorField = z
  .unknown()
  .refine((v) => v === undefined, 'not accepted: the actor is the authenticated caller')
  .optional()
  .meta({ description: 'Refused when present: the actor is the authenticated caller.' });

/**
 * The body of an action that takes no fields (cancel, resume, revoke, a schedule's pause): none,
 * or `{}`; anything in it is refused naming it (`actor` as above), never ignored (a cancel's
 * `reason` was dropped silently).
 */
export const noFieldsBodySchema = z.object({ actor: noActorField }).strict();

/** A comment on an answer: prose, several lines allowed, no terminal controls. */
const commentText = z.string().trim().max(4000).refine(isProseText, PROSE_CONTROL_CHARACTER_MESSAGE);

export const decisionAnswerSchema = (commentRequired: boolean) =>
  z
    .object({
      actor: noActorField,
      comment: commentRequired ? commentText.min(1, 'say why') : commentText.optional(),
    })
    .strict();

// --- responses ------------------------------------------------------------------------------

export const decisionSummarySchema = z
  .object({
    id: decisionId,
    pipelineId: z.uuid(),
    stageKey: z.string(),
    category: z.enum(DECISION_CATEGORIES),
    status: z.enum(DECISION_STATUSES),
    confidence: z.number(),
    deadlineAt: isoDate,
    createdAt: isoDate,
    resolvedAt: isoDate.nullable(),
  })
  .meta({ id: 'DecisionSummary' });

export const decisionSchema = decisionSummarySchema
  .extend({
    stageId: z.uuid(),
    threshold: z.number(),
    policyVersion: z.string(),
    quorum: z.number().int(),
    approvers: z.array(z.string()),
    submitter: z.string(),
    onDeadline: z.enum(['reject', 'escalate']),
    evidence: jsonObject,
    votes: z.array(z.object({ actor: z.string(), verdict: z.enum(['approve', 'reject']), comment: z.string().nullable(), at: isoDate })),
    resolvedBy: z.string().nullable(),
    comment: z.string().nullable(),
    updatedAt: isoDate,
  })
  .meta({ id: 'Decision' });

export const decisionPageSchema = cursorPage(decisionSummarySchema).meta({ id: 'DecisionPage' });

export type DecisionSummaryBody = z.input<typeof decisionSummarySchema>;
export type DecisionBody = z.input<typeof decisionSchema>;

// --- mapping --------------------------------------------------------------------------------

export function toDecisionSummaryBody(d: DecisionSummary): DecisionSummaryBody {
  return {
    id: d.id,
    pipelineId: d.pipelineId,
    stageKey: d.stageKey,
    category: d.category,
    status: d.status,
    confidence: d.confidence,
    deadlineAt: toIso(d.deadlineAt),
    createdAt: toIso(d.createdAt),
    resolvedAt: toIsoOrNull(d.resolvedAt),
  };
}

export function toDecisionBody(d: DecisionView): DecisionBody {
  return {
    ...toDecisionSummaryBody(d),
    stageId: d.stageId,
    threshold: d.threshold,
    policyVersion: d.policyVersion,
    quorum: d.quorum,
    approvers: d.approvers,
    submitter: d.submitter,
    onDeadline: d.onDeadline,
    evidence: d.evidence,
    votes: d.votes.map((v) => ({ actor: v.actor, verdict: v.verdict, comment: v.comment, at: toIso(v.at) })),
    resolvedBy: d.resolvedBy,
    comment: d.comment,
    updatedAt: toIso(d.updatedAt),
  };
}
