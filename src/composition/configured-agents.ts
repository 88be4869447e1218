// The built-in agents that do real work, built from the configuration: the SDLC agents
// (scaffold, validation, e2e_test, integration, deployment) and the tools (command, http, llm).
// The config-free agents (noop, sleep, fail, requirements and the simulated sim_*) are
// BUILT_IN_AGENTS in src/agents/catalog.ts; every process's catalog holds both.
import { BUILT_IN_AGENTS } from '../agents/catalog.js';
import { createCommandAgent } from '../agents/command.agent.js';
import type { Agent } from '../agents/define-agent.js';
import { createHttpAgent } from '../agents/http.agent.js';
import { createChatClient, isChatConfigured, type ChatClientOptions } from '../agents/llm-client.js';
import { createLlmAgent } from '../agents/llm.agent.js';
import { createDeploymentAgent } from '../agents/sdlc/deployment.agent.js';
import { createE2eTestAgent } from '../agents/sdlc/e2e-test.agent.js';
import { createIntegrationAgent } from '../agents/sdlc/integration.agent.js';
import { createLlmCodeWriter } from '../agents/sdlc/llm-code-writer.js';
import { createScaffoldAgent } from '../agents/sdlc/scaffold.agent.js';
import { createValidationAgent } from '../agents/sdlc/validation.agent.js';
import type { Config } from '../config.js';
import { createReleaseProcesses } from '../infra/workspaces/release-processes.js';
import { acquireLock } from '../infra/workspaces/workspace-lock.js';

export type AgentConfig = Pick<
  Config,
  | 'LLM_BASE_URL'
  | 'LLM_MODEL'
  | 'LLM_API_KEY'
  | 'LLM_TIMEOUT_MS'
  | 'RELEASES_ROOT'
  | 'DEPLOY_HOOK_URL'
  | 'DEPLOY_HOOK_TOKEN'
  | 'GITHUB_TOKEN'
  | 'GITHUB_API_URL'
  | 'COMMAND_ALLOWED_PROGRAMS'
  | 'COMMAND_ENV_ALLOW_LIST'
  | 'HTTP_AGENT_ALLOWED_HOSTS'
>;

/** The real agents for this configuration. Building them starts nothing: no process, no connection. */
export function configuredAgents(config: AgentConfig): Agent[] {
  const chat: ChatClientOptions = {
    baseUrl: config.LLM_BASE_URL,
    model: config.LLM_MODEL,
    apiKey: config.LLM_API_KEY || undefined,
    timeoutMs: config.LLM_TIMEOUT_MS,
  };
  return [
    // With an endpoint, scaffold also writes code from the requirements; without one, the template alone.
    createScaffoldAgent(isChatConfigured(chat) ? { writeCode: createLlmCodeWriter(createChatClient(chat)) } : {}),
    createValidationAgent(),
    createE2eTestAgent(),
    createIntegrationAgent(config.GITHUB_TOKEN ? { github: { token: config.GITHUB_TOKEN, apiUrl: config.GITHUB_API_URL } } : {}),
    createDeploymentAgent({
      releasesRoot: config.RELEASES_ROOT,
      lockApp: acquireLock,
      ...(config.DEPLOY_HOOK_URL
        ? { deployHook: { url: config.DEPLOY_HOOK_URL, ...(config.DEPLOY_HOOK_TOKEN ? { token: config.DEPLOY_HOOK_TOKEN } : {}) } }
        : { processes: createReleaseProcesses() }),
    }),
    createCommandAgent({ allowedPrograms: config.COMMAND_ALLOWED_PROGRAMS, envAllowList: config.COMMAND_ENV_ALLOW_LIST }),
    createHttpAgent({ allowedHosts: config.HTTP_AGENT_ALLOWED_HOSTS }),
    createLlmAgent(chat),
  ];
}

/** Every built-in agent of a process: the config-free ones and the configured ones. */
export function builtInAgents(config: AgentConfig): Agent[] {
  return [...BUILT_IN_AGENTS, ...configuredAgents(config)];
}
