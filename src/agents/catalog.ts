// The agent catalog: the agent types this deployment knows, by type.
import type { Agent } from './define-agent.js';
import { failAgent } from './fail.agent.js';
import { noopAgent } from './noop.agent.js';
import { sleepAgent } from './sleep.agent.js';
import { requirementsAgent } from './sdlc/requirements.agent.js';
import { SIMULATED_SDLC_AGENTS } from './sdlc/sdlc-agents.js';

export type AgentCatalog = ReadonlyMap<string, Agent>;

export const BUILT_IN_AGENTS: readonly Agent[] = [noopAgent, sleepAgent, failAgent, requirementsAgent, ...SIMULATED_SDLC_AGENTS];

/** Builds a catalog; a type declared twice is a programmer error. */
export function createAgentCatalog(agents: readonly Agent[] = BUILT_IN_AGENTS): AgentCatalog {
  const catalog = new Map<string, Agent>();
  for (const agent of agents) {
    if (catalog.has(agent.type)) throw new Error(`agent type "${agent.type}" is defined twice`);
    catalog.set(agent.type, agent);
  }
  return catalog;
}

/** The subset of the catalog a worker serves; unknown names are rejected with the list. */
export function selectAgents(catalog: AgentCatalog, types: readonly string[]): Agent[] {
  if (types.length === 0) return [...catalog.values()];
  const unknown = types.filter((t) => !catalog.has(t));
  if (unknown.length > 0) {
    throw new Error(`unknown agent type(s): ${unknown.join(', ')}; known: ${[...catalog.keys()].join(', ')}`);
  }
  return types.map((t) => catalog.get(t)!);
}
