// Loads the named pipeline templates (YAML files) once at boot and validates each against the
// agent catalog, so a broken template stops the process instead of failing a user later.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { AgentCatalog } from '../../agents/catalog.js';
import { ValidationError } from '../../domain/errors.js';
import { validatePipelineDefinition } from '../../domain/pipeline-definition.js';
import { templateSchema, type Template } from '../../domain/template.js';
import { templateInputProblems } from '../../domain/template-input.js';
import type { TemplateSource } from '../../services/pipeline.service.js';

export function loadTemplates(dir: string, agents: AgentCatalog): TemplateSource {
  const templates = new Map<string, Template>();
  const files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  for (const file of files) {
    const path = join(dir, file);
    const parsed = templateSchema.safeParse(parse(readFileSync(path, 'utf8')));
    if (!parsed.success) throw new Error(`template ${path} is invalid: ${parsed.error.message}`);
    try {
      const exampleProblems = templateInputProblems(parsed.data.inputSchema, parsed.data.inputExample ?? {});
      if (exampleProblems.length > 0) {
        throw new ValidationError('VALIDATION_FAILED', 'inputExample does not match inputSchema', {
          details: exampleProblems.map((d) => ({ ...d, field: d.field.replace(/^input/, 'inputExample') })),
        });
      }
      validatePipelineDefinition({ name: parsed.data.name, input: parsed.data.inputExample ?? {}, stages: parsed.data.stages }, agents);
    } catch (error) {
      const details = error instanceof ValidationError ? error.details.map((d) => `${d.field}: ${d.message}`).join('; ') : String(error);
      throw new Error(`template ${path} is invalid: ${details}`, { cause: error });
    }
    if (templates.has(parsed.data.name)) throw new Error(`template name "${parsed.data.name}" is used twice (${path})`);
    templates.set(parsed.data.name, parsed.data);
  }
  return {
    get: (name) => templates.get(name),
    names: () => [...templates.keys()],
  };
}

/** Reads a pipeline definition from a YAML (or JSON) file, for the CLI. */
export function readDefinitionFile(path: string): unknown {
  return parse(readFileSync(path, 'utf8'));
}
