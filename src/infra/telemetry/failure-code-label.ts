// The `code` label of agentic_stage_failures_total, kept bounded (docs/observability.md,
// "Metrics"). A stage's error code is the platform's (the catalogue, src/domain/error-codes.ts) or
// whatever code an agent's error carries: agents declare none, so a buggy or hostile agent module
// that puts an id in its code would make one series per failure. Catalogue codes are always
// themselves; each agent type shows its first MAX_AGENT_FAILURE_CODES distinct other codes as
// themselves in this process, and any later one (or one longer than MAX_FAILURE_CODE_LENGTH) as
// `other`. Per agent type, so one misbehaving agent cannot push another agent's codes into `other`.
import { isErrorCode } from '../../domain/error-codes.js';

/** Distinct codes outside the catalogue that one agent type shows as themselves, per process. */
export const MAX_AGENT_FAILURE_CODES = 50;
/** A code outside the catalogue longer than this is shown as `other` (ours are far shorter). */
export const MAX_FAILURE_CODE_LENGTH = 64;
/** The label of the codes past the cap. */
export const OTHER_FAILURE_CODE = 'other';

/**
 * A function giving the label value of one failure's code for its agent type, remembering the
 * codes seen so far (one per metrics registry).
 * @param max distinct non-catalogue codes per agent type (default MAX_AGENT_FAILURE_CODES)
 */
export function createFailureCodeLabel(max: number = MAX_AGENT_FAILURE_CODES): (agent: string, code: string) => string {
  const seen = new Map<string, Set<string>>();
  return function failureCodeLabel(agent, code) {
    if (isErrorCode(code)) return code;
    if (code.length > MAX_FAILURE_CODE_LENGTH) return OTHER_FAILURE_CODE;
    let codes = seen.get(agent);
    if (!codes) {
      codes = new Set();
      seen.set(agent, codes);
    }
    if (codes.has(code)) return code;
    if (codes.size >= max) return OTHER_FAILURE_CODE;
    codes.add(code);
    return code;
  };
}
