// How deep a raw JSON text nests, read from its bytes before anything parses it: a body nested
// thousands of levels deep overflows the stack of recursive validators (zod) and walkers, so the
// limit must hold before JSON.parse builds the value.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * True when the JSON text in `bytes` (UTF-8) opens more than `maxDepth` arrays or objects inside
 * one another (`{}` is depth 1, `{"a":[1]}` depth 2). Brackets inside strings do not count. In
 * UTF-8 every byte of a multi-byte character is >= 0x80, so no character can pass for one of the
 * ASCII bytes looked at. Malformed JSON is not judged here: the parser refuses it next.
 */
export function jsonNestsDeeperThan(bytes: Uint8Array, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_BRACKET || byte === OPEN_BRACE) {
      depth++;
      if (depth > maxDepth) return true;
    } else if (byte === CLOSE_BRACKET || byte === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}
