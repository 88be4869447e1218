// Whether a secret is strong enough for production: long, varied and not a pattern. Pure.
//
// Thresholds, chosen so that `openssl rand -hex 16` (32 hex characters) and `openssl rand -base64 24`
// pass (none of a million random samples of each failed) while typed-in secrets do not: 32
// characters; 8 distinct characters; 2.5 bits of Shannon entropy per character (32 random hex
// characters carry about 3.7); no repeated unit (`abcabc…`, `passwordpassword…`); no character 8
// times in a row; not mostly a run of neighbouring characters (`abcdef…`, `0123…`).

export const MIN_SECRET_LENGTH = 32;
const MIN_DISTINCT = 8;
const MIN_BITS_PER_CHAR = 2.5;
const MAX_RUN = 7;

/** Shannon entropy of the characters of `value`, in bits per character. */
export function shannonBitsPerChar(value: string): number {
  const chars = [...value];
  const counts = new Map<string, number>();
  for (const c of chars) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / chars.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** The shortest unit whose repetition makes `value` (its length when it has none shorter than half). */
function repeatedUnit(value: string): number {
  for (let unit = 1; unit <= value.length / 2; unit++) {
    let repeats = true;
    for (let i = unit; i < value.length && repeats; i++) repeats = value[i] === value[i - unit];
    if (repeats) return unit;
  }
  return value.length;
}

/** The longest run of one character (`aaaa` is 4). */
function longestRun(value: string): number {
  let longest = 0;
  let run = 0;
  for (let i = 0; i < value.length; i++) {
    run = i > 0 && value[i] === value[i - 1] ? run + 1 : 1;
    longest = Math.max(longest, run);
  }
  return longest;
}

/** Share of neighbouring pairs that step by one code point (`ab`, `98`). */
function sequentialShare(value: string): number {
  let steps = 0;
  for (let i = 1; i < value.length; i++) if (Math.abs(value.charCodeAt(i) - value.charCodeAt(i - 1)) === 1) steps++;
  return value.length > 1 ? steps / (value.length - 1) : 0;
}

/**
 * Why `value` is too weak for a production secret, or undefined when it is strong enough. The
 * answer never quotes the value.
 */
export function secretWeakness(value: string): string | undefined {
  const length = [...value].length;
  if (length < MIN_SECRET_LENGTH) return `is ${length} characters long; production needs ${MIN_SECRET_LENGTH} at least`;
  const distinct = new Set(value).size;
  if (distinct < MIN_DISTINCT) return `has low entropy: only ${distinct} distinct characters (${MIN_DISTINCT} at least)`;
  const unit = repeatedUnit(value);
  if (unit < length) return `has low entropy: it repeats a ${unit}-character pattern`;
  const run = longestRun(value);
  if (run > MAX_RUN) return `has low entropy: one character repeats ${run} times in a row`;
  if (sequentialShare(value) > 0.5) return 'has low entropy: it is mostly a run of neighbouring characters (abc…, 123…)';
  const bits = shannonBitsPerChar(value);
  if (bits < MIN_BITS_PER_CHAR) return `has low entropy: ${bits.toFixed(1)} bits per character (${MIN_BITS_PER_CHAR} at least)`;
  return undefined;
}
