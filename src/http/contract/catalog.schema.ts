// The public shape of what can be run: agent types (GET /api/v1/agents) and templates
// (GET /api/v1/templates, /templates/:name), with the mapping from the template source.
import { z } from 'zod';
import { templateStageKeys, type Template } from '../../domain/template.js';
import { templateInputFields } from '../../domain/template-input.js';
import type { AgentListing } from '../../services/agent-directory.service.js';
import { itemList, jsonObject, toIso } from './common.schema.js';
import { pauseRecordSchema } from './pause.schema.js';

export const templateNameParams = z.object({ name: z.string().min(1).max(64) });

/** One agent type as the catalogue port lists it (AgentDirectory, routes/catalog.routes.ts). */
export const agentSchema = z
  .object({
    type: z.string(),
    version: z.string().meta({ description: 'The incumbent version: what runs unless its rollout flag says otherwise.' }),
    nextVersion: z
      .string()
      .nullable()
      .meta({ description: "The candidate version the agent registers; null: none. Pipelines in its rollout flag's share run it." }),
    contractVersion: z.number().int().min(1).meta({
      description: 'The contract version its input and output schemas speak (docs/agents.md, "Contracts and versions").',
    }),
    acceptsContracts: z
      .tuple([z.number().int().min(1), z.number().int().min(1)])
      .meta({ description: '[min, max]: the envelope contract versions it runs; older ones are upcast, others refused.' }),
    rolloutFlag: z.string().meta({
      description: 'The gradual-rollout flag of this agent type (agent.<type>.rollout); GET /api/v1/flags shows its definition.',
    }),
    description: z.string(),
    queue: z.string().meta({ description: 'The BullMQ queue its stage jobs go to.' }),
    workersOnline: z.number().int(),
    paused: z
      .boolean()
      .meta({ description: 'Its queue is paused for every worker (POST /agents/:type/pause, or Bull Board): its jobs wait.' }),
    pause: pauseRecordSchema.nullable().meta({
      description: 'The platform’s record of the pause: since when, by whom, why; null: none (not paused, or paused outside the platform).',
    }),
  })
  .meta({ id: 'Agent' });

export const agentListSchema = itemList(agentSchema).meta({ id: 'AgentList' });

export const templateSummarySchema = z
  .object({
    name: z.string(),
    description: z.string(),
    stages: z.array(z.string()),
    inputFields: z.array(z.string()).meta({ description: 'The input properties it takes, required ones ending in `*`.' }),
    inputExample: jsonObject.nullable(),
  })
  .meta({ id: 'TemplateSummary' });

export const templateListSchema = itemList(templateSummarySchema).meta({ id: 'TemplateList' });

export const templateSchema = z
  .object({
    name: z.string(),
    description: z.string(),
    inputSchema: jsonObject.meta({
      description: "The JSON Schema a submission's `input` must match (an object of the properties it names, no others).",
    }),
    inputExample: jsonObject.optional(),
    stages: z.array(jsonObject).meta({ description: 'Stage definitions, `{{input.x}}` placeholders unresolved.' }),
  })
  .meta({ id: 'Template' });

export type AgentBody = z.input<typeof agentSchema>;

export const toAgentBody = (a: AgentListing): AgentBody => ({
  type: a.type,
  version: a.version,
  nextVersion: a.nextVersion,
  contractVersion: a.contractVersion,
  acceptsContracts: a.acceptsContracts,
  rolloutFlag: a.rolloutFlag,
  description: a.description,
  queue: a.queue,
  workersOnline: a.workersOnline,
  paused: a.paused,
  pause: a.pause ? { at: toIso(a.pause.pausedAt), by: a.pause.pausedBy, reason: a.pause.reason } : null,
});

export function toTemplateSummaryBody(template: Template): z.input<typeof templateSummarySchema> {
  return {
    name: template.name,
    description: template.description,
    stages: templateStageKeys(template),
    inputFields: templateInputFields(template.inputSchema),
    inputExample: template.inputExample ?? null,
  };
}

export function toTemplateBody(template: Template): z.input<typeof templateSchema> {
  return {
    name: template.name,
    description: template.description,
    inputSchema: template.inputSchema as Record<string, unknown>,
    ...(template.inputExample === undefined ? {} : { inputExample: template.inputExample }),
    stages: template.stages as Record<string, unknown>[],
  };
}
