// The API key format: `sdlc_` + a 12-character public id + a 32-character secret + a 6-character
// CRC32 checksum, all base62 (55 characters). The prefix lets secret scanners find leaked keys;
// the checksum rejects a mistyped or truncated key without a database read; the id finds the
// stored row, whose hash is compared in constant time. Pure: randomness and hashing come in.

export const API_KEY_PREFIX = 'sdlc_';
const ID_LENGTH = 12;
const SECRET_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
export const API_KEY_LENGTH = API_KEY_PREFIX.length + ID_LENGTH + SECRET_LENGTH + CHECKSUM_LENGTH;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const KEY_PATTERN = new RegExp(
  `^${API_KEY_PREFIX}([0-9A-Za-z]{${ID_LENGTH}})([0-9A-Za-z]{${SECRET_LENGTH}})([0-9A-Za-z]{${CHECKSUM_LENGTH}})$`,
);

/** 6 base62 digits of a 32-bit number (62^6 > 2^32), zero-padded. */
function base62Of(value: number): string {
  let n = value >>> 0;
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[n % 62]! + out;
    n = Math.floor(n / 62);
  }
  return out;
}

/** `length` base62 characters from random bytes, unbiased (bytes >= 248 are dropped). */
export function base62FromBytes(length: number, randomBytes: (n: number) => Uint8Array): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

export interface KeyParts {
  /** The public id: stored in clear, shown in lists, used to find the row. */
  id: string;
}

export type ParsedKey = { ok: true; id: string } | { ok: false; reason: 'not_a_key' | 'bad_checksum' };

/** Builds a key from its random parts; `crc32` of the key body gives the checksum. */
export function formatApiKey(id: string, secret: string, crc32: (text: string) => number): string {
  const body = `${API_KEY_PREFIX}${id}${secret}`;
  return `${body}${base62Of(crc32(body))}`;
}

/** A fresh key: random id and secret from `randomBytes`. */
export function newApiKey(randomBytes: (n: number) => Uint8Array, crc32: (text: string) => number): { key: string; id: string } {
  const id = base62FromBytes(ID_LENGTH, randomBytes);
  return { id, key: formatApiKey(id, base62FromBytes(SECRET_LENGTH, randomBytes), crc32) };
}

/** Checks the shape and the checksum; a key that passes may still be unknown, revoked or expired. */
export function parseApiKey(text: string, crc32: (text: string) => number): ParsedKey {
  const match = KEY_PATTERN.exec(text);
  if (!match) return { ok: false, reason: 'not_a_key' };
  const [, id, secret, checksum] = match;
  if (base62Of(crc32(`${API_KEY_PREFIX}${id}${secret}`)) !== checksum) return { ok: false, reason: 'bad_checksum' };
  return { ok: true, id: id! };
}

/** True when a credential looks like one of our keys (prefix), as opposed to a JWT. */
export function looksLikeApiKey(text: string): boolean {
  return text.startsWith(API_KEY_PREFIX);
}
