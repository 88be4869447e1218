// The flags the platform reads, by name, and what they mean. Names follow Unleash's rules
// (letters, digits, `.`, `_`, `-`); the agent ones embed the agent type.
import type { JsonValue } from './json.js';

/** What a flag is evaluated against. `pipelineId` is the stickiness key: a pipeline always falls in the same bucket. */
export interface FlagContext {
  pipelineId?: string;
  agentType?: string;
  submitter?: string;
}

/** A variant of an A/B flag: its name and its JSON payload (null without one). */
export interface FlagVariant {
  name: string;
  payload: JsonValue | null;
}

/** The flags of one agent type. */
export function agentFlagNames(agentType: string) {
  return {
    /** On for a pipeline: its stages of this type run the agent's `next` version (gradual rollout, sticky per pipeline). */
    rollout: `agent.${agentType}.rollout`,
    /** Variants whose JSON payloads are settings handed to the agent (A/B), recorded on the stage run. */
    settings: `agent.${agentType}.settings`,
    /** On: stages of this type wait (queued, with the reason shown) and run when it is off again. */
    kill: `agent.${agentType}.kill`,
    /** On for a pipeline: the `next` version also runs beside the incumbent; only the incumbent's result counts. */
    shadow: `agent.${agentType}.shadow`,
  } as const;
}

/** Platform switches for risky features, with the state used when no flag source defines them. */
export const PLATFORM_SWITCHES = {
  /** Webhook delivery; off: events keep accumulating and are delivered when it is on again. */
  webhooks: { name: 'platform.webhooks', fallback: true },
  /** Auto-approval of decisions by confidence; off: every decision waits for a person. */
  autoApproval: { name: 'platform.auto-approval', fallback: true },
} as const;
