// A run context for calling an agent's handler directly in unit tests: inert logger, progress and
// signal; `requestClarification` and `requestDecision` throw (a test that needs it passes its own).
import type { AgentRunContext } from '../../src/agents/define-agent.js';

export function testRunContext(overrides: Partial<AgentRunContext> = {}): AgentRunContext {
  return {
    pipelineId: 'p',
    stageId: 's',
    stageKey: 'k',
    attempt: 1,
    maxAttempts: 1,
    pipelineInput: {},
    dependencies: {},
    settings: {},
    logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    signal: new AbortController().signal,
    progress: async () => undefined,
    reportMetrics: () => undefined,
    requestClarification: () => {
      throw new Error('not in this test');
    },
    requestDecision: () => {
      throw new Error('not in this test');
    },
    ...overrides,
  };
}
