// What `ctx.requestClarification` throws to stop a handler and ask a human. Agents throw it
// (re-exported by the SDK, agents/define-agent.ts) and the stage runner catches it, so it lives
// here, below both. The questions go whole into the clarification.requested event and its
// webhook, so they get the rule the other webhook events' agent text gets (MAX_MESSAGE): each
// question is cut to it, and a request that is not a bounded list of questions is refused.
import { z } from 'zod';
import { MAX_MESSAGE } from './errors.js';
import type { ClarificationQuestion } from './requirements-check.js';

/** At most this many questions per request (the answer endpoint names each missing answer). */
export const MAX_CLARIFICATION_QUESTIONS = 100;

const REASONS = ['ambiguous_term', 'missing_acceptance_criteria', 'too_short', 'low_confidence', 'asked_by_agent'] as const;

const listSchema = z.array(z.unknown()).max(MAX_CLARIFICATION_QUESTIONS);
// Other keys are dropped: they would go into the event and its webhook too.
const questionSchema = z.object({ id: z.string().min(1).max(200), reason: z.enum(REASONS), question: z.string() });

/** The first problem of a request, as `<path>: <message>`; null when it is well formed. */
function problemOf(questions: readonly unknown[]): string | null {
  const list = listSchema.safeParse(questions);
  if (!list.success) return `questions: ${list.error.issues[0]!.message}`;
  for (const [i, q] of questions.entries()) {
    if (typeof q === 'string') continue;
    const parsed = questionSchema.safeParse(q);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return `${[i, ...issue.path].join('.')}: ${issue.message}`;
    }
  }
  return null;
}

/** Thrown by `ctx.requestClarification`; the stage runner turns it into a Clarification. */
export class ClarificationRequest extends Error {
  override readonly name = 'ClarificationRequest';
  readonly questions: ClarificationQuestion[];
  constructor(questions: readonly (string | ClarificationQuestion)[]) {
    super('the agent asked for a clarification');
    // A programming error of the agent, named like any other input problem (as requestDecision does).
    const problem = problemOf(questions);
    if (problem) throw new TypeError(`requestClarification: ${problem}`);
    this.questions = questions.map((q, i) =>
      typeof q === 'string'
        ? { id: `q${i + 1}`, reason: 'asked_by_agent', question: q.slice(0, MAX_MESSAGE) }
        : { id: q.id, reason: q.reason, question: q.question.slice(0, MAX_MESSAGE) },
    );
  }
}
