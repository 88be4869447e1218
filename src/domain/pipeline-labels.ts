// Pipeline labels: key/value tags given at submission (`{ "team": "payments" }`), stored with the
// pipeline and matched by the list's `label=key:value` filter. One home for their rules.
import { z } from 'zod';
import { ValidationError, type ErrorDetail } from './errors.js';
import { CONTROL_CHARACTER_MESSAGE, isDisplayText } from './display-text.js';

export const MAX_LABELS = 20;
export const MAX_LABEL_VALUE_LENGTH = 200;
/** Lower case, digits and `._/-`, starting with a letter or digit, 63 characters at most (no `:`, the filter's separator). */
export const LABEL_KEY_PATTERN = /^[a-z0-9]([a-z0-9._/-]{0,62})$/;

export type PipelineLabels = Record<string, string>;

const labelKeySchema = z.string().regex(LABEL_KEY_PATTERN, 'a key is 1 to 63 of a-z 0-9 . _ / -, starting with a letter or digit');
const labelValueSchema = z
  .string()
  .max(MAX_LABEL_VALUE_LENGTH, `a value is a string of ${MAX_LABEL_VALUE_LENGTH} characters at most`)
  .refine(isDisplayText, `a value is one line of text: ${CONTROL_CHARACTER_MESSAGE}`);

/**
 * The labels of a submission (absent: none). Every offending entry is named `labels.<key>`;
 * too many, or not an object, is named `labels`.
 */
export function parseLabels(raw: unknown): PipelineLabels {
  if (raw === undefined) return {};
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw invalidLabels([{ field: 'labels', message: 'expected an object of string values, e.g. { "team": "payments" }' }]);
  }
  const entries = Object.entries(raw as Record<string, unknown>);
  const details: ErrorDetail[] = [];
  if (entries.length > MAX_LABELS) details.push({ field: 'labels', message: `${MAX_LABELS} labels at most (got ${entries.length})` });
  for (const [key, value] of entries) {
    const keyCheck = labelKeySchema.safeParse(key);
    if (!keyCheck.success) details.push({ field: `labels.${key}`, message: keyCheck.error.issues[0]!.message });
    const valueCheck = labelValueSchema.safeParse(value);
    if (!valueCheck.success) details.push({ field: `labels.${key}`, message: valueCheck.error.issues[0]!.message });
  }
  if (details.length > 0) throw invalidLabels(details);
  return Object.fromEntries(entries) as PipelineLabels;
}

function invalidLabels(details: ErrorDetail[]): ValidationError {
  return new ValidationError('VALIDATION_FAILED', 'Invalid pipeline labels.', { details });
}

/** A list filter `key:value` (split at the first colon: keys hold none, values may); null when malformed. */
export function parseLabelFilter(filter: string): [key: string, value: string] | null {
  const colon = filter.indexOf(':');
  if (colon < 0) return null;
  const key = filter.slice(0, colon);
  const value = filter.slice(colon + 1);
  return LABEL_KEY_PATTERN.test(key) && value.length <= MAX_LABEL_VALUE_LENGTH ? [key, value] : null;
}
