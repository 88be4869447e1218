// Error fingerprints for the dead-letter queue: failures that differ only in ids, numbers,
// timestamps or quoted values share one fingerprint, so an operator sees one group per cause.
import { createHash } from 'node:crypto';

/** Normalized messages are cut here: the cause is in the first words, not in a dumped payload. */
export const MAX_NORMALIZED_LENGTH = 500;

// Applied in this order: a UUID or a timestamp contains numbers, so they go first.
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const TIMESTAMP = /\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?/g;
// "…", '…' and `…`; a single quote only opens after a non-word character, so "can't" stays.
const QUOTED = /"(?:[^"\\\n]|\\.)*"|(?<!\w)'(?:[^'\\\n]|\\.)*'|`[^`\n]*`/g;
// A hash, a commit or an object id: a run of 7+ hex characters with a digit and a letter (a run
// of digits only is a number).
const HEX_ID = /\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,}\b/gi;
// An id with a short prefix such as req_8f3k2j9d or cus-AbC123xyz: 6+ characters with a digit.
const PREFIXED_ID = /\b([a-z]{2,12}[_-])(?=[a-z]*\d)[a-z0-9]{6,}\b/gi;
// A number that stands alone, with its dots (12.5, 1.2.3, 10.0.0.7) and a unit of up to three
// letters (1200ms, 10MB); digits inside a word (e2e, http2, v1) stay.
const NUMBER = /(?<![\w.])[-+]?\d+(?:\.\d+)*(?=[a-z]{0,3}(?!\w))/gi;

/**
 * Strips what varies between occurrences of the same failure: UUIDs, timestamps, quoted values,
 * hex and prefixed ids, and numbers become placeholders; whitespace collapses; the result is
 * cut at {@link MAX_NORMALIZED_LENGTH} characters.
 */
export function normalizeErrorMessage(message: string): string {
  return message
    .replace(UUID, '<uuid>')
    .replace(TIMESTAMP, '<time>')
    .replace(QUOTED, (quoted) => `${quoted[0]}<str>${quoted[0]}`)
    .replace(HEX_ID, '<id>')
    .replace(PREFIXED_ID, (_id, prefix: string) => `${prefix}<id>`)
    .replace(NUMBER, '<n>')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, MAX_NORMALIZED_LENGTH);
}

export interface ErrorFingerprint {
  /** 16 hex characters: the first 64 bits of SHA-256 over agent, code and normalized message. */
  fingerprint: string;
  normalizedMessage: string;
}

/** The fingerprint of a failure: the same agent, error code and normalized message give the same one. */
export function fingerprintError({ agent, code, message }: { agent: string; code: string; message: string }): ErrorFingerprint {
  const normalizedMessage = normalizeErrorMessage(message);
  // Fields joined by a character none of them contains, so ("a", "b c") and ("a b", "c") differ.
  const fingerprint = createHash('sha256').update(`${agent}\u0000${code}\u0000${normalizedMessage}`).digest('hex').slice(0, 16);
  return { fingerprint, normalizedMessage };
}

export const FINGERPRINT_PATTERN = /^[0-9a-f]{16}$/;
