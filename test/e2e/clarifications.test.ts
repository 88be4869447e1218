// Clarifications end to end: unclear requirements are asked about before work builds on them,
// at submission (the roots wait) or by a stage (it waits, then runs again with the answers).
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { Worker } from 'bullmq';
import { expect } from 'chai';
import { z } from 'zod';
import { defineAgent } from '../../src/agents/define-agent.js';
import { createStageRunRepository } from '../../src/infra/db/stage-run.repository.js';
import { createAgentQueues } from '../../src/infra/queue/agent.queues.js';
import { createControlQueue } from '../../src/infra/queue/control.queue.js';
import { agentQueueName } from '../../src/infra/queue/queue-names.js';
import { createRedisConnection } from '../../src/infra/queue/redis-connection.js';
import { redisTargetOf } from '../../src/composition/redis-target.js';
import { createLogger } from '../../src/infra/telemetry/logger.js';
import { createStageRunner } from '../../src/services/stage-runner.service.js';
import { TEST_AGENTS } from '../support/agents.js';
import { startHarness, type Harness } from '../support/harness.js';
import { bearer, request, waitForPipeline, waitUntil, type JsonResponse, type Loose } from '../support/http.js';
import { loadDecisionPolicy } from '../../src/infra/policy/policy-file.js';

const PIPELINES = '/api/v1/pipelines';
const CLARIFICATIONS = '/api/v1/clarifications';

const stageOf = (p: Loose, key: string): Loose => (p.stages as Loose[]).find((s) => s.key === key)!;

/** Answers as a stage receives them in `input.clarifications`, one entry per round of questions. */
const answeredRounds = z.array(
  z.object({ answers: z.array(z.object({ id: z.string(), question: z.string(), answer: z.string() })) }).loose(),
);

/** Asks "Which region?" on its first run; on the next, returns the answer. */
const askRegionAgent = defineAgent({
  type: 'ask_region',
  version: '1.0.0',
  input: z.object({ clarifications: answeredRounds.optional() }).loose(),
  output: z.object({ region: z.string(), attempt: z.number(), rounds: z.number() }),
  handler: async ({ input, attempt, requestClarification }) => {
    const rounds = input.clarifications ?? [];
    if (rounds.length === 0) requestClarification(['Which region?']);
    return { region: rounds[0]!.answers[0]!.answer, attempt, rounds: rounds.length };
  },
});

/** Asks two rounds: first the region and the size together, then the owner. */
const twoRoundsAgent = defineAgent({
  type: 'ask_twice',
  version: '1.0.0',
  input: z.object({ clarifications: answeredRounds.optional() }).loose(),
  output: z.object({ answers: z.record(z.string(), z.string()) }),
  handler: async ({ input, requestClarification }) => {
    const rounds = input.clarifications ?? [];
    if (rounds.length === 0) requestClarification(['Which region?', 'Which instance size?']);
    if (rounds.length === 1) requestClarification(['Who owns the service?']);
    return { answers: Object.fromEntries(rounds.flatMap((r, i) => r.answers.map((a) => [`${i + 1}.${a.id}`, a.answer]))) };
  },
});

/** Waits for its cancel (ignoring it), then asks a question anyway: a question raised while the pipeline is cancelled. */
const askWhenCancelledAgent = defineAgent({
  type: 'ask_when_cancelled',
  version: '1.0.0',
  input: z.object({}).loose(),
  output: z.object({ ok: z.boolean() }),
  handler: async ({ signal, requestClarification }) => {
    let timer: NodeJS.Timeout | undefined;
    if (!signal.aborted) await Promise.race([once(signal, 'abort'), new Promise((r) => (timer = setTimeout(r, 20_000)))]);
    clearTimeout(timer);
    requestClarification(['Should I stop?']);
    return { ok: false };
  },
});

function expectValidationError(res: JsonResponse<Loose>, field: string): void {
  expect(res.status, JSON.stringify(res.body)).to.equal(400);
  expect(res.body.error.code).to.equal('VALIDATION_FAILED');
  expect(
    (res.body.error.details as Loose[]).map((d) => d.field),
    JSON.stringify(res.body.error.details),
  ).to.include(field);
}

/** A two-stage pipeline whose input carries `input` (requirements and the like). */
const twoStages = (name: string, input: Loose) => ({
  name,
  input,
  stages: [
    { key: 'build', agent: 'noop' },
    { key: 'ship', agent: 'noop', dependsOn: ['build'] },
  ],
});

const CLEAR_INPUT = {
  requirements: 'Add a /health endpoint that returns 200 and the build version as JSON.',
  acceptanceCriteria: ['GET /health answers 200 with the git sha'],
  confidence: 92,
};

/** A key of the harness: who answers is the identity it stands for (a body `actor` is refused). */
type Key = { key: string; id: string };

describe('clarifications (e2e)', () => {
  let h: Harness;
  /** Approvers answer clarifications (any approver: the decision policy's team roles do not apply to them). */
  let pm: Key;
  let ops: Key;
  const answer = (id: string, body: unknown, as: Key = pm) =>
    request(h.baseUrl, 'POST', `${CLARIFICATIONS}/${id}/answer`, body, bearer(as.key));
  const getClarification = async (id: string): Promise<Loose> => (await request(h.baseUrl, 'GET', `${CLARIFICATIONS}/${id}`)).body;
  const runsOf = async (pipelineId: string, key: string): Promise<Loose[]> =>
    ((await request(h.baseUrl, 'GET', `${PIPELINES}/${pipelineId}/runs`)).body.items as Loose[]).filter((r) => r.stageKey === key);
  /** Waits until the pipeline has an open clarification; returns it (the pipeline detail's copy). */
  const openClarification = async (pipelineId: string): Promise<Loose> => {
    const p = await waitUntil(h.baseUrl, pipelineId, (x) => (x.clarifications as Loose[]).some((c) => c.status === 'open'));
    return (p.clarifications as Loose[]).find((c) => c.status === 'open')!;
  };

  before(async () => {
    h = await startHarness({ agents: [...TEST_AGENTS, askRegionAgent, twoRoundsAgent, askWhenCancelledAgent] });
    pm = await h.createKey('pm', ['approver']);
    ops = await h.createKey('ops', ['approver']);
  });
  after(async () => {
    await h.close();
  });

  describe('at submission', () => {
    it('vague requirements without criteria: 202 with an open clarification listing each problem; the roots wait', async () => {
      // Act
      const created = await request(
        h.baseUrl,
        'POST',
        PIPELINES,
        twoStages('vague', { requirements: 'Make it maybe faster for some users' }),
      );

      // Assert
      expect(created.status, JSON.stringify(created.body)).to.equal(202);
      expect(created.body.clarifications).to.have.length(1);
      const asked = created.body.clarifications[0];
      expect(asked).to.include({ status: 'open', stageKey: null, askedBy: 'submission', answers: null });
      expect((asked.questions as Loose[]).map((q) => q.id)).to.have.members([
        'ambiguous:maybe',
        'ambiguous:some',
        'missing-acceptance-criteria',
      ]);
      expect((asked.questions as Loose[]).find((q) => q.id === 'ambiguous:some')).to.include({ reason: 'ambiguous_term' });
      expect(stageOf(created.body, 'build').status).to.equal('waiting');
      expect(stageOf(created.body, 'ship').status).to.equal('pending');

      const pipeline = (await request(h.baseUrl, 'GET', `${PIPELINES}/${created.body.id}`)).body;
      expect(pipeline.status).to.equal('running');
      expect(stageOf(pipeline, 'build').status).to.equal('waiting');
      expect(pipeline.clarifications.map((c: Loose) => c.id)).to.deep.equal([asked.id]);
      const fetched = await getClarification(asked.id);
      expect(fetched).to.include({ id: asked.id, pipelineId: created.body.id, status: 'open' });
      expect((await request(h.baseUrl, 'GET', `${PIPELINES}/${created.body.id}/runs`)).body.items).to.deep.equal([]);
      await request(h.baseUrl, 'POST', `${PIPELINES}/${created.body.id}/cancel`);
    });

    it('answers missing one question or naming an unknown one: 400 naming answers.<id>; naming an actor: 400 naming actor; the clarification stays open', async () => {
      // Arrange
      const created = await request(
        h.baseUrl,
        'POST',
        PIPELINES,
        twoStages('vague-partial', { requirements: 'Make it maybe faster for some users' }),
      );
      const asked = created.body.clarifications[0];

      // Act
      const partial = await answer(asked.id, { answers: { 'ambiguous:maybe': 'required', 'ambiguous:some': 'all EU users' } });
      const unknown = await answer(asked.id, {
        answers: { 'ambiguous:maybe': 'required', 'ambiguous:some': 'all EU users', 'missing-acceptance-criteria': 'p95 < 200ms', q9: 'x' },
      });
      const blank = await answer(asked.id, {
        answers: { 'ambiguous:maybe': '  ', 'ambiguous:some': 'all EU users', 'missing-acceptance-criteria': 'p95 < 200ms' },
      });
      const notString = await answer(asked.id, {
        answers: { 'ambiguous:maybe': true, 'ambiguous:some': 'all EU users', 'missing-acceptance-criteria': 'p95 < 200ms' },
      });
      // Complete, valid answers, but naming who answers: refused (the answerer is the key's identity).
      const named = await answer(asked.id, {
        actor: 'pm',
        answers: { 'ambiguous:maybe': 'required', 'ambiguous:some': 'all EU users', 'missing-acceptance-criteria': 'p95 < 200ms' },
      });

      // Assert
      expectValidationError(partial, 'answers.missing-acceptance-criteria');
      expectValidationError(unknown, 'answers.q9');
      expectValidationError(blank, 'answers.ambiguous:maybe');
      expectValidationError(notString, 'answers.ambiguous:maybe');
      expectValidationError(named, 'actor');
      expect((await getClarification(asked.id)).status).to.equal('open');
      const pipeline = (await request(h.baseUrl, 'GET', `${PIPELINES}/${created.body.id}`)).body;
      expect(stageOf(pipeline, 'build').status).to.equal('waiting');
      await request(h.baseUrl, 'POST', `${PIPELINES}/${created.body.id}/cancel`);
    });

    it('full answers: the roots run, the pipeline succeeds with the answers in its input; answering again is 409', async () => {
      // Arrange
      const created = await request(
        h.baseUrl,
        'POST',
        PIPELINES,
        twoStages('vague-answered', { requirements: 'Make it maybe faster for some users' }),
      );
      const asked = created.body.clarifications[0];
      const answers = {
        'ambiguous:maybe': 'required',
        'ambiguous:some': 'all EU users',
        'missing-acceptance-criteria': ' p95 under 200 ms ',
      };

      // Act
      const answered = await answer(asked.id, { answers });
      const done = await waitForPipeline(h.baseUrl, created.body.id);
      const again = await answer(asked.id, { answers }, ops);

      // Assert
      expect(answered.status, JSON.stringify(answered.body)).to.equal(200);
      expect(answered.body).to.include({ status: 'answered', answeredBy: pm.id });
      expect(answered.body.answers).to.deep.equal({ ...answers, 'missing-acceptance-criteria': 'p95 under 200 ms' });
      expect(done.status).to.equal('succeeded');
      expect(stageOf(done, 'build').status).to.equal('succeeded');
      expect(stageOf(done, 'ship').status).to.equal('succeeded');
      expect(done.input.requirements).to.equal('Make it maybe faster for some users');
      expect(done.input.clarifications).to.have.length(1);
      expect(done.input.clarifications[0]).to.include({ clarificationId: asked.id, askedBy: 'submission', answeredBy: pm.id });
      expect((done.input.clarifications[0].answers as Loose[]).map((a) => [a.id, a.answer])).to.have.deep.members([
        ['ambiguous:maybe', 'required'],
        ['ambiguous:some', 'all EU users'],
        ['missing-acceptance-criteria', 'p95 under 200 ms'],
      ]);
      expect(done.clarifications).to.have.length(1);
      expect(done.clarifications[0]).to.include({ status: 'answered', answeredBy: pm.id });
      expect(again.status).to.equal(409);
      expect(again.body.error.code).to.equal('CLARIFICATION_CLOSED');
    });

    it('clear requirements with criteria and confidence: no clarification, the pipeline runs at once', async () => {
      const created = await request(h.baseUrl, 'POST', PIPELINES, twoStages('clear', CLEAR_INPUT));

      const done = await waitForPipeline(h.baseUrl, created.body.id);

      expect(created.status).to.equal(202);
      expect(created.body.clarifications).to.deep.equal([]);
      expect(stageOf(created.body, 'build').status).to.equal('queued');
      expect(done.status).to.equal('succeeded');
      expect(done.clarifications).to.deep.equal([]);
      expect(done.input).to.not.have.property('clarifications');
    });

    it('no requirements in the input: nothing is checked and no clarification opens', async () => {
      const created = await request(h.baseUrl, 'POST', PIPELINES, twoStages('no-requirements', { repo: 'checkout' }));

      const done = await waitForPipeline(h.baseUrl, created.body.id);

      expect(created.body.clarifications).to.deep.equal([]);
      expect(done.status).to.equal('succeeded');
    });

    it('clear requirements but confidence 65: a single low-confidence question', async () => {
      const created = await request(h.baseUrl, 'POST', PIPELINES, twoStages('low-confidence', { ...CLEAR_INPUT, confidence: 65 }));

      expect(created.status).to.equal(202);
      expect(created.body.clarifications).to.have.length(1);
      expect(created.body.clarifications[0].questions.map((q: Loose) => q.id)).to.deep.equal(['low-confidence']);
      await request(h.baseUrl, 'POST', `${PIPELINES}/${created.body.id}/cancel`);
    });

    it('cancel while the submission clarification is open: clarification and roots cancelled; answering is 409', async () => {
      // Arrange
      const created = await request(h.baseUrl, 'POST', PIPELINES, twoStages('vague-cancelled', { requirements: 'tbd' }));
      const asked = created.body.clarifications[0];

      // Act
      const cancelled = await request(h.baseUrl, 'POST', `${PIPELINES}/${created.body.id}/cancel`);
      const done = await waitForPipeline(h.baseUrl, created.body.id);
      const late = await answer(asked.id, { answers: Object.fromEntries((asked.questions as Loose[]).map((q) => [q.id, 'x'])) });

      // Assert
      expect(cancelled.status).to.equal(202);
      expect(done.status).to.equal('cancelled');
      expect(stageOf(done, 'build').status).to.equal('cancelled');
      expect(stageOf(done, 'ship').status).to.equal('cancelled');
      expect((await getClarification(asked.id)).status).to.equal('cancelled');
      expect(late.status).to.equal(409);
      expect(late.body.error.code).to.equal('CLARIFICATION_CLOSED');
    });
    it('answered submission clarification on a deployment root: the root then waits for its decision instead of running', async () => {
      // Arrange
      const created = await request(h.baseUrl, 'POST', PIPELINES, {
        name: 'clarify-then-decide',
        input: { requirements: 'Deploy the new checkout to some regions' },
        stages: [{ key: 'deploy', agent: 'sim_deployment' }],
      });
      const asked = created.body.clarifications[0];

      // Act
      await answer(asked.id, { answers: Object.fromEntries((asked.questions as Loose[]).map((q) => [q.id, 'eu-west-1 and us-east-1'])) });
      const held = await waitUntil(h.baseUrl, created.body.id, (p) => (p.decisions as Loose[]).length > 0);

      // Assert
      expect(held.decisions).to.have.length(1);
      expect(held.decisions[0]).to.include({ stageKey: 'deploy', category: 'cost_impacting', status: 'pending' });
      expect(stageOf(held, 'deploy').status).to.equal('waiting');
      expect(await runsOf(created.body.id, 'deploy')).to.deep.equal([]);
      await request(h.baseUrl, 'POST', `${PIPELINES}/${created.body.id}/cancel`);
    });
  });

  describe('asked by a stage', () => {
    it('requirements agent with unclear stage requirements: stage waiting, run suspended, clarification from agent:requirements', async () => {
      // Arrange: the pipeline input is clear, the stage's own requirements are not.
      const definition = {
        name: 'requirements-stage',
        input: CLEAR_INPUT,
        stages: [
          {
            key: 'requirements',
            agent: 'requirements',
            input: {
              requirements: 'Cache the search results, maybe in Redis, for several minutes',
              acceptanceCriteria: ['p95 latency under 100 ms'],
            },
          },
          { key: 'build', agent: 'noop', dependsOn: ['requirements'] },
        ],
      };

      // Act
      const created = await request(h.baseUrl, 'POST', PIPELINES, definition);
      const asked = await openClarification(created.body.id);
      const pipeline = (await request(h.baseUrl, 'GET', `${PIPELINES}/${created.body.id}`)).body;
      const runs = await runsOf(created.body.id, 'requirements');

      // Assert
      expect(created.body.clarifications).to.deep.equal([]);
      expect(asked).to.include({ stageKey: 'requirements', askedBy: 'agent:requirements', status: 'open' });
      expect((asked.questions as Loose[]).map((q) => q.id)).to.have.members(['ambiguous:maybe', 'ambiguous:several']);
      expect(pipeline.status).to.equal('running');
      expect(stageOf(pipeline, 'requirements').status).to.equal('waiting');
      expect(stageOf(pipeline, 'build').status).to.equal('pending');
      expect(runs).to.have.length(1);
      expect(runs[0]!.status).to.equal('suspended');
      await request(h.baseUrl, 'POST', `${PIPELINES}/${created.body.id}/cancel`);
    });

    it('requirements agent answered: runs again, succeeds with the answers in its output, history stays on the pipeline', async () => {
      // Arrange: no pipeline input at all; the stage's requirements are vague.
      const created = await request(h.baseUrl, 'POST', PIPELINES, {
        name: 'requirements-answered',
        stages: [
          {
            key: 'requirements',
            agent: 'requirements',
            input: { requirements: 'Cache the search results, maybe in Redis', acceptanceCriteria: ['p95 under 100 ms'] },
          },
          { key: 'build', agent: 'noop', dependsOn: ['requirements'] },
        ],
      });
      const asked = await openClarification(created.body.id);

      // Act
      const answered = await answer(asked.id, { answers: { 'ambiguous:maybe': 'Redis is required' } });
      const done = await waitForPipeline(h.baseUrl, created.body.id);

      // Assert
      expect(answered.status, JSON.stringify(answered.body)).to.equal(200);
      expect(done.status).to.equal('succeeded');
      const requirements = stageOf(done, 'requirements');
      expect(requirements.status).to.equal('succeeded');
      expect(requirements.output.clarifications).to.deep.equal([
        { id: 'ambiguous:maybe', question: asked.questions[0].question, answer: 'Redis is required' },
      ]);
      expect(requirements.output.requirements).to.equal('Cache the search results, maybe in Redis');
      expect(requirements.input.clarifications).to.have.length(1);
      expect(requirements.input.clarifications[0]).to.include({
        clarificationId: asked.id,
        askedBy: 'agent:requirements',
        answeredBy: pm.id,
      });
      expect(stageOf(done, 'build').status).to.equal('succeeded');
      expect(done.clarifications).to.have.length(1);
      expect(done.clarifications[0]).to.include({ id: asked.id, status: 'answered', stageKey: 'requirements', answeredBy: pm.id });
      expect(done.clarifications[0].answers).to.deep.equal({ 'ambiguous:maybe': 'Redis is required' });
      const runs = await runsOf(created.body.id, 'requirements');
      expect(runs.map((r) => r.status)).to.deep.equal(['suspended', 'succeeded']);
    });

    it('custom agent asking "Which region?": q1 is asked, and the answer comes back in its second run\'s output', async () => {
      // Arrange
      const created = await request(h.baseUrl, 'POST', PIPELINES, {
        name: 'ask-region',
        stages: [
          { key: 'region', agent: 'ask_region' },
          { key: 'after', agent: 'noop', dependsOn: ['region'] },
        ],
      });
      const asked = await openClarification(created.body.id);

      // Act
      const answered = await answer(asked.id, { answers: { q1: 'eu-west-1' } }, ops);
      const done = await waitForPipeline(h.baseUrl, created.body.id);

      // Assert
      expect(asked).to.include({ stageKey: 'region', askedBy: 'agent:ask_region' });
      expect(asked.questions).to.deep.equal([{ id: 'q1', reason: 'asked_by_agent', question: 'Which region?' }]);
      expect(answered.status, JSON.stringify(answered.body)).to.equal(200);
      expect(done.status).to.equal('succeeded');
      expect(stageOf(done, 'region').output).to.deep.include({ region: 'eu-west-1', rounds: 1 });
      expect(stageOf(done, 'after').status).to.equal('succeeded');
      const runs = await runsOf(created.body.id, 'region');
      expect(runs.map((r) => r.status)).to.deep.equal(['suspended', 'succeeded']);
    });

    it('agent asking two rounds: each round is its own clarification and the answers accumulate in input.clarifications', async () => {
      const created = await request(h.baseUrl, 'POST', PIPELINES, { name: 'ask-twice', stages: [{ key: 'plan', agent: 'ask_twice' }] });
      const first = await openClarification(created.body.id);
      await answer(first.id, { answers: { q1: 'eu-west-1', q2: 'm5.large' } }, ops);
      const second = await openClarification(created.body.id);

      const answered = await answer(second.id, { answers: { q1: 'team-search' } }, pm);
      const done = await waitForPipeline(h.baseUrl, created.body.id);

      expect((first.questions as Loose[]).map((q) => q.id)).to.deep.equal(['q1', 'q2']);
      expect(second.id).to.not.equal(first.id);
      expect((second.questions as Loose[]).map((q) => q.question)).to.deep.equal(['Who owns the service?']);
      expect(answered.status).to.equal(200);
      expect(done.status).to.equal('succeeded');
      expect(stageOf(done, 'plan').output.answers).to.deep.equal({ '1.q1': 'eu-west-1', '1.q2': 'm5.large', '2.q1': 'team-search' });
      expect((done.clarifications as Loose[]).map((c) => c.status)).to.deep.equal(['answered', 'answered']);
      expect((await runsOf(created.body.id, 'plan')).map((r) => r.status)).to.deep.equal(['suspended', 'suspended', 'succeeded']);
    });

    it('cancel while a stage clarification is open: clarification and stage cancelled, pipeline cancelled; answering is 409', async () => {
      // Arrange
      const created = await request(h.baseUrl, 'POST', PIPELINES, {
        name: 'ask-then-cancel',
        stages: [{ key: 'region', agent: 'ask_region' }],
      });
      const asked = await openClarification(created.body.id);

      // Act
      await request(h.baseUrl, 'POST', `${PIPELINES}/${created.body.id}/cancel`);
      const done = await waitForPipeline(h.baseUrl, created.body.id);
      const late = await answer(asked.id, { answers: { q1: 'eu-west-1' } }, ops);

      // Assert
      expect(done.status).to.equal('cancelled');
      expect(stageOf(done, 'region').status).to.equal('cancelled');
      expect((await getClarification(asked.id)).status).to.equal('cancelled');
      expect(late.status).to.equal(409);
      expect(late.body.error.code).to.equal('CLARIFICATION_CLOSED');
      expect(await runsOf(created.body.id, 'region')).to.have.length(1);
    });

    it('question asked by a running stage after its pipeline was cancelled: the pipeline ends cancelled with no clarification left open', async () => {
      // Arrange: the agent ignores its abort and asks anyway.
      const created = await request(h.baseUrl, 'POST', PIPELINES, {
        name: 'ask-while-cancelling',
        stages: [{ key: 'late', agent: 'ask_when_cancelled' }],
      });
      await waitUntil(h.baseUrl, created.body.id, (p) => stageOf(p, 'late').status === 'running');

      // Act
      await request(h.baseUrl, 'POST', `${PIPELINES}/${created.body.id}/cancel`);
      const done = await waitForPipeline(h.baseUrl, created.body.id);
      const asked = (await request(h.baseUrl, 'GET', `${CLARIFICATIONS}?pipelineId=${created.body.id}`)).body.items as Loose[];
      const lateAnswers = await Promise.all(asked.map((c) => answer(c.id, { answers: { q1: 'yes' } }, ops)));

      // Assert
      expect(done.status).to.equal('cancelled');
      expect(stageOf(done, 'late').status).to.equal('cancelled');
      expect(
        asked.filter((c) => c.status === 'open'),
        'a cancelled pipeline still has an open clarification',
      ).to.deep.equal([]);
      expect(lateAnswers.map((r) => r.status)).to.deep.equal(asked.map(() => 409));
    });
  });

  describe('GET /api/v1/clarifications', () => {
    it('filters by pipelineId and status', async () => {
      // Arrange: one open, one answered.
      const openOne = await request(
        h.baseUrl,
        'POST',
        PIPELINES,
        twoStages('list-open', { requirements: 'Support several export formats etc.' }),
      );
      const answeredOne = await request(h.baseUrl, 'POST', PIPELINES, twoStages('list-answered', { requirements: 'Make it maybe faster' }));
      const toAnswer = answeredOne.body.clarifications[0];
      await answer(toAnswer.id, { answers: Object.fromEntries((toAnswer.questions as Loose[]).map((q) => [q.id, 'clarified'])) });

      // Act
      const byPipeline = await request(h.baseUrl, 'GET', `${CLARIFICATIONS}?pipelineId=${openOne.body.id}`);
      const answeredOnly = await request(h.baseUrl, 'GET', `${CLARIFICATIONS}?pipelineId=${answeredOne.body.id}&status=answered`);
      const openOfAnswered = await request(h.baseUrl, 'GET', `${CLARIFICATIONS}?pipelineId=${answeredOne.body.id}&status=open`);
      const allOpen = await request(h.baseUrl, 'GET', `${CLARIFICATIONS}?status=open&limit=100`);

      // Assert
      expect(byPipeline.status).to.equal(200);
      expect(byPipeline.body.items.map((c: Loose) => c.id)).to.deep.equal([openOne.body.clarifications[0].id]);
      expect(answeredOnly.body.items.map((c: Loose) => c.id)).to.deep.equal([toAnswer.id]);
      expect(openOfAnswered.body.items).to.deep.equal([]);
      expect((allOpen.body.items as Loose[]).every((c) => c.status === 'open')).to.equal(true);
      expect((allOpen.body.items as Loose[]).map((c) => c.id)).to.include(openOne.body.clarifications[0].id);
      await waitForPipeline(h.baseUrl, answeredOne.body.id);
      await request(h.baseUrl, 'POST', `${PIPELINES}/${openOne.body.id}/cancel`);
    });

    it('bad status, pipelineId or clarification id: 400 naming the field; unknown id: 404 CLARIFICATION_NOT_FOUND', async () => {
      const badStatus = await request(h.baseUrl, 'GET', `${CLARIFICATIONS}?status=pending`);
      const badPipeline = await request(h.baseUrl, 'GET', `${CLARIFICATIONS}?pipelineId=nope`);
      const badId = await request(h.baseUrl, 'GET', `${CLARIFICATIONS}/not-a-uuid`);
      const unknown = await request(h.baseUrl, 'GET', `${CLARIFICATIONS}/00000000-0000-4000-8000-000000000000`);
      const unknownAnswer = await answer('00000000-0000-4000-8000-000000000000', { answers: {} });

      expectValidationError(badStatus, 'status');
      expectValidationError(badPipeline, 'pipelineId');
      expectValidationError(badId, 'id');
      expect(unknown.status).to.equal(404);
      expect(unknown.body.error.code).to.equal('CLARIFICATION_NOT_FOUND');
      expect(unknownAnswer.status).to.equal(404);
      expect(unknownAnswer.body.error.code).to.equal('CLARIFICATION_NOT_FOUND');
    });
  });

  describe('the sdlc-simulated template', () => {
    it('vague input: clarified at submission, the requirements stage accepts the answers, three approvals later the pipeline succeeds', async () => {
      // Arrange: scaffold and integration (architectural_change) wait for a tech_lead, deployment (cost_impacting) for an engineering_manager.
      const techLead = await h.createKey('lead', ['approver', 'tech_lead']);
      const manager = await h.createKey('manager', ['approver', 'engineering_manager']);
      const created = await request(h.baseUrl, 'POST', PIPELINES, {
        template: 'sdlc-simulated',
        input: {
          requirements: 'Add a health endpoint, maybe with the version',
          acceptanceCriteria: ['GET /health answers 200'],
          confidence: 92,
        },
      });
      expect(created.status, JSON.stringify(created.body)).to.equal(202);
      const asked = created.body.clarifications[0];
      expect((asked.questions as Loose[]).map((q) => q.id)).to.deep.equal(['ambiguous:maybe']);

      // Act: answer, then approve each held stage (scaffold, integration, deployment) as it comes.
      await answer(asked.id, { answers: { 'ambiguous:maybe': 'the version is required' } });
      const approvedStages: string[] = [];
      for (;;) {
        const p = await waitUntil(
          h.baseUrl,
          created.body.id,
          (x) => x.status !== 'running' || (x.decisions as Loose[]).some((d) => d.status === 'pending'),
        );
        if (p.status !== 'running') break;
        const pending = (p.decisions as Loose[]).find((d) => d.status === 'pending')!;
        const approver = pending.category === 'cost_impacting' ? manager : techLead;
        const approved = await request(h.baseUrl, 'POST', `/api/v1/decisions/${pending.id}/approve`, {}, bearer(approver.key));
        expect(approved.status, JSON.stringify(approved.body)).to.equal(200);
        expect(approved.body.resolvedBy).to.equal(approver.id);
        approvedStages.push(pending.stageKey);
      }
      const done = await waitForPipeline(h.baseUrl, created.body.id);

      // Assert
      expect(done.status, JSON.stringify(done.error)).to.equal('succeeded');
      expect(approvedStages).to.deep.equal(['scaffold', 'integration', 'deployment']);
      expect(stageOf(done, 'requirements').output.clarifications.map((c: Loose) => c.answer)).to.deep.equal(['the version is required']);
      expect((done.clarifications as Loose[]).map((c) => [c.askedBy, c.status])).to.deep.equal([['submission', 'answered']]);
      expect((await runsOf(created.body.id, 'requirements')).map((r) => r.status)).to.deep.equal(['succeeded']);
    });
  });
});

describe('clarifications: an answer racing the delivery that asked (e2e)', () => {
  // The stage's job completes a moment after the question is committed. An answer landing in
  // that moment must still get the stage run again. The window is made deterministic here: the
  // asking delivery runs on a BullMQ worker of this test that holds its job active until the
  // answer is in, with the real stage runner; a normal worker then serves what is queued.
  let h: Harness;
  before(async () => {
    h = await startHarness({ agents: [...TEST_AGENTS, askRegionAgent], workers: 0 });
  });
  after(async () => {
    await h.close();
  });

  it('answer while the asking job is still active: the stage runs again and the pipeline succeeds', async () => {
    // Arrange
    const logger = createLogger({ level: 'error', service: 'test', silent: true });
    const connection = createRedisConnection(redisTargetOf(h.config), 'worker', logger);
    const control = createControlQueue(connection, h.config.QUEUE_PREFIX);
    const agentQueues = createAgentQueues(connection, h.config.QUEUE_PREFIX, [...h.catalog.keys()]);
    const runner = createStageRunner({
      runs: createStageRunRepository(h.db),
      control,
      agentQueues,
      agents: h.catalog,
      workerId: 'racing-test',
      logger,
      newId: randomUUID,
      flags: h.flags,
      policy: loadDecisionPolicy(h.config.DECISION_POLICY_FILE),
    });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const firstDelivery = new Worker(
      agentQueueName('ask_region'),
      async (job, _token, signal) => {
        const data = job.data as { pipelineId: string; stageId: string };
        const outcome = await runner.run({
          stageId: data.stageId,
          pipelineId: data.pipelineId,
          jobId: job.id!,
          attemptsMade: job.attemptsMade,
          maxAttempts: job.opts.attempts ?? 1,
          signal: signal ?? new AbortController().signal,
          agentType: 'ask_region',
        });
        await held;
        return outcome;
      },
      { connection, prefix: h.config.QUEUE_PREFIX },
    );
    const finished = once(firstDelivery, 'completed');
    try {
      const created = await request(h.baseUrl, 'POST', PIPELINES, {
        name: 'answer-race',
        stages: [{ key: 'region', agent: 'ask_region' }],
      });
      const asked = await waitUntil(h.baseUrl, created.body.id, (p) => (p.clarifications as Loose[]).some((c) => c.status === 'open'));
      const clarification = (asked.clarifications as Loose[])[0]!;

      // Act: answer while the asking job is still active, then let it complete.
      const answered = await request(h.baseUrl, 'POST', `${CLARIFICATIONS}/${clarification.id}/answer`, { answers: { q1: 'eu-west-1' } });
      release();
      await finished;
      await firstDelivery.close();
      await h.startWorker();
      const done = await waitForPipeline(h.baseUrl, created.body.id, 10_000);

      // Assert
      expect(answered.status, JSON.stringify(answered.body)).to.equal(200);
      expect(done.status).to.equal('succeeded');
      expect(stageOf(done, 'region').output).to.deep.include({ region: 'eu-west-1' });
    } finally {
      release();
      await firstDelivery.close();
      await Promise.all([control.close(), agentQueues.close()]);
      await connection.quit();
    }
  });
});
