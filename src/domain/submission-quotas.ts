// Quotas on one submission, pure: how many stages a pipeline may have and how many bytes of input
// it may carry, checked on the raw request before the (costlier) full validation. Over either:
// 413 with a code of its own (TOO_MANY_STAGES, INPUT_TOO_LARGE) naming the cap.
import { ValidationError } from './errors.js';
import { jsonByteLength } from './json.js';

export interface SubmissionQuotas {
  /** Stages one pipeline may have (MAX_STAGES_PER_PIPELINE). */
  maxStages: number;
  /** JSON bytes of `input` plus every stage's `input` (MAX_SUBMISSION_INPUT_BYTES). */
  maxInputBytes: number;
}

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Bytes of an `input` as sent (an absent one costs nothing); undefined when it cannot be serialized (too deep). */
function inputBytes(holder: unknown): number | undefined {
  if (!isRecord(holder) || holder.input === undefined) return 0;
  try {
    return jsonByteLength(holder.input);
  } catch {
    // Nested deeper than JSON.stringify's stack: the definition's validation refuses it.
    return undefined;
  }
}

/**
 * The input bytes of a raw definition: its own `input` and each stage's, as sent. Undefined when
 * some input could not be measured.
 */
export function submissionInputBytes(raw: unknown): number | undefined {
  const stages = isRecord(raw) && Array.isArray(raw.stages) ? (raw.stages as unknown[]) : [];
  let total = inputBytes(raw);
  for (const stage of stages) {
    const bytes = inputBytes(stage);
    if (total === undefined || bytes === undefined) return undefined;
    total += bytes;
  }
  return total;
}

/**
 * Throws a 413 ValidationError when a raw definition (a request body, or a template's stages with
 * the request's input) has more stages or more input bytes than the quotas allow. Anything it
 * cannot count (no `stages` array, say) is left to the definition's validation.
 */
export function checkSubmissionQuotas(raw: unknown, quotas: SubmissionQuotas): void {
  const stageCount = isRecord(raw) && Array.isArray(raw.stages) ? raw.stages.length : 0;
  if (stageCount > quotas.maxStages) {
    throw new ValidationError(
      'TOO_MANY_STAGES',
      `The pipeline has ${stageCount} stages; MAX_STAGES_PER_PIPELINE is ${quotas.maxStages}. Nothing was recorded.`,
      {
        details: [
          {
            field: 'stages',
            code: 'too_many_stages',
            message: `at most ${quotas.maxStages} stages (MAX_STAGES_PER_PIPELINE=${quotas.maxStages}); got ${stageCount}`,
          },
        ],
      },
    );
  }
  const bytes = submissionInputBytes(raw);
  if (bytes !== undefined && bytes > quotas.maxInputBytes) {
    throw new ValidationError(
      'INPUT_TOO_LARGE',
      `The inputs add up to ${bytes} bytes of JSON; MAX_SUBMISSION_INPUT_BYTES is ${quotas.maxInputBytes}. Nothing was recorded.`,
      {
        details: [
          {
            field: 'input',
            code: 'input_too_large',
            message: `input and every stage input together: at most ${quotas.maxInputBytes} bytes (MAX_SUBMISSION_INPUT_BYTES=${quotas.maxInputBytes}); got ${bytes}`,
          },
        ],
      },
    );
  }
}
