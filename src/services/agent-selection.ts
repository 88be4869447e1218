// Which version of an agent a stage runs, and with which settings: the agent's rollout flag
// (`agent.<type>.rollout`, sticky per pipeline) sends its share of pipelines to the agent's `next`
// version, and the variant its settings flag (`agent.<type>.settings`) puts the pipeline in
// gives the A/B arm and, as its JSON payload, the settings handed to the handler. Evaluation is
// in memory (the flag port), so choosing costs no I/O on the stage's hot path.
import type { Agent } from '../agents/define-agent.js';
import { agentFlagNames, type FlagContext } from '../domain/feature-flags.js';
import type { JsonObject, JsonValue } from '../domain/json.js';
import type { Logger } from '../domain/logger.js';
import type { FeatureFlags } from './flags.ports.js';

/**
 * A variant name longer than this is cut: the name is a metric label and a column, and flag
 * definitions are edited by people, so its length is bounded here rather than trusted.
 */
export const VARIANT_NAME_MAX = 64;

/** What one delivery of a stage runs with. */
export interface AgentChoice {
  /** The agent version whose handler runs: the incumbent, or `next` for a pipeline in the rollout. */
  version: string;
  /** The settings flag's variant the pipeline falls in (at most VARIANT_NAME_MAX characters); null: none. */
  variant: string | null;
  /** The variant's payload when it is a JSON object, else `{}`. */
  settings: JsonObject;
}

/** The part of an agent the choice reads. */
export type SelectableAgent = Pick<Agent, 'type' | 'version' | 'nextVersion'>;

export interface AgentSelection {
  /** The version, variant and settings for this agent and pipeline; the same pipeline always gets the same answer while the flags stay put. */
  choose(agent: SelectableAgent, context: FlagContext): AgentChoice;
}

export interface AgentSelectionDeps {
  flags: FeatureFlags;
  logger: Logger;
}

const isJsonObject = (value: JsonValue | null): value is JsonObject => value !== null && typeof value === 'object' && !Array.isArray(value);

export function createAgentSelection({ flags, logger }: AgentSelectionDeps): AgentSelection {
  // A misconfigured flag is evaluated for every stage: say so once per agent and cause, not per stage.
  const warned = new Set<string>();
  const warnOnce = (key: string, message: string, fields: Record<string, unknown>) => {
    if (warned.has(key)) return;
    warned.add(key);
    logger.warn(message, fields);
  };

  return {
    choose(agent, context) {
      const names = agentFlagNames(agent.type);
      const ctx: FlagContext = { ...context, agentType: agent.type };
      let version = agent.version;
      if (flags.isEnabled(names.rollout, ctx, false)) {
        if (agent.nextVersion !== undefined) version = agent.nextVersion;
        else
          warnOnce(`${agent.type}:no-next`, 'rollout flag is on but the agent has no next version: the incumbent runs', {
            flag: names.rollout,
            agentType: agent.type,
            version: agent.version,
          });
      }
      const variant = flags.variant(names.settings, ctx);
      if (!variant) return { version, variant: null, settings: {} };
      const name = variant.name.slice(0, VARIANT_NAME_MAX);
      // A variant without a payload is a legitimate arm (a control group on the defaults).
      if (variant.payload === null || isJsonObject(variant.payload)) return { version, variant: name, settings: variant.payload ?? {} };
      warnOnce(`${agent.type}:payload:${name}`, 'settings variant payload is not a JSON object: the agent gets {}', {
        flag: names.settings,
        agentType: agent.type,
        variant: name,
      });
      return { version, variant: name, settings: {} };
    },
  };
}
