// The public shape of clarifications (questions about unclear requirements and their answers),
// the request schemas of /api/v1/clarifications, and the mapping from the service's view.
import { z } from 'zod';
import { CLARIFICATION_STATUSES } from '../../domain/status.js';
import type { ClarificationView } from '../../services/clarification.ports.js';
import { cursorPage, isoDate, toIso, toIsoOrNull, uuidInput, wholeNumberParam } from './common.schema.js';
import { noActorField } from './decisions.schema.js';

// --- requests -------------------------------------------------------------------------------

export const clarificationListQuerySchema = z
  .object({
    status: z.enum(CLARIFICATION_STATUSES).optional(),
    pipelineId: uuidInput().optional(),
    limit: wholeNumberParam(1, 100).default(20),
    cursor: z.string().max(200).optional(),
  })
  .strict();

// The answers are checked against the questions asked (every one answered, none unknown) by
// the service, which knows them.
export const clarificationAnswerSchema = z.object({ actor: noActorField, answers: z.record(z.string().max(200), z.unknown()) }).strict();

// --- responses ------------------------------------------------------------------------------

export const clarificationSchema = z
  .object({
    id: z.uuid(),
    pipelineId: z.uuid(),
    stageKey: z.string().nullable().meta({ description: 'Null: asked at submission (the roots wait for it).' }),
    status: z.enum(CLARIFICATION_STATUSES),
    questions: z.array(
      z.object({
        id: z.string(),
        reason: z.enum(['ambiguous_term', 'missing_acceptance_criteria', 'too_short', 'low_confidence', 'asked_by_agent']),
        question: z.string(),
      }),
    ),
    answers: z.record(z.string(), z.string()).nullable(),
    askedBy: z.string(),
    answeredBy: z.string().nullable(),
    createdAt: isoDate,
    answeredAt: isoDate.nullable(),
  })
  .meta({ id: 'Clarification' });

export const clarificationPageSchema = cursorPage(clarificationSchema).meta({ id: 'ClarificationPage' });

export type ClarificationBody = z.input<typeof clarificationSchema>;

// --- mapping --------------------------------------------------------------------------------

export function toClarificationBody(c: ClarificationView): ClarificationBody {
  return {
    id: c.id,
    pipelineId: c.pipelineId,
    stageKey: c.stageKey,
    status: c.status,
    questions: c.questions.map((q) => ({ id: q.id, reason: q.reason, question: q.question })),
    answers: c.answers,
    askedBy: c.askedBy,
    answeredBy: c.answeredBy,
    createdAt: toIso(c.createdAt),
    answeredAt: toIsoOrNull(c.answeredAt),
  };
}
