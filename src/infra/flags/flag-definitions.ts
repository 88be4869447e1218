// The flags of the flag source as the snapshot shows them: each definition the client holds,
// reduced to what an operator needs (toggle, strategies with their parameters, constraint counts,
// variant names and weights; never constraint values or variant payloads, which may name people
// or carry settings), then the platform switches no source defines, with their fallbacks.
import type { FeatureInterface } from 'unleash-client/lib/feature.js';
import { PLATFORM_SWITCHES } from '../../domain/feature-flags.js';
import type { FlagDefinitionState, FlagOrigin, FlagVariantDefinition } from '../../services/flag-overview.ports.js';

const variantsOf = (variants: readonly { name: string; weight: number }[] | undefined): FlagVariantDefinition[] =>
  (variants ?? []).map((v) => ({ name: v.name, weight: v.weight }));

const asText = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

function toState(feature: FeatureInterface, source: FlagOrigin): FlagDefinitionState {
  return {
    name: feature.name,
    enabled: feature.enabled,
    description: feature.description || null,
    source,
    strategies: (feature.strategies ?? []).map((s) => ({
      name: s.name,
      parameters: Object.fromEntries(Object.entries(s.parameters ?? {}).map(([key, value]) => [key, asText(value)])),
      constraints: s.constraints?.length ?? 0,
      variants: variantsOf(s.variants),
    })),
    variants: variantsOf(feature.variants),
  };
}

/** The held definitions (all from `source`: a set is replaced whole), by name, then the undefined platform switches. */
export function flagDefinitionStates(features: readonly FeatureInterface[], source: FlagOrigin): FlagDefinitionState[] {
  const held = [...features].sort((a, b) => a.name.localeCompare(b.name)).map((f) => toState(f, source));
  const names = new Set(held.map((f) => f.name));
  const fallbacks = Object.values(PLATFORM_SWITCHES)
    .filter((s) => !names.has(s.name))
    .map((s): FlagDefinitionState => ({
      name: s.name,
      enabled: s.fallback,
      description: 'Defined nowhere: the platform uses its built-in default.',
      source: 'fallback',
      strategies: [],
      variants: [],
    }));
  return [...held, ...fallbacks];
}
