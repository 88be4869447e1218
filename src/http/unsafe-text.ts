// Text a request may not carry, found anywhere in a parsed body or query: NUL characters (Postgres
// text and jsonb cannot store U+0000), lone surrogates (not Unicode: jsonb refuses them, and
// UTF-8 cannot encode them), keys or strings longer than the configured caps, and the key
// `__proto__` (JSON.parse keeps it as an own key, but zod's object and record schemas drop it
// without a word, strict ones included: it would vanish from a stored input, or slip past a
// strict schema's unknown-key check). Refused rather than rewritten: a stored value is always what
// the client sent.
import { ValidationError, type CodeOf, type ErrorDetail } from '../domain/errors.js';

export interface TextLimits {
  /** Longest object key (or query parameter name), in UTF-16 code units. */
  maxKeyLength: number;
  /** Longest string value, in UTF-16 code units. */
  maxStringLength: number;
}

export type UnsafeTextKind = 'nul' | 'lone_surrogate' | 'key_too_long' | 'string_too_long' | 'reserved_key';

/** Keys refused wherever they appear: the schemas would drop them, so they could not be stored as sent. */
const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__']);

export interface UnsafeText extends ErrorDetail {
  code: UnsafeTextKind;
}

export interface FindUnsafeTextOptions extends TextLimits {
  /** Put before every field path: `?` for a query string. */
  prefix?: string;
  /** Stop after this many problems (default 10): the answer stays small whatever the body. */
  maxProblems?: number;
}

/** Keys are echoed in field paths: shown at most this long, with invisible characters escaped. */
const KEY_SHOWN = 64;
// Controls, lone high surrogates and lone low surrogates: exactly what must not be echoed raw.
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function printable(key: string): string {
  const shown = key.length > KEY_SHOWN ? `${key.slice(0, KEY_SHOWN)}…` : key;
  return shown.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

type Segment = string | number;
/** A field path as a chain back to the root: built only for the few values that are refused. */
interface PathNode {
  parent: PathNode | undefined;
  segment: Segment;
}

function formatField(path: PathNode | undefined, prefix: string): string {
  const segments: Segment[] = [];
  for (let node = path; node; node = node.parent) segments.push(node.segment);
  let out = '';
  for (let i = segments.length - 1; i >= 0; i--) {
    const part = segments[i]!;
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${printable(part)}` : printable(part);
  }
  return out ? `${prefix}${out}` : prefix || '(body)';
}

/** The field name of a path given as its segments (`["stages", 0, "name"]` is `stages[0].name`). */
export function fieldOf(segments: ReadonlyArray<string | number>, prefix = ''): string {
  let path: PathNode | undefined;
  for (const segment of segments) path = { parent: path, segment };
  return formatField(path, prefix);
}

function problemOf(text: string, maxLength: number, what: 'key' | 'string'): { code: UnsafeTextKind; message: string } | undefined {
  if (what === 'key' && RESERVED_KEYS.has(text))
    return { code: 'reserved_key', message: `"${text}" is not accepted as a key: it would be dropped, not stored as sent` };
  if (text.length > maxLength) {
    return what === 'key'
      ? { code: 'key_too_long', message: `the key is longer than ${maxLength} characters (JSON_MAX_KEY_LENGTH)` }
      : { code: 'string_too_long', message: `longer than ${maxLength} characters (JSON_MAX_STRING_LENGTH)` };
  }
  const subject = what === 'key' ? 'the key contains' : 'contains';
  if (text.includes('\u0000')) return { code: 'nul', message: `${subject} a NUL character (\\u0000), which cannot be stored` };
  if (!text.isWellFormed())
    return {
      code: 'lone_surrogate',
      message: `${subject} a lone surrogate (an unpaired \\ud800-\\udfff escape), which is not valid Unicode`,
    };
  return undefined;
}

/**
 * The NULs, lone surrogates, `__proto__` keys and over-long keys or strings in `value` (a parsed JSON body, or a
 * parsed query whose values are strings or arrays of strings), one per key or string, depth first
 * (an object's keys before its values), each naming its field (`input.a.b`, `stages[0].name`,
 * `?name`). Iterative: the value's depth was bounded before parsing, but a walk need not rely on it.
 */
export function findUnsafeText(value: unknown, options: FindUnsafeTextOptions): UnsafeText[] {
  const { maxKeyLength, maxStringLength, prefix = '', maxProblems = 10 } = options;
  const found: UnsafeText[] = [];
  const values: unknown[] = [value];
  const paths: Array<PathNode | undefined> = [undefined];
  while (values.length > 0 && found.length < maxProblems) {
    const current = values.pop();
    const path = paths.pop();
    if (typeof current === 'string') {
      const problem = problemOf(current, maxStringLength, 'string');
      if (problem) found.push({ field: formatField(path, prefix), ...problem });
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    // Pushed last to first, so they come off the stack in document order.
    if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) {
        values.push(current[i]);
        paths.push({ parent: path, segment: i });
      }
      continue;
    }
    const keys = Object.keys(current);
    for (const key of keys) {
      const problem = problemOf(key, maxKeyLength, 'key');
      if (problem) found.push({ field: formatField({ parent: path, segment: key }, prefix), ...problem });
    }
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      values.push((current as Record<string, unknown>)[key]);
      paths.push({ parent: path, segment: key });
    }
  }
  return found.slice(0, maxProblems);
}

const CODE_OF: Readonly<Record<UnsafeTextKind, CodeOf<'validation'>>> = {
  nul: 'INVALID_CHARACTER',
  lone_surrogate: 'INVALID_CHARACTER',
  key_too_long: 'KEY_TOO_LONG',
  string_too_long: 'STRING_TOO_LONG',
  reserved_key: 'VALIDATION_FAILED',
};

const MESSAGE_OF: Readonly<Record<UnsafeTextKind, string>> = {
  nul: 'The request contains a NUL character (\\u0000), which is not accepted.',
  lone_surrogate: 'The request contains a lone surrogate (an unpaired \\ud800-\\udfff escape), which is not valid Unicode.',
  key_too_long: 'The request contains a key longer than the server accepts.',
  string_too_long: 'The request contains a string longer than the server accepts.',
  reserved_key: 'The request uses "__proto__" as a key, which is not accepted.',
};

/** The 400 for what findUnsafeText found (not empty): the first problem gives the code, every one is a detail. */
export function unsafeTextError(found: readonly UnsafeText[]): ValidationError {
  const first = found[0]!.code;
  return new ValidationError(CODE_OF[first], MESSAGE_OF[first], { details: [...found] });
}
