// What `ctx.requestClarification` throws to stop a handler and ask a human. Agents throw it
// (re-exported by the SDK, agents/define-agent.ts) and the stage runner catches it, so it lives
// here, below both.
import type { ClarificationQuestion } from './requirements-check.js';

/** Thrown by `ctx.requestClarification`; the stage runner turns it into a Clarification. */
export class ClarificationRequest extends Error {
  override readonly name = 'ClarificationRequest';
  readonly questions: ClarificationQuestion[];
  constructor(questions: readonly (string | ClarificationQuestion)[]) {
    super('the agent asked for a clarification');
    this.questions = questions.map((q, i) =>
      typeof q === 'string' ? { id: `q${i + 1}`, reason: 'asked_by_agent', question: q.slice(0, 2000) } : q,
    );
  }
}
