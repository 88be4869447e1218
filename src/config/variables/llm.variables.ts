// The OpenAI-compatible chat completions endpoint of the `llm` agent (docs/agents.md#the-llm-agent-real-100).
import { httpUrlOrEmpty, int, text } from '../field-types.js';
import { defineGroup } from '../variable.js';

export const llmVariables = defineGroup('LLM', {
  LLM_BASE_URL: {
    ...httpUrlOrEmpty(),
    url: true,
    default: '',
    example: '',
    description:
      'Base URL of an OpenAI-compatible API, up to and without `/chat/completions` (`https://api.openai.com/v1`, `http://localhost:11434/v1` for Ollama). Empty: the `llm` agent fails every stage at once with `LLM_NOT_CONFIGURED`. Read by the workers. See [agents.md](agents.md#the-llm-agent-real-100).',
  },
  LLM_MODEL: {
    ...text(),
    default: '',
    example: '',
    description:
      'The model every `llm` stage asks for (`gpt-4o-mini`, `llama3.1`). Empty: the `llm` agent fails with `LLM_NOT_CONFIGURED`.',
  },
  LLM_API_KEY: {
    ...text(),
    secret: true,
    default: '',
    description: 'Sent as `Authorization: Bearer <key>` to `LLM_BASE_URL`. Empty: no Authorization header (a local endpoint needs none).',
  },
  LLM_TIMEOUT_MS: {
    ...int(1000, 3_600_000),
    default: 120_000,
    description: 'How long, in milliseconds, one chat completion may take before it is abandoned as a retryable `LLM_DOWNSTREAM_ERROR`.',
  },
});
