// A small client for any OpenAI-compatible chat completions endpoint (OpenAI, Azure's v1 API,
// Ollama, vLLM, LiteLLM…): one POST {baseUrl}/chat/completions with a bearer key, the answer
// checked with zod and failures mapped onto the error hierarchy. Used by the `llm` agent, and by
// any agent that writes text or code (scaffold).
import { z } from 'zod';
import { DownstreamError, UnrecoverableStageError } from '../domain/errors.js';

export interface ChatClientOptions {
  /** Up to and without `/chat/completions`, e.g. `https://api.openai.com/v1` (LLM_BASE_URL). */
  baseUrl?: string;
  /** LLM_MODEL. */
  model?: string;
  /** Sent as `Authorization: Bearer <key>` when set (LLM_API_KEY). */
  apiKey?: string;
  /** One completion's timeout (default 120 s, LLM_TIMEOUT_MS). */
  timeoutMs?: number;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  messages: readonly ChatMessage[];
  temperature?: number;
  maxTokens?: number;
  /** `json_object` asks the model for a JSON object (OpenAI's `response_format`). */
  responseFormat?: 'text' | 'json_object';
  /** The stage's signal: a cancel aborts the call and is rethrown as is. */
  signal?: AbortSignal;
}

export interface ChatUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface ChatResult {
  content: string;
  model: string;
  finishReason: string | null;
  usage: ChatUsage;
  /** False when the endpoint sent no `usage` and the figures are estimates (characters / 4). */
  usageReported: boolean;
}

export interface ChatClient {
  readonly model: string;
  complete(request: ChatRequest): Promise<ChatResult>;
}

const DEFAULT_TIMEOUT_MS = 120_000;
const EXCERPT = 500;

const completionSchema = z
  .object({
    model: z.string().optional(),
    choices: z
      .array(
        z
          .object({
            message: z.object({ content: z.string().nullable().optional() }).loose(),
            finish_reason: z.string().nullable().optional(),
          })
          .loose(),
      )
      .min(1),
    usage: z
      .object({
        prompt_tokens: z.number().int().nonnegative(),
        completion_tokens: z.number().int().nonnegative(),
        total_tokens: z.number().int().nonnegative().optional(),
      })
      .loose()
      .optional(),
  })
  .loose();

/** A rough token count for text: about four characters a token for English and code. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** True when `options` name an endpoint and a model, so `createChatClient` will not refuse them. */
export function isChatConfigured(options: ChatClientOptions): boolean {
  return Boolean(options.baseUrl?.trim() && options.model?.trim());
}

/** The endpoint's own reason, from an OpenAI-style error body (`error.message`), else its text. */
function reasonOf(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const message = typeof body.error === 'string' ? body.error : (body.error?.message ?? body.message);
    if (typeof message === 'string') return message.slice(0, EXCERPT);
  } catch {
    // not JSON: the text is the reason
  }
  return text.slice(0, EXCERPT);
}

/**
 * A client for the configured endpoint. Throws UnrecoverableStageError LLM_NOT_CONFIGURED, naming
 * the variables to set, when the base URL or the model is missing.
 */
export function createChatClient(options: ChatClientOptions): ChatClient {
  const baseUrl = options.baseUrl?.trim() ?? '';
  const model = options.model?.trim() ?? '';
  if (!baseUrl || !model) {
    const missing = [!baseUrl && 'LLM_BASE_URL', !model && 'LLM_MODEL'].filter(Boolean).join(' and ');
    throw new UnrecoverableStageError(
      'LLM_NOT_CONFIGURED',
      `no LLM endpoint is configured: set ${missing} (and LLM_API_KEY if the endpoint needs a key) on the workers`,
    );
  }
  const url = `${baseUrl.replace(/\/+$/, '')}/chat/completions`;
  const { apiKey, timeoutMs = DEFAULT_TIMEOUT_MS } = options;

  async function complete(request: ChatRequest): Promise<ChatResult> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const body = {
      model,
      messages: request.messages,
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(request.maxTokens === undefined ? {} : { max_tokens: request.maxTokens }),
      ...(request.responseFormat === 'json_object' ? { response_format: { type: 'json_object' } } : {}),
    };
    let status: number;
    let text: string;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
        },
        body: JSON.stringify(body),
        signal: request.signal ? AbortSignal.any([request.signal, timeout]) : timeout,
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      if (request.signal?.aborted) throw request.signal.reason;
      const why = timeout.aborted ? `no answer within ${timeoutMs} ms` : error instanceof Error ? error.message : String(error);
      throw new DownstreamError('LLM_DOWNSTREAM_ERROR', `POST ${url}: ${why}`, { cause: error });
    }
    if (status >= 500 || status === 408 || status === 429) {
      throw new DownstreamError('LLM_DOWNSTREAM_ERROR', `POST ${url} answered ${status}: ${reasonOf(text)}`);
    }
    if (status < 200 || status >= 300) {
      throw new UnrecoverableStageError('LLM_REQUEST_REFUSED', `POST ${url} answered ${status}: ${reasonOf(text)}`);
    }
    let parsed: z.infer<typeof completionSchema>;
    try {
      parsed = completionSchema.parse(JSON.parse(text));
    } catch (error) {
      throw new DownstreamError('LLM_RESPONSE_INVALID', `POST ${url} answered with no chat completion: ${text.slice(0, EXCERPT)}`, {
        cause: error,
      });
    }
    const choice = parsed.choices[0]!;
    const content = choice.message.content ?? '';
    const reported = parsed.usage;
    const promptTokens = reported?.prompt_tokens ?? estimateTokens(request.messages.map((m) => m.content).join('\n'));
    const completionTokens = reported?.completion_tokens ?? estimateTokens(content);
    return {
      content,
      model: parsed.model ?? model,
      finishReason: choice.finish_reason ?? null,
      usage: { promptTokens, completionTokens, totalTokens: reported?.total_tokens ?? promptTokens + completionTokens },
      usageReported: reported !== undefined,
    };
  }

  return { model, complete };
}
