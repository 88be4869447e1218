// The agent SDK: `defineAgent` pairs a handler with zod schemas for its input and output and
// erases the types into an Agent the workers and the validator can hold in one catalog.
import { z } from 'zod';
import { UnrecoverableStageError, type ErrorDetail } from '../domain/errors.js';
import type { ClarificationQuestion } from '../domain/requirements-check.js';
import { jsonByteLength, type JsonObject, type JsonValue } from '../domain/json.js';
import { MAX_OUTPUT_BYTES, zodIssuesToDetails } from '../domain/pipeline-definition.js';

export interface AgentLogger {
  debug(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

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
  /** Reports completion in percent (0–100); shows in the API. */
  progress(pct: number): Promise<void>;
  /** Records metrics with the stage run (merged; quality gates read them). */
  reportMetrics(metrics: Record<string, MetricValue>): void;
  /**
   * Stops this run and asks a human: the stage waits (holding no worker slot) until the
   * questions are answered, then runs again with the answers in `input.clarifications`.
   */
  requestClarification(questions: readonly (string | ClarificationQuestion)[]): never;
}

/** Thrown by `ctx.requestClarification`; the stage runner turns it into a Clarification. */
export class ClarificationRequest extends Error {
  override readonly name = 'ClarificationRequest';
  readonly questions: ClarificationQuestion[];
  constructor(questions: readonly (string | ClarificationQuestion)[]) {
    super('the agent asked for a clarification');
    this.questions = questions.map((q, i) =>
      typeof q === 'string' ? { id: `q${i + 1}`, reason: 'asked_by_agent', question: q.slice(0, 2000) } : q,
    );
  }
}

export interface AgentContext<I> extends AgentRunContext {
  input: I;
}

export interface AgentSpec<IS extends z.ZodType, OS extends z.ZodType> {
  type: string;
  version: string;
  description?: string;
  input: IS;
  output: OS;
  handler(ctx: AgentContext<z.output<IS>>): Promise<z.input<OS>>;
}

/** An agent with its types erased: what catalogs, validators and workers hold. */
export interface Agent {
  readonly type: string;
  readonly version: string;
  readonly description: string;
  validateInput(input: JsonObject): { ok: true } | { ok: false; problems: ErrorDetail[] };
  /** Parses the input, runs the handler and checks its output against the contract. */
  execute(input: JsonObject, ctx: AgentRunContext): Promise<JsonValue>;
}

export const AGENT_TYPE_PATTERN = /^[a-z][a-z0-9_-]{0,63}$/;

/** Declares an agent type. The handler's input and output are checked against the schemas. */
export function defineAgent<IS extends z.ZodType, OS extends z.ZodType>(spec: AgentSpec<IS, OS>): Agent {
  if (!AGENT_TYPE_PATTERN.test(spec.type)) {
    throw new Error(`agent type "${spec.type}" must match ${AGENT_TYPE_PATTERN}`);
  }
  return {
    type: spec.type,
    version: spec.version,
    description: spec.description ?? '',
    validateInput(input) {
      const parsed = spec.input.safeParse(input);
      return parsed.success ? { ok: true } : { ok: false, problems: zodIssuesToDetails(parsed.error) };
    },
    async execute(input, ctx) {
      const parsedInput = spec.input.safeParse(input);
      if (!parsedInput.success) {
        throw new UnrecoverableStageError(`input rejected by ${spec.type}: ${z.prettifyError(parsedInput.error)}`, 'AGENT_INPUT_INVALID');
      }
      const output = await spec.handler({ ...ctx, input: parsedInput.data });
      const parsedOutput = spec.output.safeParse(output);
      if (!parsedOutput.success) {
        throw new UnrecoverableStageError(
          `output rejected by ${spec.type}'s contract: ${z.prettifyError(parsedOutput.error)}`,
          'AGENT_OUTPUT_INVALID',
        );
      }
      const result = (parsedOutput.data ?? null) as JsonValue;
      if (jsonByteLength(result) > MAX_OUTPUT_BYTES) {
        throw new UnrecoverableStageError(`output of ${spec.type} is over ${MAX_OUTPUT_BYTES / 1024} KB`, 'AGENT_OUTPUT_TOO_LARGE');
      }
      return result;
    },
  };
}
