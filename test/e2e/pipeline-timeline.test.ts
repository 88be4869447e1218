// GET /api/v1/pipelines/:id/timeline end to end: one pipeline whose first stage fails once and is
// retried, whose second passes its quality gates, whose third asks a question a person answers
// and whose last waits for a decision a person approves. The timeline tells it in time order.
import { expect } from 'chai';
import { z } from 'zod';
import { defineAgent } from '../../src/agents/define-agent.js';
import { TEST_AGENTS } from '../support/agents.js';
import { startHarness, type Harness } from '../support/harness.js';
import { bearer, expectError, expectValidationError, request, waitForPipeline, waitUntil, type Loose } from '../support/http.js';

const PIPELINES = '/api/v1/pipelines';

/** Asks "Which region?" on its first run; on the next, returns the answer. */
const askRegionAgent = defineAgent({
  type: 'timeline_ask_region',
  version: '1.0.0',
  input: z
    .object({ clarifications: z.array(z.object({ answers: z.array(z.object({ answer: z.string() }).loose()) }).loose()).optional() })
    .loose(),
  output: z.object({ region: z.string() }),
  handler: async ({ input, requestClarification }) => {
    const rounds = input.clarifications ?? [];
    if (rounds.length === 0) requestClarification(['Which region?']);
    return { region: rounds[0]!.answers[0]!.answer };
  },
});

const fastRetry = (attempts: number) => ({ attempts, backoff: { type: 'fixed', delayMs: 20, jitter: 0 } });

/** flaky (fails once, retried) → validate (default gates) → ask (a question) → deploy (a decision). */
const definition = {
  name: 'timeline-tour',
  labels: { suite: 'timeline' },
  stages: [
    { key: 'flaky', agent: 'fail', input: { failAttempts: 1, message: 'transient hiccup' }, retry: fastRetry(3) },
    { key: 'validate', agent: 'sim_validation', dependsOn: ['flaky'] },
    { key: 'ask', agent: 'timeline_ask_region', dependsOn: ['validate'] },
    { key: 'deploy', agent: 'sim_deployment', dependsOn: ['ask'] },
  ],
};

describe('pipeline timeline (e2e)', function () {
  this.timeout(60_000);
  let h: Harness;
  let alice: { key: string; id: string };
  let pipelineId: string;
  let timeline: Loose;

  before(async () => {
    h = await startHarness({ agents: [...TEST_AGENTS, askRegionAgent] });
    // engineering_manager approves the deployment's cost_impacting decision; any approver answers questions.
    alice = await h.createKey('alice', ['approver', 'engineering_manager']);

    const created = await request(h.baseUrl, 'POST', PIPELINES, definition);
    expect(created.status, JSON.stringify(created.body)).to.equal(202);
    pipelineId = created.body.id as string;

    const asked = await waitUntil(h.baseUrl, pipelineId, (p) => (p.clarifications as Loose[]).some((c) => c.status === 'open'));
    const question = (asked.clarifications as Loose[]).find((c) => c.status === 'open')!;
    const answered = await request(
      h.baseUrl,
      'POST',
      `/api/v1/clarifications/${question.id}/answer`,
      { answers: { [question.questions[0].id]: 'eu-west-1' } },
      bearer(alice.key),
    );
    expect(answered.status, JSON.stringify(answered.body)).to.equal(200);

    const waiting = await waitUntil(h.baseUrl, pipelineId, (p) => (p.decisions as Loose[]).some((d) => d.status === 'pending'));
    const decision = (waiting.decisions as Loose[]).find((d) => d.status === 'pending')!;
    const approved = await request(h.baseUrl, 'POST', `/api/v1/decisions/${decision.id}/approve`, { comment: 'go' }, bearer(alice.key));
    expect(approved.status, JSON.stringify(approved.body)).to.equal(200);

    expect((await waitForPipeline(h.baseUrl, pipelineId)).status).to.equal('succeeded');
    const res = await request(h.baseUrl, 'GET', `${PIPELINES}/${pipelineId}/timeline`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    timeline = res.body;
  });
  after(async () => {
    await h?.close();
  });

  const items = (): Loose[] => timeline.items as Loose[];
  const indexOf = (predicate: (item: Loose) => boolean): number => {
    const index = items().findIndex(predicate);
    expect(index, `no such item in ${JSON.stringify(items().map((i) => i.summary))}`).to.be.at.least(0);
    return index;
  };

  it('is in time order, opens with the submission and closes with the finish', () => {
    const times = items().map((i) => Date.parse(i.at as string));
    expect(times).to.deep.equal([...times].sort((a, b) => a - b));
    expect(items()[0]).to.include({ type: 'pipeline.submitted', stageKey: null, attempt: null });
    expect(items()[0]!.data).to.deep.include({ name: 'timeline-tour', labels: { suite: 'timeline' } });
    expect(items().at(-1)).to.include({ type: 'pipeline.finished', summary: 'pipeline succeeded' });
    expect(timeline.pipelineId).to.equal(pipelineId);
    expect(timeline).to.have.property('traceId');
  });

  it('the retried stage: attempt 1 started, failed and will retry; attempt 2 started and succeeded, with durations', () => {
    const flaky = items().filter((i) => i.stageKey === 'flaky');

    expect(flaky.map((i) => [i.type, i.attempt])).to.deep.equal([
      ['stage.started', 1],
      ['stage.retrying', 1],
      ['stage.started', 2],
      ['stage.finished', 2],
    ]);
    expect(flaky[1]!.data).to.include({ status: 'failed', willRetry: true, errorMessage: 'transient hiccup' });
    expect(flaky[1]!.data.durationMs).to.be.a('number');
    expect(flaky[1]!.summary).to.match(/^flaky: attempt 1 failed \(\w+\), will retry after /);
    expect(flaky[3]!.data).to.include({ status: 'succeeded', willRetry: false });
    expect(flaky[3]!.data.durationMs).to.be.a('number');
  });

  it('gate verdicts of the validation stage, after its start and before its finish', () => {
    const gates = items().filter((i) => i.type === 'gate.evaluated' && i.stageKey === 'validate');

    expect(gates.map((g) => g.data.metric)).to.include.members(['coverage', 'typeErrors']);
    for (const gate of gates) {
      expect(gate).to.include({ attempt: 1 });
      expect(gate.data).to.include({ verdict: 'passed' });
    }
    const started = indexOf((i) => i.stageKey === 'validate' && i.type === 'stage.started');
    const finished = indexOf((i) => i.stageKey === 'validate' && i.type === 'stage.finished');
    const firstGate = items().indexOf(gates[0]!);
    expect(firstGate).to.be.above(started);
    expect(firstGate).to.be.below(finished);
  });

  it('the question asked and answered, then the decision requested and approved, then the deployment ran', () => {
    const asked = indexOf((i) => i.type === 'clarification.requested');
    const answered = indexOf((i) => i.type === 'clarification.answered');
    const requested = indexOf((i) => i.type === 'decision.requested');
    const resolved = indexOf((i) => i.type === 'decision.resolved');
    const deployed = indexOf((i) => i.stageKey === 'deploy' && i.type === 'stage.finished');

    expect([asked, answered, requested, resolved, deployed]).to.deep.equal(
      [...[asked, answered, requested, resolved, deployed]].sort((a, b) => a - b),
    );
    expect(items()[asked]).to.include({ stageKey: 'ask', summary: 'ask: 1 question asked' });
    expect(items()[answered]!.data).to.include({ actor: alice.id });
    expect(items()[requested]!.stageKey).to.equal('deploy');
    expect(items()[requested]!.data).to.include({ category: 'cost_impacting' });
    expect(items()[resolved]!.data).to.include({ status: 'approved', actor: alice.id });
    expect(items()[resolved]!.summary).to.match(/^deploy: decision DEC-\d{4}-\d+ approved by /);
    // The question suspended the stage's first attempt; it ran again with the answer.
    expect(items().some((i) => i.stageKey === 'ask' && i.type === 'stage.finished' && i.data.status === 'suspended')).to.equal(true);
  });

  it('?download=1 answers the same timeline as an attachment named after the pipeline', async () => {
    const res = await fetch(`${h.baseUrl}${PIPELINES}/${pipelineId}/timeline?download=1`, { headers: bearer(h.adminKey) });

    expect(res.status).to.equal(200);
    expect(res.headers.get('content-disposition')).to.equal(`attachment; filename="pipeline-${pipelineId}-timeline.json"`);
    expect(res.headers.get('content-type')).to.match(/^application\/json/);
    expect(await res.json()).to.deep.equal(timeline);
    const plain = await request(h.baseUrl, 'GET', `${PIPELINES}/${pipelineId}/timeline`);
    expect(plain.headers.get('content-disposition')).to.equal(null);
  });

  it('an unknown pipeline: 404 PIPELINE_NOT_FOUND; a bad id or query: 400 naming it', async () => {
    const missing = await request(h.baseUrl, 'GET', `${PIPELINES}/00000000-0000-4000-8000-000000000000/timeline`);
    const badId = await request(h.baseUrl, 'GET', `${PIPELINES}/not-a-uuid/timeline`);
    const badDownload = await request(h.baseUrl, 'GET', `${PIPELINES}/${pipelineId}/timeline?download=yes`);
    const unknownParam = await request(h.baseUrl, 'GET', `${PIPELINES}/${pipelineId}/timeline?since=1`);

    expectError(missing, 404, 'PIPELINE_NOT_FOUND');
    expectValidationError(badId, 'id');
    expectValidationError(badDownload, 'download');
    expectValidationError(unknownParam, 'since');
  });
});
