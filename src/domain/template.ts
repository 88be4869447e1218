// Named pipeline templates (YAML files in the repo) and the request that starts one.
import { z } from 'zod';
import { jsonObjectSchema } from './json.js';
import { stageDefinitionSchema } from './pipeline-definition.js';
import { templateInputSchemaSchema } from './template-input.js';

export const TEMPLATE_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,63}$/;

export const templateSchema = z
  .object({
    name: z.string().regex(TEMPLATE_NAME_PATTERN, 'lower-case letters, digits, _ and -'),
    description: z.string().max(2000).default(''),
    /** The input it takes, as a JSON Schema; a submission's input is checked against it. */
    inputSchema: templateInputSchemaSchema,
    /** A valid input, shown by GET /templates and checked against `inputSchema` at boot. */
    inputExample: jsonObjectSchema.optional(),
    stages: z.array(z.unknown()).min(1),
  })
  .strict();

export type Template = z.infer<typeof templateSchema>;

/** `POST /pipelines` with a template name instead of stages. */
export const templateRunRequestSchema = z
  .object({
    template: z.string().min(1).max(64),
    name: z.string().trim().min(1).max(200).optional(),
    input: jsonObjectSchema.default({}),
  })
  .strict();

export type TemplateRunRequest = z.infer<typeof templateRunRequestSchema>;

/** The stage keys of a template, for listings. */
export function templateStageKeys(template: Template): string[] {
  return template.stages.map((stage) => stageDefinitionSchema.shape.key.safeParse((stage as { key?: unknown }).key).data ?? '?');
}
