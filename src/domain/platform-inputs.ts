// The stage input keys only the platform writes: a person's answer reaches the stage that asked
// through them. `decisions` holds the approvals of what its agent asked (`ctx.requestDecision`,
// appended when the decision is approved); `clarifications` the answers to its questions (appended
// when a clarification is answered). An agent trusts them as a person's word: the llm agent spends
// past the token budget on an approval it finds there, the requirements agent skips the questions
// it finds answered and raises its confidence. So a submission may not set them (it would forge an
// approval or an answer): refused with 400 naming each. A re-run takes over the answers the old
// pipeline was given, not its approvals (definitionAsItEnded in rerun.ts).
import { ValidationError, type ErrorDetail } from './errors.js';
import type { JsonObject } from './json.js';

/** Each key the platform writes into a stage's input, with what writes it. */
export const PLATFORM_STAGE_INPUT_KEYS = {
  decisions: 'the platform writes it when a person approves a decision the stage asked for',
  clarifications: "the platform writes it when a person answers the stage's clarification",
} as const;

/** The input key that carries approvals: a re-run drops it, so that the new run asks again. */
export const APPROVALS_INPUT_KEY = 'decisions';

/**
 * Refuses a submitted definition whose stage inputs set a key the platform writes: 400
 * VALIDATION_FAILED, one detail per key, `stages[i].input.<key>`.
 */
export function checkNoPlatformInputs(stages: readonly { input: JsonObject }[]): void {
  const details: ErrorDetail[] = [];
  stages.forEach((stage, i) => {
    for (const [key, writer] of Object.entries(PLATFORM_STAGE_INPUT_KEYS)) {
      if (Object.hasOwn(stage.input, key)) {
        details.push({ field: `stages[${i}].input.${key}`, code: 'reserved_input', message: `may not be submitted: ${writer}` });
      }
    }
  });
  if (details.length > 0) {
    throw new ValidationError('VALIDATION_FAILED', 'The pipeline definition sets stage inputs only the platform writes.', { details });
  }
}
