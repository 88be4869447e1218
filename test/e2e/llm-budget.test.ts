// The llm agent's token budget through the engine, against a local server speaking the
// OpenAI-compatible API: a stage whose call could exceed the pipeline's budget sends nothing and
// opens a cost_impacting decision for the policy's approvers; approved, the stage runs again and
// spends, recording who approved; rejected, it fails with DECISION_REJECTED and nothing is sent.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness.js';
import { bearer, request, waitForPipeline, waitUntil, type Loose } from '../support/http.js';

describe('llm token budget decisions (e2e, local OpenAI-compatible server)', function () {
  this.timeout(60_000);
  let h: Harness;
  let server: Server;
  let calls: string[];
  let manager: { key: string; name: string };

  /** Stage `draft` spends 30 tokens of a 100-token budget; `summary` could spend 200 more. */
  const pipeline = (name: string) => ({
    name,
    input: { llm: { tokenBudget: 100 } },
    stages: [
      { key: 'draft', agent: 'llm', input: { prompt: 'Draft a release note.', maxTokens: 40 } },
      { key: 'summary', agent: 'llm', dependsOn: ['draft'], input: { prompt: 'Summarise the draft.', maxTokens: 200 } },
    ],
  });

  async function submitAndWaitForDecision(name: string): Promise<{ id: string; decision: Loose }> {
    const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', pipeline(name));
    expect(created.status, JSON.stringify(created.body)).to.equal(202);
    const waiting = await waitUntil(h.baseUrl, created.body.id, (p) => p.status !== 'running' || p.decisions.length > 0);
    expect(waiting.decisions, JSON.stringify(waiting.stages)).to.have.length(1);
    const decision = await request(h.baseUrl, 'GET', `/api/v1/decisions/${waiting.decisions[0].id}`);
    return { id: created.body.id as string, decision: decision.body };
  }

  before(async () => {
    calls = [];
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        calls.push((JSON.parse(body) as { messages: { content: string }[] }).messages.at(-1)!.content);
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            model: 'budget-test',
            choices: [{ message: { role: 'assistant', content: 'done' }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 10, completion_tokens: 20, total_tokens: 30 },
          }),
        );
      });
    });
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
    const { port } = server.address() as AddressInfo;
    h = await startHarness({ env: { LLM_BASE_URL: `http://127.0.0.1:${port}/v1`, LLM_MODEL: 'budget-test' } });
    manager = await h.createKey('budget-manager', ['approver', 'engineering_manager']);
  });
  after(async () => {
    await h?.close();
    server?.close();
  });

  it('a call that could pass the budget opens a cost_impacting decision and sends nothing', async () => {
    calls.length = 0;
    const { id, decision } = await submitAndWaitForDecision('budget-ask');

    expect(decision).to.include({ stageKey: 'summary', category: 'cost_impacting', status: 'pending', quorum: 1 });
    expect(decision.approvers).to.deep.equal(['engineering_manager']);
    expect(decision.evidence).to.include({
      key: 'llm-budget',
      requestedBy: 'agent:llm',
      tokenBudget: 100,
      spentUpstream: 30,
      remaining: 70,
    });
    expect(decision.evidence.reason).to.include('llm stage "summary" (model budget-test)');
    expect(calls, 'only the draft was sent').to.deep.equal(['Draft a release note.']);
    const pipelineNow = (await request(h.baseUrl, 'GET', `/api/v1/pipelines/${id}`)).body;
    expect(pipelineNow.stages.find((s: Loose) => s.key === 'summary').status).to.equal('waiting');

    // Approved by an engineering manager: the stage runs again and spends, naming the approver.
    const approved = await request(h.baseUrl, 'POST', `/api/v1/decisions/${decision.id}/approve`, {}, bearer(manager.key));
    expect(approved.status, JSON.stringify(approved.body)).to.equal(200);
    const done = await waitForPipeline(h.baseUrl, id);
    expect(done.status).to.equal('succeeded');
    const summary = done.stages.find((s: Loose) => s.key === 'summary');
    expect(summary.output.budget).to.deep.equal({ limit: 100, spentBefore: 30, remaining: 40, overspendApprovedBy: manager.name });
    expect(summary.output.tokenLedger).to.deep.equal({ draft: 30, summary: 30 });
    expect(calls).to.deep.equal(['Draft a release note.', 'Summarise the draft.']);
    const runs = await h.db.pool.query<{ status: string }>(
      "SELECT r.status FROM stage_runs r JOIN stages s ON s.id = r.stage_id WHERE s.pipeline_id = $1 AND s.key = 'summary' ORDER BY r.attempt",
      [id],
    );
    expect(runs.rows.map((r) => r.status)).to.deep.equal(['suspended', 'succeeded']);
  });

  it('rejected: the stage fails with DECISION_REJECTED and the call is never sent', async () => {
    calls.length = 0;
    const { id, decision } = await submitAndWaitForDecision('budget-reject');
    const rejected = await request(
      h.baseUrl,
      'POST',
      `/api/v1/decisions/${decision.id}/reject`,
      { comment: 'not this quarter' },
      bearer(manager.key),
    );
    expect(rejected.status, JSON.stringify(rejected.body)).to.equal(200);
    const done = await waitForPipeline(h.baseUrl, id);
    expect(done.status).to.equal('failed');
    const summary = done.stages.find((s: Loose) => s.key === 'summary');
    expect(summary.status).to.equal('failed');
    expect(summary.error).to.include({ code: 'DECISION_REJECTED' });
    expect(calls).to.deep.equal(['Draft a release note.']);
  });
});
