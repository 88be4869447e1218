// The public shape of GET /api/v1/flags: the flag source (mode, freshness, last error), every
// flag it holds with where it came from, each agent type's four flags, and the platform switches
// with their effective value; with the mapping from the flag overview service.
import { z } from 'zod';
import type { FlagDefinitionState } from '../../services/flag-overview.ports.js';
import type { FlagOverview } from '../../services/flag-overview.service.js';
import { isoDate, toIso, toIsoOrNull } from './common.schema.js';

const origin = z.enum(['server', 'bootstrap', 'fallback']).meta({
  description:
    '`server`: fetched from the Unleash server; `bootstrap`: read from FLAGS_FILE; `fallback`: defined nowhere, the built-in default.',
});

const variantSchema = z.object({ name: z.string(), weight: z.number().meta({ description: 'Out of 1000.' }) });

export const flagStateSchema = z
  .object({
    name: z.string(),
    enabled: z.boolean().meta({ description: 'The toggle in its environment; strategies decide for whom when on.' }),
    description: z.string().nullable(),
    source: origin,
    strategies: z.array(
      z.object({
        name: z.string().meta({ description: '`default`, `flexibleRollout`, …' }),
        parameters: z.record(z.string(), z.string()).meta({ description: '`rollout` (percent), `stickiness`, `groupId`, …' }),
        constraints: z.number().int().meta({ description: 'How many constraints narrow it (values not shown).' }),
        variants: z.array(variantSchema).meta({ description: 'Strategy variants (names and weights; payloads not shown).' }),
      }),
    ),
    variants: z.array(variantSchema).meta({ description: 'Feature-level variants (names and weights).' }),
  })
  .meta({ id: 'FlagState' });

export const flagSourceSchema = z
  .object({
    mode: z.enum(['server', 'bootstrap']).meta({ description: '`server`: UNLEASH_URL is set; `bootstrap`: FLAGS_FILE alone.' }),
    url: z.string().nullable().meta({ description: 'The Unleash API base, credentials masked; null in bootstrap mode.' }),
    appName: z.string(),
    environment: z.string(),
    refreshIntervalMs: z.number().int().nullable(),
    bootstrap: z.object({
      file: z.string().nullable().meta({ description: 'FLAGS_FILE; null when the flags were given inline.' }),
      loaded: z.boolean().meta({ description: 'Read, and held at least one flag.' }),
      flags: z.number().int(),
      error: z.string().nullable().meta({ description: 'Why it could not be used (missing, not JSON, not the client-features format).' }),
    }),
    synchronized: z.boolean().meta({ description: 'A fetch from the server succeeded at least once.' }),
    lastFetchAt: isoDate.nullable(),
    lastError: z.object({ message: z.string(), at: isoDate }).nullable(),
    stale: z.boolean().meta({ description: 'The last refresh failed: the last known flags (or FLAGS_FILE’s) are serving.' }),
  })
  .meta({ id: 'FlagSource' });

export const agentFlagsSchema = z
  .object({
    type: z.string(),
    version: z.string(),
    nextVersion: z.string().nullable().meta({ description: 'Where rollout and shadow send pipelines; null: those flags change nothing.' }),
    switchedOff: z.boolean().meta({ description: 'Its kill switch holds its stages now.' }),
    flags: z.array(
      z.object({
        role: z.enum(['rollout', 'settings', 'kill', 'shadow']),
        name: z.string().meta({ description: '`agent.<type>.<role>`.' }),
        defined: z.boolean(),
        enabled: z.boolean().meta({ description: 'The toggle; false when undefined.' }),
        source: z.enum(['server', 'bootstrap']).nullable(),
        rolloutPercent: z
          .number()
          .nullable()
          .meta({ description: 'rollout and shadow: the share of pipelines reached when the definition says it plainly; else null.' }),
        variants: z.array(variantSchema).meta({ description: 'settings: its variants; empty for the others.' }),
      }),
    ),
  })
  .meta({ id: 'AgentFlags' });

export const flagOverviewSchema = z
  .object({
    source: flagSourceSchema,
    flags: z
      .array(flagStateSchema)
      .meta({ description: 'Every flag the source holds, by name, then the platform switches defined nowhere.' }),
    agents: z.array(agentFlagsSchema).meta({ description: 'Each agent type of the catalogue and its four flags.' }),
    platformSwitches: z.array(
      z.object({
        name: z.string(),
        fallback: z.boolean(),
        defined: z.boolean(),
        source: origin,
        on: z.boolean().meta({ description: 'The effective value now.' }),
      }),
    ),
  })
  .meta({ id: 'FlagOverview' });

export type FlagOverviewBody = z.input<typeof flagOverviewSchema>;

const toFlagStateBody = (flag: FlagDefinitionState): z.input<typeof flagStateSchema> => ({ ...flag });

export function toFlagOverviewBody(overview: FlagOverview): FlagOverviewBody {
  const { source } = overview;
  return {
    source: {
      ...source,
      lastFetchAt: toIsoOrNull(source.lastFetchAt),
      lastError: source.lastError ? { message: source.lastError.message, at: toIso(source.lastError.at) } : null,
    },
    flags: overview.flags.map(toFlagStateBody),
    agents: overview.agents,
    platformSwitches: overview.platformSwitches,
  };
}
