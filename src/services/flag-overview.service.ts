// The flag overview behind GET /api/v1/flags: the flag source's snapshot (where the flags come
// from, how fresh they are, every flag it holds), then what they mean for this deployment: for
// each agent type of the catalogue, its four flags (defined or not, toggle, source, the share of
// pipelines a rollout reaches when the definition says it plainly, the settings variants, whether
// the kill switch holds its stages now), and the platform switches with their effective value.
import { agentFlagNames, PLATFORM_SWITCHES } from '../domain/feature-flags.js';
import type {
  FlagDefinitionState,
  FlagOrigin,
  FlagSnapshotSource,
  FlagSourceSnapshot,
  FlagVariantDefinition,
} from './flag-overview.ports.js';
import { agentSwitchedOff, platformSwitchOn, type PlatformSwitch } from './flag-switches.js';
import type { FeatureFlags } from './flags.ports.js';

export type AgentFlagRole = keyof ReturnType<typeof agentFlagNames>;

export interface AgentFlagState {
  role: AgentFlagRole;
  name: string;
  /** Whether the flag source holds the flag; undefined flags are off for agents. */
  defined: boolean;
  /** The flag's toggle; false when undefined. */
  enabled: boolean;
  /** Null when undefined. */
  source: Exclude<FlagOrigin, 'fallback'> | null;
  /**
   * rollout and shadow: the share of pipelines it is on for, when the definition says it plainly
   * (off or undefined: 0; a `default` strategy without constraints: 100; one `flexibleRollout`
   * without constraints: its `rollout`); null otherwise (constraints, several strategies).
   * Null for settings and kill.
   */
  rolloutPercent: number | null;
  /** settings: the variants (strategy variants first, else the flag's own); empty for the others. */
  variants: FlagVariantDefinition[];
}

export interface AgentFlagsView {
  type: string;
  version: string;
  /** The version rollout and shadow flags send pipelines to; null: the agent has none, they change nothing. */
  nextVersion: string | null;
  /** True while `agent.<type>.kill` holds its stages (queued, not run). */
  switchedOff: boolean;
  flags: AgentFlagState[];
}

export interface PlatformSwitchView {
  name: string;
  /** Used when no flag source defines it. */
  fallback: boolean;
  defined: boolean;
  source: FlagOrigin;
  /** What the platform does now. */
  on: boolean;
}

export interface FlagOverview {
  source: Omit<FlagSourceSnapshot, 'flags'>;
  flags: FlagDefinitionState[];
  agents: AgentFlagsView[];
  platformSwitches: PlatformSwitchView[];
}

export interface FlagOverviewAgent {
  type: string;
  version: string;
  nextVersion: string | undefined;
}

export interface FlagOverviewDeps {
  source: FlagSnapshotSource;
  flags: Pick<FeatureFlags, 'isEnabled'>;
  agents: readonly FlagOverviewAgent[];
}

const ROLES: readonly AgentFlagRole[] = ['rollout', 'settings', 'kill', 'shadow'];

/** The share of pipelines a rollout flag reaches, when its definition says it plainly. */
export function plainRolloutPercent(flag: FlagDefinitionState | undefined): number | null {
  if (!flag || !flag.enabled) return 0;
  const open = flag.strategies.filter((s) => s.constraints === 0);
  if (open.some((s) => s.name === 'default')) return 100;
  if (flag.strategies.length !== 1 || open.length !== 1 || open[0]!.name !== 'flexibleRollout') return null;
  const percent = Number(open[0]!.parameters.rollout);
  return Number.isFinite(percent) && percent >= 0 && percent <= 100 ? percent : null;
}

function variantsOf(flag: FlagDefinitionState | undefined): FlagVariantDefinition[] {
  if (!flag) return [];
  const onStrategies = flag.strategies.flatMap((s) => s.variants);
  return onStrategies.length > 0 ? onStrategies : flag.variants;
}

export function createFlagOverview({ source, flags, agents }: FlagOverviewDeps) {
  return {
    overview(): FlagOverview {
      const { flags: held, ...sourceState } = source.snapshot();
      const byName = new Map(held.filter((f) => f.source !== 'fallback').map((f) => [f.name, f]));

      const agentViews = agents.map((agent): AgentFlagsView => {
        const names = agentFlagNames(agent.type);
        return {
          type: agent.type,
          version: agent.version,
          nextVersion: agent.nextVersion ?? null,
          switchedOff: agentSwitchedOff(flags, agent.type),
          flags: ROLES.map((role) => {
            const flag = byName.get(names[role]);
            return {
              role,
              name: names[role],
              defined: flag !== undefined,
              enabled: flag?.enabled ?? false,
              source: flag ? (flag.source as Exclude<FlagOrigin, 'fallback'>) : null,
              rolloutPercent: role === 'rollout' || role === 'shadow' ? plainRolloutPercent(flag) : null,
              variants: role === 'settings' ? variantsOf(flag) : [],
            };
          }),
        };
      });

      const platformSwitches = (Object.keys(PLATFORM_SWITCHES) as PlatformSwitch[]).map((key): PlatformSwitchView => {
        const { name, fallback } = PLATFORM_SWITCHES[key];
        const flag = byName.get(name);
        return { name, fallback, defined: flag !== undefined, source: flag?.source ?? 'fallback', on: platformSwitchOn(flags, key) };
      });

      return { source: sourceState, flags: held, agents: agentViews, platformSwitches };
    },
  };
}

export type FlagOverviewService = ReturnType<typeof createFlagOverview>;
