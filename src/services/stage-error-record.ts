// A stage error record of the hierarchy, as stages[].error and runs[].error hold it.
import type { ErrorDescription } from '../domain/errors.js';
import type { JsonValue } from '../domain/json.js';

export interface StageErrorRecord {
  [key: string]: JsonValue;
  code: string;
  message: string;
  retryable: boolean;
}

/** `{ code, message, retryable, category, hint }` of a classified error or a described code. */
export const stageErrorRecord = ({ code, message, retryable, category, hint }: ErrorDescription): StageErrorRecord => ({
  code,
  message,
  retryable,
  category,
  hint,
});
