// JSON value types and a zod schema for "a JSON object", shared by definitions and agents.
import { z } from 'zod';

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export const jsonValueSchema: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValueSchema), z.record(z.string(), jsonValueSchema)]),
);

export const jsonObjectSchema: z.ZodType<JsonObject> = z.record(z.string(), jsonValueSchema);

/** Size of a value once serialized as UTF-8 JSON. */
export function jsonByteLength(value: unknown): number {
  // Buffer is a Node global (no import): byteLength counts without allocating the bytes.
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}
