// The pure guards behind the JSON body and query checks: nesting read from raw bytes
// (src/http/json-nesting.ts) and NULs, lone surrogates and over-long text found in parsed values
// (src/http/unsafe-text.ts), each named by its field path.
import { expect } from 'chai';
import { findShapeProblem } from '../../src/http/json-nesting.js';
import { fieldOf, findUnsafeText, unsafeTextError } from '../../src/http/unsafe-text.js';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

const bytes = (text: string) => Buffer.from(text, 'utf8');
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const LIMITS = { maxKeyLength: 16, maxStringLength: 32 };
/** The depth half of the one scan. */
const jsonNestsDeeperThan = (text: Uint8Array, maxDepth: number) => findShapeProblem(text, maxDepth)?.kind === 'too_deep';
/** The key half of the one scan, with a depth bound no test body reaches. */
const findDuplicateKey = (text: Uint8Array) => {
  const problem = findShapeProblem(text, 1000);
  return problem?.kind === 'duplicate_key' ? problem.path : undefined;
};

describe('JSON nesting from raw bytes (unit)', () => {
  it('depth exactly at the limit passes; one more is refused (arrays, objects, mixed)', () => {
    expect(jsonNestsDeeperThan(bytes(nested(32)), 32)).to.equal(false);
    expect(jsonNestsDeeperThan(bytes(nested(33)), 32)).to.equal(true);
    expect(jsonNestsDeeperThan(bytes('{"a":{"b":{"c":[1]}}}'), 4)).to.equal(false);
    expect(jsonNestsDeeperThan(bytes('{"a":{"b":{"c":[{}]}}}'), 4)).to.equal(true);
  });

  it('siblings do not add up: depth is the deepest path, not the count of containers', () => {
    const wide = JSON.stringify({ a: [1, [2]], b: { c: {} }, d: Array.from({ length: 100 }, () => ({ e: [] })) });
    expect(jsonNestsDeeperThan(bytes(wide), 4)).to.equal(false);
    expect(jsonNestsDeeperThan(bytes(wide), 3)).to.equal(true);
  });

  it('brackets inside strings, escaped quotes and backslashes included, are not counted', () => {
    const text = JSON.stringify({ s: '[[[[{{{{', t: 'a\\"[[[[', u: '\\', v: '"{{{{"' });
    expect(jsonNestsDeeperThan(bytes(text), 1)).to.equal(false);
    expect(jsonNestsDeeperThan(bytes(`{"k\\"[[[":[[1]]}`), 2)).to.equal(true);
  });

  it('multi-byte UTF-8 characters never pass for brackets or quotes', () => {
    const text = JSON.stringify({ clé: '€[漢字🎉]"', x: ['Ω'] });
    expect(jsonNestsDeeperThan(bytes(text), 2)).to.equal(false);
  });

  it('a 100,000-deep body is refused without recursion', () => {
    expect(jsonNestsDeeperThan(bytes(nested(100_000)), 32)).to.equal(true);
  });

  it('the shipped templates and examples nest at most 5 levels, well under the default 32', () => {
    for (const file of ['examples/diamond.yaml', 'templates/sdlc-simulated.yaml', 'templates/smoke.yaml']) {
      // A template's inputSchema is never in a request body: what is submitted is its stages and input.
      const { inputSchema: _schema, ...submitted } = parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown>;
      const json = JSON.stringify(submitted);
      expect(jsonNestsDeeperThan(bytes(json), 5), file).to.equal(false);
      expect(jsonNestsDeeperThan(bytes(json), 32), file).to.equal(false);
    }
  });
});

describe('duplicate keys from raw bytes (unit)', () => {
  const duplicate = (text: string) => {
    const path = findDuplicateKey(bytes(text));
    return path && fieldOf(path);
  };

  it('a key given twice in one object is found, with its path; the same key in different objects is not', () => {
    expect(duplicate('{"name":"a","name":"b"}')).to.equal('name');
    expect(duplicate('{"input":{"a":1,"b":{"c":[1,{"d":2}]},"a":3}}')).to.equal('input.a');
    expect(duplicate('{"stages":[{"key":"a"},{"key":"b","key":"c"}]}')).to.equal('stages[1].key');
    expect(duplicate('[1,[2,3],{"x":1,"x":1}]')).to.equal('[2].x');
    expect(duplicate('{"a":{"k":1},"b":{"k":1},"c":[{"k":1},{"k":2}],"k":0}')).to.equal(undefined);
    expect(duplicate('{"a":{"a":{"a":1}}}')).to.equal(undefined);
    // One scan: nesting too deep later in the text wins over a duplicate before it, as a refusal.
    expect(findShapeProblem(bytes('{"a":1,"a":[[[1]]]}'), 3)).to.deep.equal({ kind: 'too_deep' });
    expect(findShapeProblem(bytes('{"a":1,"a":[[[1]]]}'), 4)).to.deep.equal({ kind: 'duplicate_key', path: ['a'] });
  });

  it('keys compare as JSON.parse reads them: an escape is the same key; strings that are values are not keys', () => {
    expect(duplicate('{"a":1,"\\u0061":2}')).to.equal('a');
    expect(duplicate('{"\\"q":1,"\\u0022q":2}')).to.equal('"q');
    expect(duplicate('{"clé":1,"cl\\u00e9":2}')).to.equal('clé');
    expect(duplicate('{"a":"a","b":"a","c":["a","a"],"d":"{\\"a\\":1,\\"a\\":2}"}')).to.equal(undefined);
    expect(duplicate('{"a,":1,"a":2,"{":3,"[":4}')).to.equal(undefined);
  });

  it('the shipped templates and examples have none; malformed text is left to the parser', () => {
    for (const file of ['examples/diamond.yaml', 'templates/sdlc-simulated.yaml', 'templates/smoke.yaml'])
      expect(findDuplicateKey(bytes(JSON.stringify(parseYaml(readFileSync(file, 'utf8'))))), file).to.equal(undefined);
    expect(findDuplicateKey(bytes('{"a":1,"a'))).to.equal(undefined);
    expect(findDuplicateKey(bytes('{"\\u12":1,"\\u12":2}'))).to.equal(undefined);
  });
});

describe('unsafe text in parsed values (unit)', () => {
  it('ordinary text passes: accents, CJK, emoji (surrogate pairs), empty strings, numbers, nulls', () => {
    const value = { name: 'déjà vu 漢字 🎉', input: { list: ['', 1, null, true, { ключ: 'значение' }] } };
    expect(findUnsafeText(value, LIMITS)).to.deep.equal([]);
  });

  it('a NUL in a value, in a key, and in an array item: each named by its path', () => {
    const found = findUnsafeText({ name: 'a\u0000b', input: { 'k\u0000': 1, a: { b: ['ok', 'x\u0000'] } } }, LIMITS);
    expect(found.map((f) => [f.field, f.code])).to.deep.equal([
      ['name', 'nul'],
      ['input.k\\u0000', 'nul'],
      ['input.a.b[1]', 'nul'],
    ]);
  });

  it("lone high and low surrogates are found (an object's keys before its values); a proper pair is not", () => {
    const found = findUnsafeText({ a: '\ud800', b: 'x\udc00y', c: '\ud83c\udf89', ['\udbff']: 1 }, LIMITS);
    expect(found.map((f) => [f.field, f.code])).to.deep.equal([
      ['\\udbff', 'lone_surrogate'],
      ['a', 'lone_surrogate'],
      ['b', 'lone_surrogate'],
    ]);
  });

  it('keys and strings over their caps are named; exactly at the cap passes', () => {
    const atCap = { ['k'.repeat(16)]: 's'.repeat(32) };
    expect(findUnsafeText(atCap, LIMITS)).to.deep.equal([]);
    const found = findUnsafeText({ stages: [{ name: 's'.repeat(33) }], ['k'.repeat(17)]: 1 }, LIMITS);
    expect(found.map((f) => [f.field, f.code])).to.deep.equal([
      ['kkkkkkkkkkkkkkkkk', 'key_too_long'],
      ['stages[0].name', 'string_too_long'],
    ]);
    expect(found[1]!.message).to.include('32 characters');
  });

  it('a query (prefix ?) names the parameter, repeated values by index', () => {
    const query = Object.assign(Object.create(null) as Record<string, unknown>, { name: ['ok', 'a\u0000'], status: 'x\u0000' });
    expect(findUnsafeText(query, { ...LIMITS, prefix: '?' }).map((f) => f.field)).to.deep.equal(['?name[1]', '?status']);
  });

  it('a key echoed in a field path is cut to 64 characters and its control characters escaped', () => {
    const key = `\u0001${'a'.repeat(100)}`;
    const [found] = findUnsafeText({ [key]: 1 }, { maxKeyLength: 50, maxStringLength: 10 });
    expect(found!.field).to.equal(`\\u0001${'a'.repeat(63)}…`);
  });

  it('stops at maxProblems, and walks a 5,000-deep value without recursion', () => {
    const many = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, '\u0000']));
    expect(findUnsafeText(many, { ...LIMITS, maxProblems: 10 })).to.have.length(10);
    let deep: unknown = 'x\u0000';
    for (let i = 0; i < 5_000; i++) deep = [deep];
    expect(findUnsafeText(deep, LIMITS)).to.have.length(1);
  });

  it('the error: the first problem gives the code (INVALID_CHARACTER, KEY_TOO_LONG, STRING_TOO_LONG), a 400 with every problem as a detail', () => {
    const mixed = unsafeTextError(findUnsafeText({ a: '\u0000', b: 's'.repeat(40) }, LIMITS));
    expect(mixed.code).to.equal('INVALID_CHARACTER');
    expect(mixed.status).to.equal(400);
    expect(mixed.details.map((d) => d.field)).to.deep.equal(['a', 'b']);
    expect(unsafeTextError(findUnsafeText({ a: 's'.repeat(40) }, LIMITS)).code).to.equal('STRING_TOO_LONG');
    expect(unsafeTextError(findUnsafeText({ ['k'.repeat(17)]: 1 }, LIMITS)).code).to.equal('KEY_TOO_LONG');
  });
});
