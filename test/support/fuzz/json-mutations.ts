// Hostile JSON for the fuzz suite: documents are kept as a small syntax tree (objects as entry
// lists), so a mutation can write what a JS object cannot hold: duplicate keys, an own
// `__proto__` key, number tokens such as 1e999, nesting thousands deep. Mutations of valid
// documents reach far deeper into validation than random JSON does.
import fc from 'fast-check';

export type JsonNode =
  { t: 'raw'; text: string } | { t: 'str'; v: string } | { t: 'arr'; items: JsonNode[] } | { t: 'obj'; entries: Array<[string, JsonNode]> };

export const raw = (text: string): JsonNode => ({ t: 'raw', text });
export const str = (v: string): JsonNode => ({ t: 'str', v });

/** A plain JSON value as a tree. */
export function toNode(value: unknown): JsonNode {
  if (typeof value === 'string') return str(value);
  if (Array.isArray(value)) return { t: 'arr', items: value.map(toNode) };
  if (value !== null && typeof value === 'object') return { t: 'obj', entries: Object.entries(value).map(([k, v]) => [k, toNode(v)]) };
  return raw(JSON.stringify(value) ?? 'null');
}

/** The JSON text of a tree (JSON.stringify escapes NUL and lone surrogates as \u0000, \ud800). */
export function serialize(node: JsonNode): string {
  switch (node.t) {
    case 'raw':
      return node.text;
    case 'str':
      return JSON.stringify(node.v);
    case 'arr':
      return `[${node.items.map(serialize).join(',')}]`;
    case 'obj':
      return `{${node.entries.map(([k, v]) => `${JSON.stringify(k)}:${serialize(v)}`).join(',')}}`;
  }
}

const LONE_SURROGATES = ['\ud800', '\udbff', '\udc00', '\udfff'];

/** Strings a client can send: NUL, lone surrogates, bidi and zero-width marks, emoji, long runs. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.string({ maxLength: 5 }),
        fc.constantFrom(...LONE_SURROGATES, '\u0000', '\ud83d\ude00', '\u202e', '\u200b', '\ufeff', '\uffff'),
        fc.string({ maxLength: 5 }),
      )
      .map((parts) => parts.join('')),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '__proto__',
      'constructor',
      'prototype',
      '../../etc/passwd',
      '%00',
      '%ZZ',
      "' OR 1=1 --",
      '<script>alert(1)</script>',
      '${jndi:ldap://x}',
      '{{7*7}}',
      'NaN',
      'null',
      'maybe some etc tbd',
      'DEC-2026-00001',
      '00000000-0000-0000-0000-000000000000',
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 70_000 }).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.integer({ min: 10, max: 3000 }).map((n) => '\u00e9\ud83d\ude00'.repeat(n)) },
);

/** Object keys worth trying: prototype names, the schemas' own field names, hostile strings. */
export const hostileKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    'name',
    'stages',
    'input',
    'key',
    'agent',
    'dependsOn',
    'retry',
    'template',
    'actor',
    'comment',
    'answers',
    'fingerprint',
    'limit',
  ),
  hostileString,
);

/** Number tokens as written: over- and underflow, -0, beyond 2^53, exponents. */
const numberToken: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '1e999',
    '-1e999',
    '1e308',
    '-0',
    '0.1e1',
    '1E2',
    '1e-400',
    '2147483648',
    '-2147483649',
    '9007199254740993',
    '123456789012345678901234567890',
    '0.000000000000000000001',
  ),
  // The schemas' own bounds and one past them: attempts, delays, timeouts, limits, lengths.
  fc.constantFrom(
    '0',
    '1',
    '50',
    '51',
    '100',
    '101',
    '500',
    '501',
    '1000',
    '1001',
    '4000',
    '4001',
    '3600000',
    '3600001',
    '86400000',
    '86400001',
  ),
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
);

/** `[[[…]]]` or `{"a":{"a":…}}`: mostly shallow, sometimes past any sane limit. */
export const deepNesting: fc.Arbitrary<JsonNode> = fc
  .record({
    depth: fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: 1, max: 64 }) },
      { weight: 1, arbitrary: fc.integer({ min: 500, max: 3000 }) },
    ),
    array: fc.boolean(),
  })
  .map(({ depth, array }) => raw(array ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`));

const leaf: fc.Arbitrary<JsonNode> = fc.oneof(
  { weight: 3, arbitrary: hostileString.map(str) },
  { weight: 2, arbitrary: numberToken.map(raw) },
  { weight: 1, arbitrary: fc.constantFrom('true', 'false', 'null').map(raw) },
);

/** Any JSON value of hostile leaves and keys, a few levels deep, sometimes very deep. */
export const hostileValue: fc.Arbitrary<JsonNode> = fc.letrec<{ value: JsonNode }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 5, arbitrary: leaf },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 4 }).map((items): JsonNode => ({ t: 'arr', items })) },
    {
      weight: 1,
      arbitrary: fc.array(fc.tuple(hostileKey, tie('value')), { maxLength: 4 }).map((entries): JsonNode => ({ t: 'obj', entries })),
    },
    { weight: 1, arbitrary: deepNesting },
  ),
})).value;

export type Mutation =
  | { op: 'sameType'; text: string; number: string }
  | { op: 'replace'; value: JsonNode }
  | { op: 'addKey'; key: string; value: JsonNode }
  | { op: 'drop'; index: number }
  | { op: 'duplicateKey'; index: number; value: JsonNode }
  | { op: 'renameKey'; index: number; key: string }
  | { op: 'wrap'; depth: number; array: boolean };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // Keeps the node's type, so the document often stays valid and carries the value to the database.
  { weight: 6, arbitrary: fc.record({ op: fc.constant('sameType' as const), text: hostileString, number: numberToken }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('replace' as const), value: hostileValue }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('addKey' as const), key: hostileKey, value: hostileValue }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('drop' as const), index: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('duplicateKey' as const), index: fc.nat(), value: hostileValue }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('renameKey' as const), index: fc.nat(), key: hostileKey }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('wrap' as const), depth: fc.integer({ min: 1, max: 5 }), array: fc.boolean() }) },
);

function applyAt(node: JsonNode, m: Mutation): JsonNode {
  const entries = node.t === 'obj' ? node.entries : undefined;
  switch (m.op) {
    case 'sameType':
      if (node.t === 'str') return str(m.text);
      if (node.t === 'raw' && /^-?\d/.test(node.text)) return raw(m.number);
      if (node.t === 'obj') return { t: 'obj', entries: [...node.entries, [m.text, str(m.text)]] };
      if (node.t === 'arr') return { t: 'arr', items: [...node.items, str(m.text)] };
      return node;
    case 'replace':
      return m.value;
    case 'addKey':
      return { t: 'obj', entries: [...(entries ?? []), [m.key, m.value]] };
    case 'drop':
      if (entries && entries.length > 0) return { t: 'obj', entries: entries.filter((_, i) => i !== m.index % entries.length) };
      if (node.t === 'arr' && node.items.length > 0)
        return { t: 'arr', items: node.items.filter((_, i) => i !== m.index % node.items.length) };
      return raw('null');
    case 'duplicateKey':
      if (!entries || entries.length === 0) return m.value;
      return { t: 'obj', entries: [...entries, [entries[m.index % entries.length]![0], m.value]] };
    case 'renameKey':
      if (!entries || entries.length === 0) return node;
      return { t: 'obj', entries: entries.map(([k, v], i): [string, JsonNode] => [i === m.index % entries.length ? m.key : k, v]) };
    case 'wrap': {
      let wrapped = node;
      for (let i = 0; i < m.depth; i++) wrapped = m.array ? { t: 'arr', items: [wrapped] } : { t: 'obj', entries: [['a', wrapped]] };
      return wrapped;
    }
  }
}

function countNodes(node: JsonNode): number {
  if (node.t === 'arr') return 1 + node.items.reduce((n, item) => n + countNodes(item), 0);
  if (node.t === 'obj') return 1 + node.entries.reduce((n, [, v]) => n + countNodes(v), 0);
  return 1;
}

/** Applies `m` to the node at pre-order position `at` (modulo the tree's size). */
export function mutateAt(root: JsonNode, at: number, m: Mutation): JsonNode {
  let target = at % countNodes(root);
  const walk = (node: JsonNode): JsonNode => {
    if (target === 0) {
      target = -1;
      return applyAt(node, m);
    }
    target -= 1;
    if (target < 0) return node;
    if (node.t === 'arr') return { t: 'arr', items: node.items.map(walk) };
    if (node.t === 'obj') return { t: 'obj', entries: node.entries.map(([k, v]): [string, JsonNode] => [k, walk(v)]) };
    return node;
  };
  return walk(root);
}

/** Damage done to the text after serializing: truncation, stray bytes, a BOM, trailing junk. */
export type TextDamage =
  { op: 'truncate'; at: number } | { op: 'insert'; at: number; text: string } | { op: 'bom' } | { op: 'append'; text: string };

export const textDamage: fc.Arbitrary<TextDamage> = fc.oneof(
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.oneof(
      fc.constantFrom(
        ',',
        '}',
        ']',
        '"',
        '\\',
        '\u0000',
        '\\u',
        '\\ud800',
        '\\x41',
        'NaN',
        'undefined',
        '/*c*/',
        "'",
        '\n',
        '\u007f',
        '\ud800',
      ),
      fc.string({ maxLength: 4 }),
    ),
  }),
  fc.constant({ op: 'bom' as const }),
  fc.record({ op: fc.constant('append' as const), text: fc.constantFrom(',', '}', ' ', '\n\n', '{}', 'x', ',"name":"dup"}') }),
);

export function damageText(text: string, damage: TextDamage): string {
  switch (damage.op) {
    case 'truncate':
      return text.slice(0, damage.at % Math.max(1, text.length));
    case 'insert': {
      const at = damage.at % (text.length + 1);
      return text.slice(0, at) + damage.text + text.slice(at);
    }
    case 'bom':
      return `\ufeff${text}`;
    case 'append':
      return text + damage.text;
  }
}

/**
 * Body text from valid documents: each mutated 1 to 3 times, then sometimes damaged as text.
 * Also the valid document itself now and then, random JSON, and bytes that are not JSON at all.
 */
export function bodyText(valid: readonly unknown[]): fc.Arbitrary<string> {
  const mutated = fc
    .record({
      base: fc.constantFrom(...valid),
      mutations: fc
        .oneof({ weight: 6, arbitrary: fc.constant(1) }, { weight: 3, arbitrary: fc.constant(2) }, { weight: 1, arbitrary: fc.constant(3) })
        .chain((n) => fc.array(fc.record({ at: fc.nat(), m: mutation }), { minLength: n, maxLength: n })),
      damage: fc.option(textDamage, { freq: 5 }),
    })
    .map(({ base, mutations, damage }) => {
      const text = serialize(mutations.reduce((node, { at, m }) => mutateAt(node, at, m), toNode(base)));
      return damage ? damageText(text, damage) : text;
    });
  return fc.oneof(
    { weight: 12, arbitrary: mutated },
    { weight: 1, arbitrary: fc.constantFrom(...valid).map((v) => JSON.stringify(v)) },
    { weight: 3, arbitrary: hostileValue.map(serialize) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', 'null', '[]', '{}', '"x"', '0', 'true', '{', '{"a":1,"a":2}') },
  );
}
