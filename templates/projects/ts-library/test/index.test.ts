// Tests of the library (run on the compiled output: npm test).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { slugify } from '../src/index.js';

describe('slugify', () => {
  it('lowercases, drops accents and joins words with dashes', () => {
    assert.equal(slugify('  Héllo, Wörld!  '), 'hello-world');
  });

  it('uses the separator given', () => {
    assert.equal(slugify('a b c', { separator: '_' }), 'a_b_c');
  });

  it('cuts at a word boundary within maxLength', () => {
    assert.equal(slugify('one two three', { maxLength: 8 }), 'one-two');
  });

  it('returns an empty slug for text without letters or digits', () => {
    assert.equal(slugify('!?'), '');
  });
});
