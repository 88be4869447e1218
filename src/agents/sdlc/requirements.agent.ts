// `requirements`: the initialization stage. It checks the requirements (its input, else the
// pipeline's) with the same rules as a submission, asks a human about what is unclear, and
// passes on the requirements with the answers it got.
import { z } from 'zod';
import { normalizeConfidence } from '../../domain/decision-policy.js';
import { checkRequirements } from '../../domain/requirements-check.js';
import { defineAgent } from '../define-agent.js';

const answeredSchema = z.array(
  z.object({ answers: z.array(z.object({ id: z.string(), question: z.string(), answer: z.string() })) }).loose(),
);

export const requirementsAgent = defineAgent({
  type: 'requirements',
  version: '1.0.0',
  description: 'Checks the requirements for ambiguity, missing acceptance criteria and low confidence; asks a human when unclear.',
  input: z
    .object({
      requirements: z.string().max(100_000).optional(),
      acceptanceCriteria: z.array(z.string().max(4000)).max(200).optional(),
      confidence: z.number().min(0).max(100).optional(),
      clarifications: answeredSchema.optional(),
    })
    .loose(),
  output: z.object({
    requirements: z.string(),
    acceptanceCriteria: z.array(z.string()),
    clarifications: z.array(z.object({ id: z.string(), question: z.string(), answer: z.string() })),
    confidence: z.number(),
  }),
  handler: async ({ input, pipelineInput, requestClarification }) => {
    const requirements = input.requirements ?? (typeof pipelineInput.requirements === 'string' ? pipelineInput.requirements : '');
    const criteria =
      input.acceptanceCriteria ?? (Array.isArray(pipelineInput.acceptanceCriteria) ? pipelineInput.acceptanceCriteria : undefined);
    const confidence = input.confidence ?? normalizeConfidence(pipelineInput.confidence) ?? undefined;
    // Answers given at submission (pipeline input) or to this stage's own questions.
    const answered = [...answeredSchema.catch([]).parse(pipelineInput.clarifications ?? []), ...(input.clarifications ?? [])].flatMap(
      (round) => round.answers,
    );
    const answeredIds = new Set(answered.map((a) => a.id));
    const open = checkRequirements({ requirements, acceptanceCriteria: criteria, confidence }).filter((q) => !answeredIds.has(q.id));
    if (open.length > 0) requestClarification(open);
    return {
      requirements,
      acceptanceCriteria: (criteria ?? []).filter((c): c is string => typeof c === 'string'),
      clarifications: answered,
      // Answered questions are what lowered it: a human has now filled the gaps.
      confidence: answered.length > 0 ? Math.max(confidence ?? 90, 90) : (confidence ?? 90),
    };
  },
});
