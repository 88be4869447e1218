// The parts of a fuzzed request besides the JSON: body bytes and encodings, headers, path
// segments and query strings, valid and not. Paths and header values stay within what a client
// can put on the wire (U+0021..U+00FF in a path, no CR/LF/NUL in a header): the rest is the
// server's to refuse.
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { hostileString } from './json-mutations.js';

/** Latin-1 text a header value may carry (node:http sends it byte for byte). */
const headerText = (maxLength: number) =>
  fc.string({
    unit: fc
      .integer({ min: 0x20, max: 0xff })
      .filter((c) => c !== 0x7f)
      .map((c) => String.fromCharCode(c)),
    maxLength,
  });

const CONTENT_TYPES = [
  'application/json; charset=utf-8',
  'Application/JSON',
  'application/json;charset=UTF-8',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/json; charset=',
  'application/json; boundary=x; charset=utf-8',
  'text/plain',
  'text/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/vnd.api+json',
  'application/merge-patch+json',
  '*/*',
  'application/json, text/plain',
  'application/',
  '',
];

/** Content-Type: mostly JSON so that the body is parsed, sometimes anything else or nothing. */
export const contentType: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 24, arbitrary: fc.constant('application/json') },
  { weight: 3, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
  { weight: 1, arbitrary: headerText(40) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

/** The body bytes of a text: UTF-8 mostly; also UTF-16, gzip (with and without its header saying so), stray bytes. */
export type BodyEncoding =
  'utf8' | 'utf16le' | 'latin1' | 'gzip' | 'gzip-undeclared' | 'declared-gzip' | 'declared-br' | 'declared-unknown';

export const bodyEncoding: fc.Arbitrary<BodyEncoding> = fc.oneof(
  { weight: 30, arbitrary: fc.constant('utf8' as const) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'utf16le' as const,
      'latin1' as const,
      'gzip' as const,
      'gzip-undeclared' as const,
      'declared-gzip' as const,
      'declared-br' as const,
      'declared-unknown' as const,
    ),
  },
);

export function encodeBody(text: string, encoding: BodyEncoding): { body: Buffer; headers: Record<string, string> } {
  switch (encoding) {
    case 'utf8':
      return { body: Buffer.from(text, 'utf8'), headers: {} };
    case 'utf16le':
    case 'latin1':
      return { body: Buffer.from(text, encoding), headers: {} };
    case 'gzip':
      return { body: gzipSync(Buffer.from(text, 'utf8')), headers: { 'content-encoding': 'gzip' } };
    case 'gzip-undeclared':
      return { body: gzipSync(Buffer.from(text, 'utf8')), headers: {} };
    case 'declared-gzip':
      return { body: Buffer.from(text, 'utf8'), headers: { 'content-encoding': 'gzip' } };
    case 'declared-br':
      return { body: Buffer.from(text, 'utf8'), headers: { 'content-encoding': 'br' } };
    case 'declared-unknown':
      return { body: Buffer.from(text, 'utf8'), headers: { 'content-encoding': 'x-fuzz' } };
  }
}

const optionalHeader = (values: fc.Arbitrary<string>, freq = 3) => fc.option(values, { freq });

/** Idempotency-Key, Accept, X-Request-Id and X-Submitter: absent mostly, else valid or not. */
export const commonHeaders: fc.Arbitrary<Record<string, string>> = fc
  .record({
    'idempotency-key': optionalHeader(
      fc.oneof(
        // A small pool, so that keys repeat: replays of the same body and reuses with another.
        fc.constantFrom('fuzz-key-1', 'fuzz-key-2', 'fuzz-key-3'),
        fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 40 }),
        fc.constantFrom('has space', 'x'.repeat(256), 'caf\u00e9', '\t', ''),
        headerText(30),
      ),
    ),
    accept: optionalHeader(
      fc.oneof(
        fc.constantFrom('application/json', 'text/html', '*/*', 'application/xml', 'text/event-stream', 'application/json;q=0'),
        headerText(30),
      ),
    ),
    'x-request-id': optionalHeader(
      fc.oneof(fc.uuid(), fc.constantFrom('has spaces', 'x'.repeat(129), 'semi;colon', 'fuzz-1'), headerText(40)),
    ),
    'x-submitter': optionalHeader(fc.constantFrom('mallory', ''), 10),
    'accept-charset': optionalHeader(fc.constantFrom('utf-16', 'latin1', '*'), 10),
  })
  .map((headers) => Object.fromEntries(Object.entries(headers).filter((e): e is [string, string] => e[1] !== null)));

/** Percent-encodes every byte of a string's UTF-8 (a lone surrogate as its WTF-8 bytes, which are not UTF-8). */
function percentEncodeBytes(text: string): string {
  const bytes: number[] = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff) bytes.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
    else bytes.push(...Buffer.from(ch, 'utf8'));
  }
  return bytes.map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
}

/** A string as it may stand in a path or a query: encoded (correctly or byte-wise), or raw when the wire allows it. */
function onTheWire(text: string, encoding: 'component' | 'bytes' | 'raw'): string {
  if (encoding === 'bytes') return percentEncodeBytes(text);
  const safe = encoding === 'raw' && /^[\u0021-\u00ff]*$/.test(text) && !/[/?#&=]/.test(text);
  if (safe) return text;
  try {
    return encodeURIComponent(text);
  } catch {
    return percentEncodeBytes(text);
  }
}

const wireText = fc
  .tuple(
    hostileString.filter((s) => s.length < 2000),
    fc.constantFrom('component' as const, 'bytes' as const, 'raw' as const),
  )
  .map(([text, enc]) => onTheWire(text, enc));

const BROKEN_ENCODINGS = [
  '%',
  '%Z',
  '%ZZ',
  '%E0%A4%A',
  '%C0%AF',
  '%ED%A0%80',
  '%FF',
  '%00',
  '%F4%90%80%80',
  '%%',
  '%u0041',
  '%2',
  '%c3%28',
];
const DOT_SEGMENTS = ['..', '.', '%2e%2e', '%2E%2e', '%2F', '..%2F..%2F', '...', '%5C', '..;', '.%00.'];

/** One path segment: the real ids given (weighted up), look-alikes, encodings valid and broken, dot segments. */
export function pathSegment(realIds: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: realIds.length > 0 ? 4 : 0, arbitrary: realIds.length > 0 ? fc.constantFrom(...realIds) : fc.constant('') },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: fc.uuid().map((u) => u.toUpperCase()) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.uuid(), fc.constantFrom('-', 'x', '%20', '.json', '/', '-00000000-0000-0000-0000-000000000000'))
        .map(([u, s]) => u + s),
    },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 999_999 }).map((n) => `DEC-2026-${String(n).padStart(5, '0')}`) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'DEC-0000-00000',
        'DEC-9999-99999999999999999999',
        'dec-2026-00001',
        'retry',
        'undefined',
        'null',
        '0',
        '-1',
      ),
    },
    { weight: 3, arbitrary: wireText },
    { weight: 2, arbitrary: fc.constantFrom(...BROKEN_ENCODINGS) },
    { weight: 1, arbitrary: fc.constantFrom(...DOT_SEGMENTS) },
    { weight: 1, arbitrary: fc.integer({ min: 300, max: 6000 }).map((n) => 'a'.repeat(n)) },
  );
}

/** A query value: one the route knows (weighted up), hostile strings, broken encodings, odd numbers. */
function queryValue(good: fc.Arbitrary<string> | undefined): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: good ? 4 : 0, arbitrary: good ?? fc.constant('') },
    { weight: 3, arbitrary: wireText },
    { weight: 1, arbitrary: fc.constantFrom(...BROKEN_ENCODINGS) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '',
        '0',
        '-1',
        '1e3',
        '101',
        '2.5',
        '9999999999999999999999',
        'NaN',
        'Infinity',
        '0x10',
        '+5',
        '%205',
        'true',
      ),
    },
  );
}

/** The query parameters a route knows, each with values worth trying (sent as written). */
export type QueryModel = Record<string, fc.Arbitrary<string>>;

/** A query string: 0 to 5 parameters, names known or hostile (repeated, prototype names, brackets), or junk. */
export function queryString(model: QueryModel): fc.Arbitrary<string> {
  const names = Object.keys(model);
  const param = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...names).chain((name) => queryValue(model[name]).map((value) => `${name}=${value}`)) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom('__proto__', 'constructor', 'a[b]', 'limit[]', 'toString', ''), queryValue(undefined))
        .map(([n, v]) => `${n}=${v}`),
    },
    { weight: 1, arbitrary: fc.tuple(wireText, queryValue(undefined)).map(([n, v]) => `${n}=${v}`) },
    { weight: 1, arbitrary: fc.constantFrom(...names, 'x', '=', '&', '==', 'a==b') },
  );
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant('') },
    { weight: 8, arbitrary: fc.array(param, { minLength: 1, maxLength: 5 }).map((params) => `?${params.join('&')}`) },
    { weight: 1, arbitrary: fc.constantFrom('?', '??', '?&&&', `?${'a=1&'.repeat(300)}`) },
  );
}

/** A date-time for `since`/`until` style parameters: valid, out of range, or odd. */
export const dateText: fc.Arbitrary<string> = fc.oneof(
  fc
    .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
    .map((d) => d.toISOString()),
  fc.constantFrom(
    '0000-01-01T00:00:00Z',
    '9999-12-31T23:59:59.999Z',
    '+275760-09-13T00:00:00.000Z',
    '-000001-01-01T00:00:00Z',
    '2026-02-30T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-01-01T24:00:00Z',
    '2026-01-01T00:00:00+99:99',
    '2026-01-01T00:00:00.123456789Z',
    '2026-01-01',
  ),
);

/** A forged cursor: base64url of `<date>|<id>` with odd dates and ids, or random base64. */
export function forgedCursor(ids: readonly string[]): fc.Arbitrary<string> {
  const id = fc.oneof(fc.uuid(), ids.length > 0 ? fc.constantFrom(...ids) : fc.uuid(), hostileString);
  return fc.oneof(
    fc.tuple(dateText, id).map(([date, i]) => Buffer.from(`${date}|${i}`).toString('base64url')),
    fc.base64String({ maxLength: 60 }),
    fc.constantFrom('', 'x', '====', '%ZZ', Buffer.from('|').toString('base64url'), Buffer.from('not-a-date|x|y').toString('base64url')),
  );
}
