// The pipeline definition language (JSON over REST, YAML for the CLI and templates) and its
// validation: shape (zod), then DAG rules, agent types, agent inputs and size limits.
import { z } from 'zod';
import { jsonByteLength, jsonObjectSchema, type JsonObject } from './json.js';
import { findDagProblems } from './dag.js';
import { ValidationError, type ErrorDetail } from './errors.js';
import { DECISION_CATEGORIES } from './decision-policy.js';
import { gateRulesSchema } from './gates.js';
import { zodIssuesToDetails } from './zod-details.js';
import { repositoryProblems } from './workspace-repository.js';
import { CONTROL_CHARACTER_MESSAGE, isDisplayText } from './display-text.js';

export { formatPath, zodIssuesToDetails } from './zod-details.js';

export const MAX_STAGES = 500;
export const MAX_INPUT_BYTES = 256 * 1024;
/** A stage's recorded output; larger results belong in an artifact store, referenced by URL. */
export const MAX_OUTPUT_BYTES = 1024 * 1024;
export const STAGE_KEY_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

export const backoffSchema = z
  .object({
    type: z.enum(['exponential', 'fixed']).default('exponential'),
    /** Base delay; exponential doubles it per attempt. */
    delayMs: z.number().int().min(0).max(3_600_000).default(1000),
    /** Share of the delay that is randomised (0 = none, 1 = all of it). */
    jitter: z.number().min(0).max(1).default(0.5),
  })
  .strict();

export const retrySchema = z
  .object({
    attempts: z.number().int().min(1).max(50).default(3),
    backoff: backoffSchema.default({ type: 'exponential', delayMs: 1000, jitter: 0.5 }),
  })
  .strict();

export const stageDefinitionSchema = z
  .object({
    key: z.string().regex(STAGE_KEY_PATTERN, 'must start with a letter and hold only letters, digits, _ and - (64 at most)'),
    agent: z.string().min(1).max(64),
    dependsOn: z.array(z.string()).max(MAX_STAGES).default([]),
    input: jsonObjectSchema.default({}),
    retry: retrySchema.default({ attempts: 3, backoff: { type: 'exponential', delayMs: 1000, jitter: 0.5 } }),
    timeoutMs: z.number().int().min(1).max(86_400_000).optional(),
    continueOnFailure: z.boolean().default(false),
    /** Quality gates over the stage's metrics; replaces the agent type's defaults ([] = none). */
    gates: gateRulesSchema.optional(),
    /** The decision category; derived from the agent type when absent. */
    category: z.enum(DECISION_CATEGORIES).optional(),
  })
  .strict();

export const pipelineDefinitionSchema = z
  .object({
    name: z.string().trim().min(1).max(200).refine(isDisplayText, CONTROL_CHARACTER_MESSAGE),
    input: jsonObjectSchema.default({}),
    stages: z.array(stageDefinitionSchema).min(1).max(MAX_STAGES, `at most ${MAX_STAGES} stages`),
  })
  .strict();

export type StageDefinition = z.infer<typeof stageDefinitionSchema>;
export type PipelineDefinition = z.infer<typeof pipelineDefinitionSchema>;
export type RetryPolicy = z.infer<typeof retrySchema>;

/** What the validator needs to know of an agent type: its name and how to check an input. */
export interface AgentCatalogEntry {
  readonly type: string;
  validateInput(input: JsonObject): { ok: true } | { ok: false; problems: ErrorDetail[] };
}

/** What a deployment allows beyond the definition language. */
export interface DefinitionLimits {
  /** WORKSPACE_REPOSITORY_ALLOW: prefixes `input.repository.url` must start with (absent: not checked). */
  repositoryAllow?: readonly string[];
}

/**
 * Validates a raw definition completely; returns the normalized definition or throws a
 * ValidationError whose details name every offending field.
 */
export function validatePipelineDefinition(
  raw: unknown,
  agents: ReadonlyMap<string, AgentCatalogEntry>,
  limits: DefinitionLimits = {},
): PipelineDefinition {
  const parsed = pipelineDefinitionSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ValidationError('VALIDATION_FAILED', 'The pipeline definition is invalid.', { details: zodIssuesToDetails(parsed.error) });
  }
  const definition = parsed.data;
  const details: ErrorDetail[] = [];

  if (jsonByteLength(definition.input) > MAX_INPUT_BYTES) {
    details.push({ field: 'input', code: 'too_big', message: `input is over ${MAX_INPUT_BYTES / 1024} KB` });
  }
  details.push(...repositoryProblems(definition.input, limits.repositoryAllow));
  definition.stages.forEach((stage, index) => {
    const agent = agents.get(stage.agent);
    if (!agent) {
      details.push({
        field: `stages[${index}].agent`,
        code: 'unknown_agent',
        message: `unknown agent type "${stage.agent}"; known: ${[...agents.keys()].sort().join(', ')}`,
      });
    }
    if (jsonByteLength(stage.input) > MAX_INPUT_BYTES) {
      details.push({
        field: `stages[${index}].input`,
        code: 'too_big',
        message: `input is over ${MAX_INPUT_BYTES / 1024} KB`,
      });
    } else if (agent) {
      const check = agent.validateInput(stage.input);
      if (!check.ok) {
        for (const problem of check.problems) {
          details.push({ ...problem, field: `stages[${index}].input${problem.field === '(body)' ? '' : `.${problem.field}`}` });
        }
      }
    }
  });
  details.push(...findDagProblems(definition.stages));

  if (details.length > 0) throw new ValidationError('VALIDATION_FAILED', 'The pipeline definition is invalid.', { details });
  return definition;
}
