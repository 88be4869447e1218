// Every environment variable the platform reads, declared once (src/config/variables/), in the
// order the docs and the example file list them.
import type { z } from 'zod';
import type { VariableSpec } from './variable.js';
import { agentVariables, builtInAgentVariables } from './variables/agents.variables.js';
import { backendVariables } from './variables/backend.variables.js';
import { flagVariables } from './variables/flag.variables.js';
import { httpVariables } from './variables/http.variables.js';
import { identityVariables } from './variables/identity.variables.js';
import { llmVariables } from './variables/llm.variables.js';
import { masterKeyVariables } from './variables/master-key.variables.js';
import { priorityVariables } from './variables/priority.variables.js';
import { quotaVariables } from './variables/quotas.variables.js';
import { rateLimitVariables } from './variables/rate-limit.variables.js';
import { redisClusterVariables } from './variables/redis-cluster.variables.js';
import { retentionVariables } from './variables/retention.variables.js';
import { runtimeVariables } from './variables/runtime.variables.js';
import { scheduleVariables } from './variables/schedule.variables.js';
import { throttlingVariables } from './variables/throttling.variables.js';
import { tracingVariables } from './variables/tracing.variables.js';
import { webhookVariables } from './variables/webhook.variables.js';
import { workerVariables } from './variables/worker.variables.js';
import { workspaceVariables } from './variables/workspace.variables.js';

export const REGISTRY = {
  ...runtimeVariables,
  ...httpVariables,
  ...backendVariables,
  ...redisClusterVariables,
  ...quotaVariables,
  ...rateLimitVariables,
  ...workerVariables,
  ...retentionVariables,
  ...workspaceVariables,
  ...agentVariables,
  ...builtInAgentVariables,
  ...throttlingVariables,
  ...llmVariables,
  ...webhookVariables,
  ...identityVariables,
  ...flagVariables,
  ...tracingVariables,
  ...masterKeyVariables,
  ...priorityVariables,
  ...scheduleVariables,
};

export type VariableName = keyof typeof REGISTRY;

/** The parsed configuration: each variable's typed value (undefined only for those without a default). */
export type Config = { [K in VariableName]: z.output<(typeof REGISTRY)[K]['schema']> };

/** The variables, in registry order. */
export const VARIABLES: readonly VariableSpec[] = Object.values(REGISTRY);

/** The groups, in registry order. */
export const GROUPS: readonly string[] = [...new Set(VARIABLES.map((v) => v.group))];

/** The variables marked secret. */
export const SECRET_VARIABLES: readonly VariableSpec[] = VARIABLES.filter((v) => v.secret);

export function isVariableName(name: string): name is VariableName {
  return Object.hasOwn(REGISTRY, name);
}
