// zod parses of values the platform wrote itself and reads back on every stage: a released
// stage's retry policy, a claimed stage's gate rules, a pipeline's priority. Deployments use a
// handful of distinct values, and each parse ran with cold caches (12–47 µs in the bench, for a
// four-field object), so each distinct value is parsed once and its result shared, frozen.
import type { z } from 'zod';

/** At most this many distinct values are kept; past it the memory starts over (a submitter may vary them at will). */
export const PARSE_ONCE_MAX = 1024;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

/**
 * A parse of `schema` remembered by a key that identifies the value (its JSON, or its fields
 * joined): the same key gives the same frozen result without parsing again. A value the schema
 * refuses throws each time, and is not remembered.
 */
export function parseOnce<S extends z.ZodType>(schema: S, max = PARSE_ONCE_MAX): (key: string, value: unknown) => Readonly<z.output<S>> {
  const parsed = new Map<string, z.output<S>>();
  return (key, value) => {
    const known = parsed.get(key);
    if (known !== undefined) return known;
    const result = deepFreeze(schema.parse(value));
    if (parsed.size >= max) parsed.clear();
    parsed.set(key, result);
    return result;
  };
}
