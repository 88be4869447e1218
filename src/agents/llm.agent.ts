// The `llm` agent: one chat completion against the configured OpenAI-compatible endpoint, token
// usage reported as metrics, and the pipeline's token budget kept: a call that could exceed it is
// not sent: a cost_impacting decision (key `llm-budget`) asks the category's approvers whether to
// spend, and the stage runs again once it is approved (or fails when it is rejected).
import { z } from 'zod';
import { UnrecoverableStageError } from '../domain/errors.js';
import { approvalOf, approvedDecisionSchema, defineAgent, type Agent } from './define-agent.js';
import { BUDGET_DECISION_KEY, spentIn, tokenBudgetOf, upstreamLedger } from './llm-budget.js';
import { createChatClient, estimateTokens, type ChatClientOptions, type ChatMessage } from './llm-client.js';

const DEFAULT_MAX_TOKENS = 1024;
/** Tokens each message costs beyond its text (role and separators), as OpenAI counts them. */
const PER_MESSAGE_TOKENS = 4;

export interface LlmAgentOptions extends ChatClientOptions {
  /** `max_tokens` of a stage that sets none (default 1024); it counts against the budget. */
  defaultMaxTokens?: number;
  /** On a call that would exceed the budget: ask a person (default) or fail at once with LLM_BUDGET_EXCEEDED. */
  onBudgetExceeded?: 'ask' | 'fail';
}

const inputSchema = z
  .object({
    /** One user message; or `messages` for a whole conversation. */
    prompt: z.string().min(1).optional(),
    messages: z
      .array(z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() }).strict())
      .min(1)
      .max(1000)
      .optional(),
    /** A system message put first. */
    system: z.string().optional(),
    temperature: z.number().min(0).max(2).optional(),
    maxTokens: z.number().int().min(1).max(1_000_000).optional(),
    responseFormat: z.enum(['text', 'json_object']).default('text'),
    /** This stage's budget in tokens for every llm stage up to and including it; default the pipeline input's `llm.tokenBudget`. */
    tokenBudget: z.number().int().nonnegative().optional(),
    /** Approvals of this stage's asks, added by the platform on the re-run (ctx.requestDecision). */
    decisions: z.array(approvedDecisionSchema).optional(),
  })
  .strict()
  .refine((input) => (input.prompt === undefined) !== (input.messages === undefined), { error: 'give either `prompt` or `messages`' });

const usageSchema = z.object({ promptTokens: z.number(), completionTokens: z.number(), totalTokens: z.number() });
const outputSchema = z.object({
  content: z.string(),
  /** The content parsed, for `responseFormat: json_object` when it is JSON. */
  json: z.json().optional(),
  model: z.string(),
  finishReason: z.string().nullable(),
  usage: usageSchema,
  /** False when the endpoint reported no usage and the figures are estimates. */
  usageReported: z.boolean(),
  /** Tokens spent by this stage and every llm stage above it, by stage key: what the next llm stage counts against the budget. */
  tokenLedger: z.record(z.string(), z.number()),
  budget: z
    .object({ limit: z.number(), spentBefore: z.number(), remaining: z.number(), overspendApprovedBy: z.string().optional() })
    .nullable(),
});

function messagesOf(input: z.output<typeof inputSchema>): ChatMessage[] {
  const conversation = input.messages ?? [{ role: 'user' as const, content: input.prompt ?? '' }];
  return input.system === undefined ? conversation : [{ role: 'system', content: input.system }, ...conversation];
}

/** The `llm` agent for the deployment's endpoint (LLM_BASE_URL, LLM_MODEL, LLM_API_KEY, LLM_TIMEOUT_MS). */
export function createLlmAgent(options: LlmAgentOptions = {}): Agent {
  const { defaultMaxTokens = DEFAULT_MAX_TOKENS, onBudgetExceeded = 'ask' } = options;
  return defineAgent({
    type: 'llm',
    version: '1.0.0',
    description: 'One chat completion against the configured OpenAI-compatible endpoint, within the pipeline token budget.',
    input: inputSchema,
    output: outputSchema,
    handler: async (ctx) => {
      const { input, signal, reportMetrics, logger, stageKey } = ctx;
      const client = createChatClient(options); // LLM_NOT_CONFIGURED before anything else
      const messages = messagesOf(input);
      const maxTokens = input.maxTokens ?? defaultMaxTokens;
      const ledger = upstreamLedger(ctx.dependencies);
      const spentBefore = spentIn(ledger);
      const limit = tokenBudgetOf(input.tokenBudget, ctx.pipelineInput);
      let overspendApprovedBy: string | undefined;
      if (limit !== undefined) {
        const promptTokens = messages.reduce((sum, m) => sum + estimateTokens(m.content) + PER_MESSAGE_TOKENS, 0);
        const remaining = Math.max(0, limit - spentBefore);
        if (promptTokens + maxTokens > remaining) {
          const figures =
            `this call could spend ${promptTokens + maxTokens} tokens (about ${promptTokens} of prompt + maxTokens ${maxTokens}) ` +
            `but the token budget of ${limit} has ${remaining} left (${spentBefore} spent upstream)`;
          const approval = approvalOf(input.decisions, BUDGET_DECISION_KEY);
          if (approval) {
            overspendApprovedBy = approval.approvedBy;
            logger.warn('llm budget overspend approved', {
              approvedBy: approval.approvedBy,
              decisionId: approval.decisionId,
              limit,
              spentBefore,
            });
          } else if (onBudgetExceeded === 'fail') {
            throw new UnrecoverableStageError('LLM_BUDGET_EXCEEDED', `${figures}; the call was not sent`);
          } else {
            // Nothing is spent: a person approves the overspend (the stage runs again with it) or rejects it.
            return ctx.requestDecision({
              key: BUDGET_DECISION_KEY,
              category: 'cost_impacting',
              reason: `llm stage "${stageKey}" (model ${client.model}): ${figures}`,
              evidence: {
                model: client.model,
                tokenBudget: limit,
                spentUpstream: spentBefore,
                remaining,
                promptTokensEstimate: promptTokens,
                maxTokens,
                ledger,
              },
            });
          }
        }
      }
      const result = await client.complete({
        messages,
        maxTokens,
        temperature: input.temperature,
        responseFormat: input.responseFormat,
        signal,
      });
      reportMetrics({
        ...result.usage,
        ...(limit === undefined ? {} : { tokenBudgetRemaining: limit - spentBefore - result.usage.totalTokens }),
      });
      let json: z.infer<typeof outputSchema>['json'];
      if (input.responseFormat === 'json_object') {
        try {
          json = JSON.parse(result.content) as z.infer<typeof outputSchema>['json'];
        } catch {
          logger.warn('the model was asked for JSON and answered something else', { finishReason: result.finishReason });
        }
      }
      return {
        ...result,
        ...(json === undefined ? {} : { json }),
        tokenLedger: { ...ledger, [stageKey]: result.usage.totalTokens },
        budget:
          limit === undefined
            ? null
            : {
                limit,
                spentBefore,
                remaining: limit - spentBefore - result.usage.totalTokens,
                ...(overspendApprovedBy ? { overspendApprovedBy } : {}),
              },
      };
    },
  });
}
