// The input a template takes, declared in its YAML as a JSON Schema (`inputSchema`) and checked
// strictly at submission: a misspelt property is a 400 naming it, not a value the stages ignore.
// JSON Schema because the schema is data in a YAML file, is served as is by GET /templates/:name
// (clients and the dashboard can read it), and zod compiles it (z.fromJSONSchema).
import { z } from 'zod';
import type { ErrorDetail } from './errors.js';
import type { JsonObject } from './json.js';
import { zodIssuesToDetails } from './zod-details.js';

/**
 * What a template's `inputSchema` must be at its root: an object schema that names its properties
 * and refuses any other (`additionalProperties: false`); the properties themselves are any JSON
 * Schema zod can compile.
 */
export const templateInputSchemaSchema = z
  .object({
    $schema: z.string().optional(),
    type: z.literal('object'),
    description: z.string().optional(),
    properties: z.record(z.string(), z.record(z.string(), z.unknown())),
    required: z.array(z.string()).optional(),
    additionalProperties: z.literal(false, { message: 'must be false: a template takes only the properties it names' }),
  })
  .loose()
  .superRefine((schema, ctx) => {
    for (const [i, name] of (schema.required ?? []).entries()) {
      if (!(name in schema.properties)) ctx.addIssue({ code: 'custom', path: ['required', i], message: `"${name}" is not a property` });
    }
  });

export type TemplateInputSchema = z.infer<typeof templateInputSchemaSchema>;

const compiled = new WeakMap<TemplateInputSchema, z.ZodType>();

/** The zod schema of a template's input; throws when zod cannot compile the JSON Schema. */
export function compileTemplateInput(schema: TemplateInputSchema): z.ZodType {
  let validator = compiled.get(schema);
  if (!validator) {
    validator = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
    compiled.set(schema, validator);
  }
  return validator;
}

/** The problems of an input against a template's schema, each named from `input` (none when valid). */
export function templateInputProblems(schema: TemplateInputSchema, input: JsonObject): ErrorDetail[] {
  const result = compileTemplateInput(schema).safeParse(input);
  return result.success ? [] : zodIssuesToDetails(result.error, ['input']);
}

/** `project`, `requirements*`: a template's input fields for listings, required ones starred. */
export function templateInputFields(schema: TemplateInputSchema): string[] {
  const required = new Set(schema.required ?? []);
  return Object.keys(schema.properties).map((name) => (required.has(name) ? `${name}*` : name));
}
