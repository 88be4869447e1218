// What can be run, as the API lists it: each agent type of the catalogue with its versions (the
// incumbent, and the candidate its rollout flag can send pipelines to), its queue and the
// workers online for it now. The composition root hands in the catalogue's descriptions and the
// queue naming, so readers of the directory need neither agents/ nor infra/.
import { agentFlagNames } from '../domain/feature-flags.js';
import type { AgentPauseRecord } from './agent-pause.ports.js';
import type { AgentPauseState } from './agent-pause.service.js';
import type { AgentQueues } from './queue.ports.js';

export interface AgentDescription {
  type: string;
  version: string;
  /** The candidate version the agent registers (`next`), if any. */
  nextVersion?: string | undefined;
  description: string;
  /** Its contract version and the input versions it accepts (absent: version 1 only). */
  contract?: { version: number; accepts: readonly [number, number] };
}

export interface AgentListing extends Omit<AgentDescription, 'nextVersion' | 'contract'> {
  nextVersion: string | null;
  /** The contract version its schemas speak. */
  contractVersion: number;
  /** `[min, max]`: the envelope contract versions it runs (older ones upcast). */
  acceptsContracts: [number, number];
  /** The flag whose share of pipelines runs `nextVersion` (agent.<type>.rollout). */
  rolloutFlag: string;
  /** The queue its stage jobs go to. */
  queue: string;
  workersOnline: number;
  /** Its queue is paused for every worker (POST /agents/:type/pause, or Bull Board). */
  paused: boolean;
  /** The platform's record of the pause (since, by, reason); null: none. */
  pause: AgentPauseRecord | null;
}

export interface AgentDirectoryDeps {
  agents: readonly AgentDescription[];
  queueName(agentType: string): string;
  queues: Pick<AgentQueues, 'workersOnline'>;
  /** Each type's pause (agent-pause.service.ts); absent: none is ever shown paused. */
  pauses?: { states(): Promise<AgentPauseState[]> };
}

export function createAgentDirectory({ agents, queueName, queues, pauses }: AgentDirectoryDeps) {
  const types = agents.map((a) => a.type);
  return {
    /** The agent types, in catalogue order. */
    types: (): readonly string[] => types,
    async list(): Promise<AgentListing[]> {
      const paused = new Map((await (pauses?.states() ?? Promise.resolve([]))).map((s) => [s.type, s]));
      return Promise.all(
        agents.map(async (a) => ({
          type: a.type,
          version: a.version,
          nextVersion: a.nextVersion ?? null,
          contractVersion: a.contract?.version ?? 1,
          acceptsContracts: [a.contract?.accepts[0] ?? 1, a.contract?.accepts[1] ?? 1] as [number, number],
          rolloutFlag: agentFlagNames(a.type).rollout,
          description: a.description,
          queue: queueName(a.type),
          workersOnline: await queues.workersOnline(a.type),
          paused: paused.get(a.type)?.paused ?? false,
          pause: paused.get(a.type)?.pause ?? null,
        })),
      );
    },
  };
}

export type AgentDirectory = ReturnType<typeof createAgentDirectory>;
