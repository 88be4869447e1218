// The public agent SDK: everything a custom agent module (AGENT_MODULES) needs, importable as
// `agentic-sdlc/sdk` (package.json "exports"), so modules outside src/ never reach into its files.
// zod is re-exported so a module uses the platform's own copy of it.
export { z } from 'zod';
export {
  AGENT_TYPE_PATTERN,
  defineAgent,
  ClarificationRequest,
  DecisionRequest,
  approvalOf,
  approvedDecisionSchema,
} from './define-agent.js';
export type {
  Agent,
  AgentContext,
  AgentDecisionAsk,
  ApprovedDecision,
  AgentLogger,
  AgentRunContext,
  AgentSpec,
  AgentWorkspace,
  MetricValue,
  StartedProcess,
  StartOptions,
  ToolOptions,
  ToolRun,
} from './define-agent.js';
export { AgentError, DownstreamError, UnrecoverableStageError } from '../domain/errors.js';
export type { AgentErrorOptions } from '../domain/errors.js';
export type { JsonObject, JsonValue } from '../domain/json.js';
export { describeEnding } from './agent-workspace.js';
export { boundByDeadline, DEADLINE_RESERVE_MS } from '../domain/stage-deadline.js';
