// The on/off switches the platform reads from its feature flags: the kill switch of each agent
// type (`agent.<type>.kill`) and the platform switches (`platform.webhooks`,
// `platform.auto-approval`). Evaluation is in memory (the FeatureFlags port), so callers ask on
// every job or request; `watchSwitches` turns the flag source's change events into one call per
// switch that actually changed, which is what pauses and resumes local workers and what is logged.
import { agentFlagNames, PLATFORM_SWITCHES } from '../domain/feature-flags.js';
import type { StageStatus } from '../domain/status.js';
import type { FeatureFlags } from './flags.ports.js';

/** Why a queued stage is not running although its dependencies are done (shown as the stage's `waiting`). */
export interface StageWaiting {
  reason: 'agent_switched_off';
  /** The flag that holds it: `agent.<type>.kill`. */
  flag: string;
}

export type PlatformSwitch = keyof typeof PLATFORM_SWITCHES;

/** True while `agent.<type>.kill` is on for that agent type (an undefined flag is off). */
export function agentSwitchedOff(flags: Pick<FeatureFlags, 'isEnabled'>, agentType: string): boolean {
  return flags.isEnabled(agentFlagNames(agentType).kill, { agentType }, false);
}

/** The agent types of `agentTypes` that are switched off now, in the given order. */
export function switchedOffAgents(flags: Pick<FeatureFlags, 'isEnabled'>, agentTypes: readonly string[]): string[] {
  return agentTypes.filter((type) => agentSwitchedOff(flags, type));
}

/**
 * Why this stage waits, when a flag is the reason: a queued stage (its job in the agent queue,
 * not claimed) of a switched-off agent. Null for every other stage: a running one finishes its
 * attempt whatever the switch says, and pending or waiting ones wait for something else.
 */
export function stageWaiting(flags: Pick<FeatureFlags, 'isEnabled'>, stage: { status: StageStatus; agent: string }): StageWaiting | null {
  if (stage.status !== 'queued' || !agentSwitchedOff(flags, stage.agent)) return null;
  return { reason: 'agent_switched_off', flag: agentFlagNames(stage.agent).kill };
}

/** True while the platform switch is on (its fallback when no flag source defines it). */
export function platformSwitchOn(flags: Pick<FeatureFlags, 'isEnabled'>, which: PlatformSwitch): boolean {
  const { name, fallback } = PLATFORM_SWITCHES[which];
  return flags.isEnabled(name, {}, fallback);
}

/** The platform switches by flag name, with their state now (for /health/detailed). */
export function platformSwitchStates(flags: Pick<FeatureFlags, 'isEnabled'>): Record<string, boolean> {
  return Object.fromEntries(
    (Object.keys(PLATFORM_SWITCHES) as PlatformSwitch[]).map((which) => [PLATFORM_SWITCHES[which].name, platformSwitchOn(flags, which)]),
  );
}

/**
 * Follows named boolean switches: `read(key)` gives a switch's state; after every change of the
 * flag set, `onSwitch(key, state)` is called for each key whose state differs from the last one
 * seen (the first state is the one read when watching starts; no call for it). Returns the stop
 * function.
 */
export function watchSwitches<K extends string>(
  flags: Pick<FeatureFlags, 'onChange'>,
  keys: readonly K[],
  read: (key: K) => boolean,
  onSwitch: (key: K, state: boolean) => void,
): () => void {
  const last = new Map(keys.map((key) => [key, read(key)]));
  return flags.onChange(() => {
    for (const key of keys) {
      const state = read(key);
      if (state === last.get(key)) continue;
      last.set(key, state);
      onSwitch(key, state);
    }
  });
}
