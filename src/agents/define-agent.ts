// The agent SDK: `defineAgent` pairs a handler with zod schemas for its input and output and
// erases the types into an Agent the workers and the validator can hold in one catalog.
import { z } from 'zod';
import { UnrecoverableStageError, type ErrorDetail } from '../domain/errors.js';
import type { ClarificationQuestion } from '../domain/requirements-check.js';
import type { AgentDecisionAsk } from '../domain/decision-request.js';
import { jsonByteLength, type JsonObject, type JsonValue } from '../domain/json.js';
import { MAX_OUTPUT_BYTES, zodIssuesToDetails } from '../domain/pipeline-definition.js';
import type { Logger } from '../domain/logger.js';
import { defineContract, type AgentContract, type AgentContractSpec } from '../domain/contract-version.js';
import type { AgentWorkspace } from './agent-workspace.js';

export type { AgentWorkspace, StartedProcess, StartOptions, ToolOptions, ToolRun } from './agent-workspace.js';

/** What a handler logs through: the domain's logger interface, under the SDK's name. */
export type AgentLogger = Logger;

export type MetricValue = number | string | boolean;

/** What a handler receives besides its own input. */
export interface AgentRunContext {
  pipelineId: string;
  stageId: string;
  stageKey: string;
  /** 1 for the first attempt. */
  attempt: number;
  maxAttempts: number;
  /** The pipeline's own input (a template's parameters). */
  pipelineInput: JsonObject;
  /** Outputs of the stages this one depends on, by stage key. */
  dependencies: Record<string, JsonValue>;
  logger: AgentLogger;
  /** Aborted on cancel, on timeout, and when a stopping worker's grace period runs out. */
  signal: AbortSignal;
  /**
   * Epoch milliseconds at which the stage's `timeoutMs` runs out and `signal` aborts
   * (STAGE_TIMEOUT); absent when the stage has no timeout. Bound your own waits by it
   * (`boundByDeadline`); the workspace already bounds the programs it runs.
   */
  deadline?: number | null;
  /**
   * The settings of the A/B variant this stage falls in (the payload of the agent's
   * `agent.<type>.settings` flag), `{}` without one.
   */
  settings: JsonObject;
  /**
   * The pipeline's workspace (a clone of `input.repository`, or an empty folder the stages
   * share), present when the agent declares `workspace: true`.
   */
  workspace?: AgentWorkspace;
  /** Reports completion in percent (0–100); shows in the API. */
  progress(pct: number): Promise<void>;
  /** Records metrics with the stage run (merged; quality gates read them). */
  reportMetrics(metrics: Record<string, MetricValue>): void;
  /**
   * Stops this run and asks a human: the stage waits (holding no worker slot) until the
   * questions are answered, then runs again with the answers in `input.clarifications`.
   */
  requestClarification(questions: readonly (string | ClarificationQuestion)[]): never;
  /**
   * Stops this run and opens a decision of `category` for its approvers (always a person, with
   * the policy's quorum and deadline): the stage waits, holding no worker slot. Approved, the
   * stage runs again with the approval in `input.decisions` (`[{ key, decisionId, category,
   * approvedBy, comment }]`), so an agent that accepts it declares `decisions` in its input
   * schema; rejected or expired, the stage fails with DECISION_REJECTED or DECISION_EXPIRED.
   */
  requestDecision(ask: AgentDecisionAsk): never;
}

// Part of the SDK, defined in the domain so the stage runner (services/) can recognise them.
export { ClarificationRequest } from '../domain/clarification-request.js';
export {
  DecisionRequest,
  approvalOf,
  approvedDecisionSchema,
  type AgentDecisionAsk,
  type ApprovedDecision,
} from '../domain/decision-request.js';

export interface AgentContext<I> extends AgentRunContext {
  input: I;
}

export interface AgentSpec<IS extends z.ZodType, OS extends z.ZodType> {
  type: string;
  version: string;
  description?: string;
  input: IS;
  output: OS;
  /** The runner prepares the pipeline's workspace before each run and passes it as `ctx.workspace`. */
  workspace?: boolean;
  /**
   * Its contract version and upcasters from the two before it (default: version 1, none); see
   * "Contracts and versions" in docs/agents.md.
   */
  contract?: AgentContractSpec;
  handler(ctx: AgentContext<z.output<IS>>): Promise<z.input<OS>>;
  /**
   * A second version under the same contract, run instead of `version` for the share of pipelines
   * its rollout flag selects, and beside it in shadow runs.
   */
  next?: { version: string; handler(ctx: AgentContext<z.output<IS>>): Promise<z.input<OS>> };
}

/** An agent with its types erased: what catalogs, validators and workers hold. */
export interface Agent {
  readonly type: string;
  /** The incumbent version: what runs unless a flag says otherwise. */
  readonly version: string;
  /** The candidate version, when the agent registers one. */
  readonly nextVersion: string | undefined;
  readonly description: string;
  /** Whether its runs get the pipeline's workspace (`ctx.workspace`). */
  readonly needsWorkspace: boolean;
  /** The contract version its schemas speak, the range it accepts, and its upcasters. */
  readonly contract: AgentContract;
  validateInput(input: JsonObject): { ok: true } | { ok: false; problems: ErrorDetail[] };
  /**
   * Parses the input, runs the handler of `version` (default: the incumbent) and checks its output
   * against the contract. A version the agent does not have is a programmer error.
   */
  execute(input: JsonObject, ctx: AgentRunContext, version?: string): Promise<JsonValue>;
}

export const AGENT_TYPE_PATTERN = /^[a-z][a-z0-9_-]{0,63}$/;

/** Declares an agent type. The handler's input and output are checked against the schemas. */
export function defineAgent<IS extends z.ZodType, OS extends z.ZodType>(spec: AgentSpec<IS, OS>): Agent {
  if (!AGENT_TYPE_PATTERN.test(spec.type)) {
    throw new Error(`agent type "${spec.type}" must match ${AGENT_TYPE_PATTERN}`);
  }
  if (spec.next && spec.next.version === spec.version) {
    throw new Error(`agent "${spec.type}": next version must differ from ${spec.version}`);
  }
  const contract = defineContract(spec.type, spec.contract);
  const handlers = new Map([[spec.version, spec.handler]]);
  if (spec.next) handlers.set(spec.next.version, spec.next.handler);
  return {
    type: spec.type,
    version: spec.version,
    nextVersion: spec.next?.version,
    description: spec.description ?? '',
    needsWorkspace: spec.workspace ?? false,
    contract,
    validateInput(input) {
      const parsed = spec.input.safeParse(input);
      return parsed.success ? { ok: true } : { ok: false, problems: zodIssuesToDetails(parsed.error) };
    },
    async execute(input, ctx, version = spec.version) {
      const handler = handlers.get(version);
      if (!handler) throw new Error(`agent "${spec.type}" has no version ${version}`);
      const parsedInput = spec.input.safeParse(input);
      if (!parsedInput.success) {
        throw new UnrecoverableStageError('AGENT_INPUT_INVALID', `input rejected by ${spec.type}: ${z.prettifyError(parsedInput.error)}`);
      }
      const output = await handler({ ...ctx, input: parsedInput.data });
      const parsedOutput = spec.output.safeParse(output);
      if (!parsedOutput.success) {
        throw new UnrecoverableStageError(
          'AGENT_OUTPUT_INVALID',
          `output rejected by ${spec.type}'s contract: ${z.prettifyError(parsedOutput.error)}`,
        );
      }
      const result = (parsedOutput.data ?? null) as JsonValue;
      if (jsonByteLength(result) > MAX_OUTPUT_BYTES) {
        throw new UnrecoverableStageError('AGENT_OUTPUT_TOO_LARGE', `output of ${spec.type} is over ${MAX_OUTPUT_BYTES / 1024} KB`);
      }
      return result;
    },
  };
}
