// What a raw JSON text holds that JSON.parse would hide, read from its bytes before anything
// parses it: how deep it nests (a body nested thousands of levels deep overflows the stack of
// recursive validators (zod) and walkers, so the limit must hold before JSON.parse builds the
// value), and a key given twice in one object (JSON.parse keeps the last without a word).

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

const COMMA = 0x2c;

interface Frame {
  /** The keys seen so far in this object; undefined for an array. */
  keys: Set<string> | undefined;
  /** An object's current key, or an array's current index. */
  segment: string | number;
  /** In an object: the next string is a key. */
  expectKey: boolean;
}

/**
 * The path (`["input", "a"]`, `["stages", 0, "name"]`) of the first key that appears twice in one
 * object of the JSON text in `bytes` (UTF-8), or undefined. JSON.parse keeps the last value and
 * says nothing, while another parser (a proxy's, an audit tool's) may keep the first: one body,
 * two readings. Keys compare after unescaping (`"a"` and `"\u0061"` are the same key). Expects
 * well-formed JSON (the parser judges the rest) and a depth bounded before (jsonNestsDeeperThan).
 */
export function findDuplicateKey(bytes: Uint8Array): Array<string | number> | undefined {
  const stack: Frame[] = [];
  const decoder = new TextDecoder();
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === QUOTE) {
      const start = i;
      let escaped = false;
      for (i++; i < bytes.length && bytes[i] !== QUOTE; i++) {
        if (bytes[i] === BACKSLASH) {
          escaped = true;
          i++;
        }
      }
      const top = stack[stack.length - 1];
      if (!top?.keys || !top.expectKey) continue;
      const raw = bytes.subarray(start, i + 1);
      let key: string;
      try {
        key = escaped ? (JSON.parse(decoder.decode(raw)) as string) : decoder.decode(raw.subarray(1, raw.length - 1));
      } catch {
        return undefined; // malformed: the parser refuses it next
      }
      top.segment = key;
      top.expectKey = false;
      if (top.keys.has(key)) return stack.map((frame) => frame.segment);
      top.keys.add(key);
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      stack.push({ keys: byte === OPEN_BRACE ? new Set() : undefined, segment: 0, expectKey: byte === OPEN_BRACE });
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      stack.pop();
    } else if (byte === COMMA) {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
      else if (top) top.segment = (top.segment as number) + 1;
    }
  }
  return undefined;
}
