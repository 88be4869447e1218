// The types an environment variable can have: each builder returns the zod schema that parses the
// raw string and the type as the generated docs show it. No defaults here: the registry gives
// them per profile, and the schema is built from both (src/config/env-schema.ts).
import { isIP } from 'node:net';
import { z } from 'zod';
import { durationSchemaUpTo, formatDuration } from '../domain/duration.js';
import { formatByteSize, parseByteSize } from './byte-size.js';

/** A variable's schema (raw string in, typed value out) and its type for the docs. */
export interface Field<S extends z.ZodType = z.ZodType> {
  schema: S;
  type: string;
  /** A size in body-parser's notation (`2mb`): bounds are in bytes and printed as sizes. */
  size?: boolean;
  /** A duration (`24h`): the value and its bounds are in milliseconds, printed as durations. */
  duration?: boolean;
}

const range = (min: number, max: number) =>
  max === Number.MAX_SAFE_INTEGER ? `≥ ${min.toLocaleString('en')}` : `${min.toLocaleString('en')}–${max.toLocaleString('en')}`;

/** A whole number in [min, max]. */
export function int(min = 0, max = Number.MAX_SAFE_INTEGER): Field<z.ZodType<number, string>> {
  return { schema: z.coerce.number().int().min(min).max(max) as z.ZodType<number, string>, type: `integer ${range(min, max)}` };
}

/** A number in [min, max] (fractions allowed). */
export function decimal(min: number, max: number): Field<z.ZodType<number, string>> {
  return { schema: z.coerce.number().min(min).max(max) as z.ZodType<number, string>, type: `number ${min}–${max}` };
}

/** One of the listed words. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T): Field<z.ZodEnum<{ [K in T[number]]: K }>> {
  return { schema: z.enum(values), type: values.map((v) => `\`${v}\``).join(', ') };
}

/** Any text (`min` characters at least). */
export function text(min = 0): Field<z.ZodString> {
  return { schema: z.string().min(min), type: min > 0 ? 'text' : 'text (may be empty)' };
}

/** Text matching `pattern`. */
export function matching(pattern: RegExp, message: string, type: string): Field<z.ZodString> {
  return { schema: z.string().regex(pattern, message), type };
}

/** A URL whose protocol is one of `protocols` (`redis:`…). */
export function urlWith(protocols: string[]): Field<z.ZodType<string, string>> {
  return {
    schema: z.string().refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
    ),
    type: `URL (${protocols.map((p) => `${p}//`).join(', ')})`,
  };
}

/** An http(s) URL. */
export function httpUrl(): Field<z.ZodType<string, string>> {
  return { schema: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }), type: 'URL (http://, https://)' };
}

/** An http(s) URL or nothing (empty string). */
export function httpUrlOrEmpty(): Field<z.ZodType<string, string>> {
  return {
    schema: z.string().refine((v) => v === '' || /^https?:\/\//.test(v), 'an http(s) URL'),
    type: 'URL (http://, https://) or empty',
  };
}

/** The items of a comma-separated value, trimmed, empty ones dropped (`a, b,` is `[a, b]`). */
export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/** A comma-separated list (empty: none), parsed here so no other module splits an env value. */
export function commaList(): Field<z.ZodType<string[], string>> {
  return { schema: z.string().transform(splitList), type: 'comma-separated list' };
}

/** A comma-separated list of http(s) URLs (empty: none), each also passing `check`. */
export function commaUrls(check: (url: URL, item: string) => boolean, message: string): Field<z.ZodType<string[], string>> {
  return {
    schema: z
      .string()
      .transform(splitList)
      .refine(
        (items) =>
          items.every((item) => {
            try {
              const url = new URL(item);
              return ['http:', 'https:'].includes(url.protocol) && check(url, item);
            } catch {
              return false;
            }
          }),
        message,
      ),
    type: 'comma-separated http(s) URLs',
  };
}

/** A size in body-parser's notation (`256kb`, `8mb`), at most `maxBytes`; the text is kept as written. */
export function byteSize(maxBytes: number): Field<z.ZodType<string, string>> {
  return {
    schema: z
      .string()
      .regex(/^\d+(b|kb|mb)$/i, 'a size such as 256kb or 8mb')
      .refine((v) => (parseByteSize(v) ?? Infinity) <= maxBytes, `at most ${formatByteSize(maxBytes)}`)
      .refine((v) => (parseByteSize(v) ?? 0) > 0, 'more than 0 bytes'),
    type: `size (\`b\`, \`kb\`, \`mb\`) up to ${formatByteSize(maxBytes)}`,
    size: true,
  };
}

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);
const isProxyAddress = (item: string) => {
  if (PROXY_NAMES.has(item)) return true;
  const [address = '', bits, ...rest] = item.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
};

/** Express's `trust proxy`, in the forms it accepts less `true`: false, a hop count, or addresses. */
export function trustProxy(): Field<z.ZodType<false | number | string, string>> {
  return {
    schema: z
      .string()
      .trim()
      .refine((v) => v !== 'true', "`true` would let any client choose its address: give the hop count (e.g. 1) or the proxies' addresses")
      .refine(
        // `true` has its own message above.
        (v) => v === 'false' || v === 'true' || /^\d{1,2}$/.test(v) || v.split(',').every((item) => isProxyAddress(item.trim())),
        'false, a hop count (1, 2…), or comma-separated proxy addresses/CIDRs (or loopback, linklocal, uniquelocal)',
      )
      .transform((v): false | number | string => (v === 'false' ? false : /^\d+$/.test(v) ? Number(v) : v)),
    type: '`false`, a hop count, or addresses/CIDRs',
  };
}

/** The same field, allowed to be unset (the value is then `undefined`). */
export function optional<S extends z.ZodType>(field: Field<S>): Field<z.ZodOptional<S>> {
  return { ...field, schema: field.schema.optional() };
}

/** A duration (`30s`, `24h`, `14d`) of more than 0 and at most `maxMs`, parsed to milliseconds. */
export function duration(maxMs: number): Field<z.ZodType<number, string>> {
  const max = formatDuration(maxMs);
  return {
    schema: durationSchemaUpTo(maxMs, max) as unknown as z.ZodType<number, string>,
    type: `duration (\`30s\`, \`24h\`, \`14d\`) up to ${max}`,
    duration: true,
  };
}
