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

const COMMA = 0x2c;

interface Frame {
  /** The keys seen so far in this object; undefined for an array. */
  keys: Set<string> | undefined;
  /** An object's current key, or an array's current index. */
  segment: string | number;
  /** In an object: the next string is a key. */
  expectKey: boolean;
}

/** What the bytes of a JSON text hide from JSON.parse: undefined when neither. */
export type JsonShapeProblem =
  /** More than `maxDepth` arrays or objects inside one another. */
  | { kind: 'too_deep' }
  /** A key given twice in one object; `path` is where (`["input", "a"]`, `["stages", 0, "name"]`). */
  | { kind: 'duplicate_key'; path: Array<string | number> };

/**
 * One pass over the JSON text in `bytes` (UTF-8), before anything parses it. Depth: more than
 * `maxDepth` arrays or objects inside one another (`{}` is depth 1, `{"a":[1]}` depth 2) is
 * `too_deep`, wherever it is in the text (it wins over a duplicate key found before it), and the
 * scan stops there, so a body 100,000 levels deep costs no more than one at the limit. Keys: the
 * first key that appears twice in one object is `duplicate_key`: JSON.parse keeps the last value
 * and says nothing, while another parser (a proxy's, an audit tool's) may keep the first, one
 * body, two readings. Keys compare after unescaping (`"a"` and `"\u0061"` are the same key).
 * Brackets inside strings do not count; in UTF-8 every byte of a multi-byte character is >= 0x80,
 * so no character can pass for one of the ASCII bytes looked at. Malformed JSON is not judged
 * here: the parser refuses it next (a key that cannot be read ends the key check, not the depth one).
 */
export function findShapeProblem(bytes: Uint8Array, maxDepth: number): JsonShapeProblem | undefined {
  let depth = 0;
  // Undefined once the key check is over: a duplicate found, or a key that cannot be read.
  let frames: Frame[] | undefined = [];
  let duplicate: Array<string | number> | undefined;
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
      const top = frames?.[frames.length - 1];
      if (!frames || !top?.keys || !top.expectKey) continue;
      const raw = bytes.subarray(start, i + 1);
      let key: string;
      try {
        key = escaped ? (JSON.parse(decoder.decode(raw)) as string) : decoder.decode(raw.subarray(1, raw.length - 1));
      } catch {
        frames = undefined;
        continue;
      }
      top.segment = key;
      top.expectKey = false;
      if (top.keys.has(key)) {
        duplicate = frames.map((frame) => frame.segment);
        frames = undefined;
      } else top.keys.add(key);
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      depth++;
      if (depth > maxDepth) return { kind: 'too_deep' };
      frames?.push({ keys: byte === OPEN_BRACE ? new Set() : undefined, segment: 0, expectKey: byte === OPEN_BRACE });
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth--;
      frames?.pop();
    } else if (byte === COMMA && frames) {
      const top = frames[frames.length - 1];
      if (top?.keys) top.expectKey = true;
      else if (top) top.segment = (top.segment as number) + 1;
    }
  }
  return duplicate ? { kind: 'duplicate_key', path: duplicate } : undefined;
}
