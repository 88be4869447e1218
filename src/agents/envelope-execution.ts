// Runs an agent on a stage envelope: the envelope's input is upcast from the contract version it
// was written under to the agent's own, each upstream output by its producer's output upcasters,
// and what no upcaster reaches is refused before the handler starts (CONTRACT_VERSION_UNSUPPORTED).
import type { JsonValue } from '../domain/json.js';
import { upcastEnvelope, type StageEnvelope } from '../domain/stage-envelope.js';
import type { Agent, AgentRunContext } from './define-agent.js';

export { upcastEnvelope } from '../domain/stage-envelope.js';

/** The context fields the envelope does not supply. */
export type EnvelopeRunContext = Omit<AgentRunContext, 'pipelineId' | 'stageId' | 'stageKey' | 'attempt' | 'dependencies'>;

export interface EnvelopeRunOptions {
  /** The agent version to run (default: the incumbent). */
  version?: string;
  /** The catalog the upstream producers are looked up in; one it does not know passes its output as stored. */
  producers?: ReadonlyMap<string, Agent>;
}

/** Upcasts the envelope, then runs the agent's handler on it (input and output checked by its schemas). */
export async function executeEnvelope(
  agent: Agent,
  envelope: StageEnvelope,
  ctx: EnvelopeRunContext,
  { version, producers }: EnvelopeRunOptions = {},
): Promise<JsonValue> {
  const { input, dependencies } = upcastEnvelope(agent, envelope, producers);
  return agent.execute(
    input,
    {
      ...ctx,
      pipelineId: envelope.pipelineId,
      stageId: envelope.stageId,
      stageKey: envelope.stageKey,
      attempt: envelope.attempt,
      dependencies,
    },
    version,
  );
}
