// Unit tests for src/domain/api-key-format.ts: the key's shape (prefix, id, secret, checksum)
// and that a mistyped or truncated key fails its checksum without any lookup.
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { expect } from 'chai';
import { API_KEY_LENGTH, base62FromBytes, looksLikeApiKey, newApiKey, parseApiKey } from '../../src/domain/api-key-format.js';

const crc = (text: string) => crc32(text);
const fresh = () => newApiKey((n) => randomBytes(n), crc);

describe('API key format (unit)', () => {
  it('a new key: sdlc_ prefix, 55 base62 characters, its id is the 12 characters after the prefix', () => {
    const { key, id } = fresh();
    expect(key).to.match(/^sdlc_[0-9A-Za-z]{50}$/);
    expect(key).to.have.length(API_KEY_LENGTH);
    expect(key.slice(5, 17)).to.equal(id);
    expect(parseApiKey(key, crc)).to.deep.equal({ ok: true, id });
    expect(looksLikeApiKey(key)).to.equal(true);
  });

  it('every single-character change of the secret: bad_checksum', () => {
    const { key } = fresh();
    let caught = 0;
    for (let i = 17; i < 49; i++) {
      const swapped = key[i] === 'a' ? 'b' : 'a';
      const typo = key.slice(0, i) + swapped + key.slice(i + 1);
      if (parseApiKey(typo, crc).ok === false) caught++;
    }
    expect(caught).to.equal(32);
  });

  it('truncated, extended, wrong prefix or non-base62: not_a_key', () => {
    const { key } = fresh();
    for (const bad of [key.slice(0, -1), `${key}x`, key.replace('sdlc_', 'sdlx_'), `${key.slice(0, -1)}!`, '']) {
      expect(parseApiKey(bad, crc)).to.deep.equal({ ok: false, reason: 'not_a_key' });
    }
  });

  it('two keys: different ids and secrets', () => {
    const a = fresh();
    const b = fresh();
    expect(a.id).to.not.equal(b.id);
    expect(a.key).to.not.equal(b.key);
  });

  it('base62FromBytes drops bytes >= 248, so all 62 digits stay equally likely', () => {
    const out = base62FromBytes(4, () => Uint8Array.from([248, 255, 0, 61, 62, 247, 1, 2]));
    expect(out).to.equal('0z0z');
  });
});
