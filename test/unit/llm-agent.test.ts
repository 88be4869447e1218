// The llm agent against a local HTTP server speaking the OpenAI-compatible chat completions API:
// the request it sends, the usage metrics, the pipeline token budget (refused calls are never
// sent), the overspend decision, error mapping, and an endpoint that is not configured.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { DecisionRequest } from '../../src/agents/define-agent.js';
import { createChatClient } from '../../src/agents/llm-client.js';
import { createLlmAgent } from '../../src/agents/llm.agent.js';
import { classifyError } from '../../src/domain/errors.js';
import type { MetricValue } from '../../src/domain/gates.js';
import { testRunContext } from '../support/agent-context.js';

type Failure = Error & { code?: string; retryable?: boolean };

async function rejection(promise: Promise<unknown>): Promise<Failure> {
  try {
    await promise;
  } catch (error) {
    return error as Failure;
  }
  throw new Error('expected a rejection');
}

interface Seen {
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: {
    model: string;
    messages: { role: string; content: string }[];
    max_tokens?: number;
    temperature?: number;
    response_format?: unknown;
  };
}

describe('llm agent (unit)', () => {
  let server: Server;
  let baseUrl: string;
  const seen: Seen[] = [];
  /** What the server answers next: status and body (default a completion with usage). */
  let next: { status: number; body: unknown } | undefined;

  before(async () => {
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      req.on('end', () => {
        const body = JSON.parse(raw) as Seen['body'];
        seen.push({ url: req.url, headers: req.headers, body });
        const answer = next ?? {
          status: 200,
          body: {
            id: 'chatcmpl-1',
            object: 'chat.completion',
            model: `${body.model}-2024`,
            choices: [{ index: 0, message: { role: 'assistant', content: '{"answer":42}' }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
          },
        };
        next = undefined;
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const agent = (extra = {}) => createLlmAgent({ baseUrl, model: 'test-model', apiKey: 'sk-test-key', ...extra });

  it('posts a chat completion with the model, messages and bearer key, and reports token usage', async () => {
    const metrics: Record<string, MetricValue> = {};
    const output = await agent().execute(
      { prompt: 'What is six times seven?', system: 'Answer in JSON.', temperature: 0, maxTokens: 50, responseFormat: 'json_object' },
      testRunContext({ stageKey: 'ask', reportMetrics: (m) => Object.assign(metrics, m) }),
    );
    const request = seen.at(-1)!;
    expect(request.url).to.equal('/v1/chat/completions');
    expect(request.headers.authorization).to.equal('Bearer sk-test-key');
    expect(request.body).to.deep.equal({
      model: 'test-model',
      messages: [
        { role: 'system', content: 'Answer in JSON.' },
        { role: 'user', content: 'What is six times seven?' },
      ],
      temperature: 0,
      max_tokens: 50,
      response_format: { type: 'json_object' },
    });
    expect(output).to.deep.include({
      content: '{"answer":42}',
      json: { answer: 42 },
      model: 'test-model-2024',
      finishReason: 'stop',
      usage: { promptTokens: 12, completionTokens: 5, totalTokens: 17 },
      usageReported: true,
      tokenLedger: { ask: 17 },
      budget: null,
    });
    expect(metrics).to.deep.equal({ promptTokens: 12, completionTokens: 5, totalTokens: 17 });
  });

  it('counts what upstream llm stages spent, once per stage, against the pipeline budget', async () => {
    const metrics: Record<string, MetricValue> = {};
    const dependencies = {
      left: { usage: { totalTokens: 100 }, tokenLedger: { root: 300, left: 100 } },
      right: { usage: { totalTokens: 50 }, tokenLedger: { root: 300, right: 50 } },
      notLlm: { passed: true },
    };
    const output = (await agent().execute(
      { messages: [{ role: 'user', content: 'hi' }], maxTokens: 100 },
      testRunContext({
        stageKey: 'join',
        dependencies,
        pipelineInput: { llm: { tokenBudget: 1000 } },
        reportMetrics: (m) => Object.assign(metrics, m),
      }),
    )) as { tokenLedger: Record<string, number>; budget: unknown };
    expect(output.tokenLedger).to.deep.equal({ root: 300, left: 100, right: 50, join: 17 });
    expect(output.budget).to.deep.equal({ limit: 1000, spentBefore: 450, remaining: 533 });
    expect(metrics.tokenBudgetRemaining).to.equal(533);
  });

  it('does not send a call that could exceed the budget: it asks for a cost_impacting decision instead', async () => {
    const count = seen.length;
    const dependencies = { draft: { usage: { totalTokens: 900 }, tokenLedger: { draft: 900 } } };
    const error = await rejection(
      agent().execute(
        { prompt: 'Summarise the draft.', maxTokens: 200 },
        testRunContext({
          stageKey: 'summary',
          dependencies,
          pipelineInput: { llm: { tokenBudget: 1000 } },
          requestDecision: (ask) => {
            throw new DecisionRequest(ask);
          },
        }),
      ),
    );
    expect(error).to.be.instanceOf(DecisionRequest);
    const { ask } = error as DecisionRequest;
    expect(ask).to.include({ key: 'llm-budget', category: 'cost_impacting' });
    expect(ask.reason).to.include('llm stage "summary"').and.to.include('budget of 1000 has 100 left (900 spent upstream)');
    expect(ask.evidence).to.deep.include({ tokenBudget: 1000, spentUpstream: 900, remaining: 100, maxTokens: 200 });
    expect(seen.length, 'nothing was sent').to.equal(count);
  });

  it('spends once the decision is approved (the re-run finds it in input.decisions); another key does not count', async () => {
    const input = { prompt: 'Summarise.', maxTokens: 200, tokenBudget: 100 };
    const approval = { key: 'llm-budget', decisionId: 'DEC-2026-00042', category: 'cost_impacting', approvedBy: 'alice', comment: null };
    const approved = (await agent().execute({ ...input, decisions: [approval] }, testRunContext())) as {
      budget: { overspendApprovedBy?: string };
    };
    expect(approved.budget.overspendApprovedBy).to.equal('alice');
    const count = seen.length;
    const other = await rejection(
      agent().execute(
        { ...input, decisions: [{ ...approval, key: 'something-else' }] },
        testRunContext({
          requestDecision: (ask) => {
            throw new DecisionRequest(ask);
          },
        }),
      ),
    );
    expect(other).to.be.instanceOf(DecisionRequest);
    expect(seen.length).to.equal(count);
  });

  it("with onBudgetExceeded 'fail', refuses at once with the figures", async () => {
    const error = await rejection(
      agent({ onBudgetExceeded: 'fail' }).execute({ prompt: 'x', maxTokens: 500, tokenBudget: 100 }, testRunContext()),
    );
    expect(classifyError(error)).to.include({ code: 'LLM_BUDGET_EXCEEDED', retryable: false, category: 'pipeline' });
    expect(error.message).to.include('token budget of 100 has 100 left').and.to.include('not sent');
  });

  it('without an endpoint or a model, fails at once with LLM_NOT_CONFIGURED naming the variables', async () => {
    const error = await rejection(createLlmAgent({ baseUrl: '', model: '' }).execute({ prompt: 'hi' }, testRunContext()));
    expect(error.name).to.equal('UnrecoverableStageError');
    expect(classifyError(error)).to.include({ code: 'LLM_NOT_CONFIGURED', category: 'configuration', retryable: false });
    expect(error.message).to.include('LLM_BASE_URL and LLM_MODEL');
    const noModel = await rejection(createLlmAgent({ baseUrl }).execute({ prompt: 'hi' }, testRunContext()));
    expect(noModel.message).to.include('set LLM_MODEL');
  });

  it('maps 5xx and 429 to retryable downstream errors, 401 to LLM_REQUEST_REFUSED, garbage to LLM_RESPONSE_INVALID', async () => {
    next = { status: 503, body: { error: { message: 'overloaded' } } };
    const overloaded = await rejection(agent().execute({ prompt: 'hi' }, testRunContext()));
    expect(classifyError(overloaded)).to.include({ code: 'LLM_DOWNSTREAM_ERROR', category: 'downstream', retryable: true });
    expect(overloaded.message).to.include('overloaded');
    next = { status: 429, body: { error: { message: 'slow down' } } };
    expect(classifyError(await rejection(agent().execute({ prompt: 'hi' }, testRunContext())))).to.include({ retryable: true });
    next = { status: 401, body: { error: { message: 'Incorrect API key provided' } } };
    const refused = await rejection(agent().execute({ prompt: 'hi' }, testRunContext()));
    expect(classifyError(refused)).to.include({ code: 'LLM_REQUEST_REFUSED', retryable: false });
    expect(refused.message).to.include('Incorrect API key').and.not.to.include('sk-test-key');
    next = { status: 200, body: { hello: 'world' } };
    expect(classifyError(await rejection(agent().execute({ prompt: 'hi' }, testRunContext())))).to.include({
      code: 'LLM_RESPONSE_INVALID',
      retryable: true,
    });
  });

  it('sends no Authorization header without a key, and estimates usage the endpoint does not report', async () => {
    next = { status: 200, body: { choices: [{ message: { role: 'assistant', content: 'twelve chars' } }] } };
    const client = createChatClient({ baseUrl, model: 'local' });
    const result = await client.complete({ messages: [{ role: 'user', content: 'abcdefgh' }] });
    expect(seen.at(-1)?.headers.authorization).to.equal(undefined);
    expect(result).to.deep.include({
      content: 'twelve chars',
      usageReported: false,
      usage: { promptTokens: 2, completionTokens: 3, totalTokens: 5 },
    });
  });

  it('refuses an input with both or neither of prompt and messages', () => {
    expect(agent().validateInput({ prompt: 'a', messages: [{ role: 'user', content: 'b' }] }).ok).to.equal(false);
    expect(agent().validateInput({ system: 'a' }).ok).to.equal(false);
  });
});
