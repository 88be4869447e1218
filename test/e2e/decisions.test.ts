// Decisions end to end: a stage the policy holds waits without a job until a human answers.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse, stringify } from 'yaml';
import { startHarness, type Harness } from '../support/harness.js';
import { bearer, request, waitForPipeline, waitUntil, type JsonResponse, type Loose } from '../support/http.js';

const PIPELINES = '/api/v1/pipelines';

/** build -> deploy: deploy (deployment agent → cost_impacting) always waits for a human. */
const deployPipeline = (name: string) => ({
  name,
  stages: [
    { key: 'build', agent: 'noop' },
    { key: 'deploy', agent: 'sim_deployment', dependsOn: ['build'] },
  ],
});

const stage = (p: Loose, key: string): Loose => (p.stages as Loose[]).find((s) => s.key === key)!;

async function openDecision(h: Harness, pipelineId: string): Promise<Loose> {
  const waiting = await waitUntil(h.baseUrl, pipelineId, (p) => (p.decisions as Loose[]).some((d) => d.status === 'pending'));
  return (waiting.decisions as Loose[]).find((d) => d.status === 'pending')!;
}

const OPEN = new Set(['pending', 'escalated']);

/** Waits until the pipeline's stage `key` has an open (pending or escalated) decision; returns its summary. */
async function openDecisionFor(h: Harness, pipelineId: string, key: string): Promise<Loose> {
  const p = await waitUntil(h.baseUrl, pipelineId, (x) => (x.decisions as Loose[]).some((d) => d.stageKey === key && OPEN.has(d.status)));
  return (p.decisions as Loose[]).find((d) => d.stageKey === key && OPEN.has(d.status))!;
}

const getDecision = async (h: Harness, id: string): Promise<Loose> => (await request(h.baseUrl, 'GET', `/api/v1/decisions/${id}`)).body;

/** Polls GET /decisions/:id until `predicate` holds. */
async function waitForDecision(h: Harness, id: string, predicate: (d: Loose) => boolean, timeoutMs = 20_000): Promise<Loose> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const decision = await getDecision(h, id);
    if (predicate(decision)) return decision;
    if (Date.now() > deadline) throw new Error(`decision ${id} still ${decision.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const runsOf = async (h: Harness, pipelineId: string, key: string): Promise<Loose[]> =>
  ((await request(h.baseUrl, 'GET', `${PIPELINES}/${pipelineId}/runs`)).body.items as Loose[]).filter((r) => r.stageKey === key);

function expectValidationError(res: JsonResponse<Loose>, field: string): void {
  expect(res.status, JSON.stringify(res.body)).to.equal(400);
  expect(res.body.error.code).to.equal('VALIDATION_FAILED');
  expect(
    (res.body.error.details as Loose[]).map((d) => d.field),
    JSON.stringify(res.body.error.details),
  ).to.include(field);
}

/** A key of the harness: who answers is the identity it stands for (a body `actor` is refused). */
type Key = { key: string; id: string };

/** Answers as `as` (the harness's default admin key holds no team role: it approves nothing). */
const approve = (h: Harness, id: string, as: Key, body: unknown = {}) =>
  request(h.baseUrl, 'POST', `/api/v1/decisions/${id}/approve`, body, bearer(as.key));
const reject = (h: Harness, id: string, as: Key, body: unknown) =>
  request(h.baseUrl, 'POST', `/api/v1/decisions/${id}/reject`, body, bearer(as.key));

/** `upstream` (validation) reports `confidence`; `apply` (noop: technical_refactor) depends on it. */
const confidencePipeline = (name: string, confidence: number) => ({
  name,
  stages: [
    { key: 'upstream', agent: 'sim_validation', input: { simulate: { confidence } } },
    { key: 'apply', agent: 'noop', dependsOn: ['upstream'] },
  ],
});

describe('decisions (e2e)', () => {
  let h: Harness;
  /** The approvers the default policy names: engineering_manager (cost_impacting), dba and tech_lead (data_migration), engineering_director (escalations). */
  let alice: Key;
  let bob: Key;
  let carol: Key;
  let dba: Key;
  let techLead: Key;
  let director: Key;
  before(async () => {
    h = await startHarness();
    alice = await h.createKey('alice', ['approver', 'engineering_manager']);
    bob = await h.createKey('bob', ['approver', 'engineering_manager']);
    carol = await h.createKey('carol', ['approver', 'engineering_manager']);
    dba = await h.createKey('dana-dba', ['approver', 'dba']);
    techLead = await h.createKey('tom-tech-lead', ['approver', 'tech_lead']);
    director = await h.createKey('director', ['approver', 'engineering_director']);
  });
  after(async () => {
    await h.close();
  });

  it('deployment stage: waits with a pending decision and no job; approve → it runs and the pipeline succeeds', async () => {
    const created = await request(h.baseUrl, 'POST', PIPELINES, deployPipeline('approve-me'));
    expect(created.status).to.equal(202);

    const summary = await openDecision(h, created.body.id);
    expect(summary.id).to.match(/^DEC-\d{4}-\d{5,}$/);
    const pipeline = (await request(h.baseUrl, 'GET', `${PIPELINES}/${created.body.id}`)).body;
    expect(stage(pipeline, 'deploy').status).to.equal('waiting');

    const decision = (await request(h.baseUrl, 'GET', `/api/v1/decisions/${summary.id}`)).body;
    expect(decision).to.include({ category: 'cost_impacting', status: 'pending', stageKey: 'deploy', quorum: 1 });
    expect(decision.approvers).to.deep.equal(['engineering_manager']);
    expect(decision.evidence.upstream).to.have.property('build');
    expect(decision.policyVersion).to.be.a('string');

    const approved = await approve(h, summary.id, alice, { comment: 'ship it' });
    expect(approved.status, JSON.stringify(approved.body)).to.equal(200);
    expect(approved.body).to.include({ status: 'approved', resolvedBy: alice.id });

    const done = await waitForPipeline(h.baseUrl, created.body.id);
    expect(done.status).to.equal('succeeded');
    expect(stage(done, 'deploy').status).to.equal('succeeded');
  });

  it('reject: the stage fails with the reason and so does the pipeline', async () => {
    const created = await request(h.baseUrl, 'POST', PIPELINES, deployPipeline('reject-me'));
    const summary = await openDecision(h, created.body.id);

    const rejected = await reject(h, summary.id, bob, { comment: 'not on a Friday' });
    expect(rejected.status, JSON.stringify(rejected.body)).to.equal(200);
    expect(rejected.body).to.include({ status: 'rejected', resolvedBy: bob.id });

    const done = await waitForPipeline(h.baseUrl, created.body.id);
    expect(done.status).to.equal('failed');
    expect(stage(done, 'deploy').error).to.include({ code: 'DECISION_REJECTED' });
    expect(done.error.message).to.contain('not on a Friday');
    const again = await approve(h, summary.id, carol);
    expect(again.status).to.equal(409);
    expect(again.body.error.code).to.equal('DECISION_CLOSED');
  });

  it('decision evidence: names the upstream outputs, their gate verdicts, the confidence and the policy version', async () => {
    // Arrange
    const definition = {
      name: 'evidence',
      stages: [
        { key: 'validate', agent: 'sim_validation' },
        { key: 'deploy', agent: 'sim_deployment', dependsOn: ['validate'] },
      ],
    };

    // Act
    const created = await request(h.baseUrl, 'POST', PIPELINES, definition);
    const summary = await openDecisionFor(h, created.body.id, 'deploy');
    const decision = await getDecision(h, summary.id);

    // Assert
    expect(decision).to.include({
      pipelineId: created.body.id,
      stageKey: 'deploy',
      status: 'pending',
      confidence: 95,
      onDeadline: 'reject',
    });
    expect(decision.votes).to.deep.equal([]);
    expect(new Date(decision.deadlineAt).getTime()).to.be.greaterThan(new Date(decision.createdAt).getTime());
    expect(decision.evidence).to.include({ category: 'cost_impacting', confidence: 95, policyVersion: '2026-11-29.1' });
    expect(decision.evidence.upstream.validate).to.include({ summary: 'validation finished', confidence: 95 });
    expect((decision.evidence.gates as Loose[]).map((g) => [g.stage, g.metric, g.verdict])).to.deep.equal([
      ['validate', 'typeErrors', 'passed'],
      ['validate', 'lintErrors', 'passed'],
      ['validate', 'testsFailed', 'passed'],
      ['validate', 'coverage', 'passed'],
    ]);
    expect(decision.evidence.stage).to.include({ key: 'deploy', agent: 'sim_deployment' });
    expect(decision.policyVersion).to.equal('2026-11-29.1');
    await request(h.baseUrl, 'POST', `${PIPELINES}/${created.body.id}/cancel`);
  });

  it('decision after an upstream that failed a gate with continueOnFailure: the evidence shows the failed gate', async () => {
    // Arrange: the human deciding on deploy must see that validation missed its coverage gate.
    const created = await request(h.baseUrl, 'POST', PIPELINES, {
      name: 'evidence-failed-gate',
      stages: [
        { key: 'validate', agent: 'sim_validation', input: { simulate: { metrics: { coverage: 70 } } }, continueOnFailure: true },
        { key: 'deploy', agent: 'sim_deployment', dependsOn: ['validate'] },
      ],
    });

    // Act
    const summary = await openDecisionFor(h, created.body.id, 'deploy');
    const decision = await getDecision(h, summary.id);
    await request(h.baseUrl, 'POST', `${PIPELINES}/${created.body.id}/cancel`);

    // Assert
    expect(decision.evidence.upstream).to.have.property('validate');
    const coverage = (decision.evidence.gates as Loose[]).find((g) => g.stage === 'validate' && g.metric === 'coverage');
    expect(coverage, `evidence.gates: ${JSON.stringify(decision.evidence.gates)}`).to.deep.include({
      verdict: 'failed',
      value: 70,
      threshold: 80,
    });
  });

  describe('quorum (data_migration: 2 approvals)', () => {
    const migration = (name: string) => ({
      name,
      stages: [
        { key: 'build', agent: 'noop' },
        { key: 'migrate', agent: 'noop', dependsOn: ['build'], category: 'data_migration' },
      ],
    });

    it('two approvers: the first vote leaves it pending, the same identity again is 409, a second identity approves and the pipeline succeeds', async () => {
      // Arrange
      const created = await request(h.baseUrl, 'POST', PIPELINES, migration('quorum-2'));
      const summary = await openDecisionFor(h, created.body.id, 'migrate');

      // Act
      const first = await approve(h, summary.id, dba, { comment: 'schema looks fine' });
      const again = await approve(h, summary.id, dba);
      const afterFirst = await getDecision(h, summary.id);
      const stageAfterFirst = stage((await request(h.baseUrl, 'GET', `${PIPELINES}/${created.body.id}`)).body, 'migrate');
      const second = await approve(h, summary.id, techLead);
      const done = await waitForPipeline(h.baseUrl, created.body.id);

      // Assert
      expect(first.status, JSON.stringify(first.body)).to.equal(200);
      expect(first.body).to.include({ status: 'pending', quorum: 2, category: 'data_migration' });
      expect(first.body.approvers).to.deep.equal(['dba', 'tech_lead']);
      expect(first.body.votes).to.have.length(1);
      expect(first.body.votes[0]).to.include({ actor: dba.id, verdict: 'approve', comment: 'schema looks fine' });
      expect(again.status).to.equal(409);
      expect(again.body.error.code).to.equal('DECISION_ALREADY_ANSWERED');
      expect(afterFirst.votes).to.have.length(1);
      expect(stageAfterFirst.status).to.equal('waiting');
      expect(second.status, JSON.stringify(second.body)).to.equal(200);
      expect(second.body).to.include({ status: 'approved', resolvedBy: techLead.id });
      expect((second.body.votes as Loose[]).map((v) => v.actor)).to.deep.equal([dba.id, techLead.id]);
      expect(done.status).to.equal('succeeded');
      expect(stage(done, 'migrate').status).to.equal('succeeded');
      const { rows } = await h.db.pool.query<{ type: string; actor: string; data: Loose }>(
        "SELECT type, actor, data FROM pipeline_events WHERE pipeline_id = $1 AND type LIKE 'decision.%' ORDER BY id",
        [created.body.id],
      );
      expect(rows.map((r) => [r.type, r.actor])).to.deep.equal([
        ['decision.requested', 'policy'],
        ['decision.voted', dba.id],
        ['decision.resolved', techLead.id],
      ]);
      expect(rows[1]!.data).to.include({ decisionId: summary.id, approvals: 1, quorum: 2 });
    });

    it('one approval then a rejection: the rejection closes the decision at once and the pipeline fails', async () => {
      const created = await request(h.baseUrl, 'POST', PIPELINES, migration('quorum-reject'));
      const summary = await openDecisionFor(h, created.body.id, 'migrate');

      const first = await approve(h, summary.id, dba);
      const rejected = await reject(h, summary.id, techLead, { comment: 'no backup taken' });
      const done = await waitForPipeline(h.baseUrl, created.body.id);

      expect(first.status, JSON.stringify(first.body)).to.equal(200);
      expect(first.body.status).to.equal('pending');
      expect(rejected.status, JSON.stringify(rejected.body)).to.equal(200);
      expect(rejected.body).to.include({ status: 'rejected', resolvedBy: techLead.id, comment: 'no backup taken' });
      expect(done.status).to.equal('failed');
      expect(stage(done, 'migrate').error).to.include({ code: 'DECISION_REJECTED', decisionId: summary.id });
      expect(await runsOf(h, created.body.id, 'migrate')).to.deep.equal([]);
    });
  });

  it('racing approvals: 5 concurrent approvers of a quorum-1 decision get exactly one 200 and four 409 DECISION_CLOSED; the stage runs once', async () => {
    // Arrange
    const created = await request(h.baseUrl, 'POST', PIPELINES, deployPipeline('race'));
    const summary = await openDecision(h, created.body.id);
    const managers = await Promise.all(
      ['ann', 'ben', 'cat', 'dan', 'eve'].map((name) => h.createKey(name, ['approver', 'engineering_manager'])),
    );

    // Act
    const answers = await Promise.all(managers.map((manager) => approve(h, summary.id, manager)));
    const done = await waitForPipeline(h.baseUrl, created.body.id);

    // Assert
    const ok = answers.filter((a) => a.status === 200);
    const conflicts = answers.filter((a) => a.status === 409);
    expect(ok, JSON.stringify(answers.map((a) => a.status))).to.have.length(1);
    expect(conflicts).to.have.length(4);
    expect(conflicts.map((c) => c.body.error.code)).to.deep.equal(Array(4).fill('DECISION_CLOSED'));
    const decision = await getDecision(h, summary.id);
    expect(decision.status).to.equal('approved');
    expect(decision.votes).to.have.length(1);
    expect(decision.resolvedBy).to.equal(ok[0]!.body.resolvedBy);
    expect(managers.map((m) => m.id)).to.include(decision.resolvedBy);
    expect(done.status).to.equal('succeeded');
    const deployRuns = await runsOf(h, created.body.id, 'deploy');
    expect(deployRuns).to.have.length(1);
    expect(deployRuns[0]!.status).to.equal('succeeded');
  });

  describe('confidence from upstream (noop: technical_refactor, auto-approves at 85, escalates below 80)', () => {
    it('upstream confidence 79: the noop stage gets an escalated decision for the engineering director', async () => {
      const created = await request(h.baseUrl, 'POST', PIPELINES, confidencePipeline('confidence-79', 79));

      const summary = await openDecisionFor(h, created.body.id, 'apply');
      const decision = await getDecision(h, summary.id);

      expect(decision).to.include({ status: 'escalated', category: 'technical_refactor', confidence: 79, quorum: 1, onDeadline: 'reject' });
      expect(decision.approvers).to.deep.equal(['engineering_director']);
      expect(decision.evidence.reason).to.contain('below the escalation floor');
      const approved = await approve(h, summary.id, director);
      expect(approved.status, JSON.stringify(approved.body)).to.equal(200);
      expect(approved.body).to.include({ status: 'approved', resolvedBy: director.id });
      expect((await waitForPipeline(h.baseUrl, created.body.id)).status).to.equal('succeeded');
    });

    it('upstream confidence 84: the noop stage gets a pending decision for the tech lead', async () => {
      const created = await request(h.baseUrl, 'POST', PIPELINES, confidencePipeline('confidence-84', 84));

      const summary = await openDecisionFor(h, created.body.id, 'apply');
      const decision = await getDecision(h, summary.id);

      expect(decision).to.include({
        status: 'pending',
        category: 'technical_refactor',
        confidence: 84,
        threshold: 85,
        onDeadline: 'escalate',
      });
      expect(decision.approvers).to.deep.equal(['tech_lead']);
      const pipeline = (await request(h.baseUrl, 'GET', `${PIPELINES}/${created.body.id}`)).body;
      expect(stage(pipeline, 'apply')).to.include({ status: 'waiting', confidence: 84 });
      expect(await runsOf(h, created.body.id, 'apply')).to.deep.equal([]);
      await request(h.baseUrl, 'POST', `${PIPELINES}/${created.body.id}/cancel`);
    });

    it('upstream confidence 90: no decision, the pipeline succeeds on its own', async () => {
      const created = await request(h.baseUrl, 'POST', PIPELINES, confidencePipeline('confidence-90', 90));

      const done = await waitForPipeline(h.baseUrl, created.body.id);

      expect(done.status).to.equal('succeeded');
      expect(done.decisions).to.deep.equal([]);
      expect(stage(done, 'apply').confidence).to.equal(90);
    });

    it('fan-in of upstreams at 95 and 84: the join takes the lowest and waits for a pending decision', async () => {
      const created = await request(h.baseUrl, 'POST', PIPELINES, {
        name: 'confidence-fan-in',
        stages: [
          { key: 'sure', agent: 'sim_validation', input: { simulate: { confidence: 95 } } },
          { key: 'unsure', agent: 'sim_validation', input: { simulate: { confidence: 84 } } },
          { key: 'join', agent: 'noop', dependsOn: ['sure', 'unsure'] },
        ],
      });

      const summary = await openDecisionFor(h, created.body.id, 'join');

      expect(summary).to.include({ status: 'pending', confidence: 84 });
      expect(Object.keys((await getDecision(h, summary.id)).evidence.upstream)).to.have.members(['sure', 'unsure']);
      await request(h.baseUrl, 'POST', `${PIPELINES}/${created.body.id}/cancel`);
    });

    it('pipeline input confidence 79: the root noop stage is escalated before it ever runs', async () => {
      const created = await request(h.baseUrl, 'POST', PIPELINES, {
        name: 'input-confidence-79',
        input: { confidence: 79 },
        stages: [{ key: 'root', agent: 'noop' }],
      });

      const summary = await openDecisionFor(h, created.body.id, 'root');

      expect(created.status).to.equal(202);
      expect(summary).to.include({ status: 'escalated', confidence: 79 });
      expect(await runsOf(h, created.body.id, 'root')).to.deep.equal([]);
      await request(h.baseUrl, 'POST', `${PIPELINES}/${created.body.id}/cancel`);
    });
  });

  describe('GET /api/v1/decisions (list and filters)', () => {
    it('pipeline with two held roots: filters by pipelineId, category and status, and pages with a cursor', async () => {
      // Arrange: deploy (cost_impacting) and scaffold (architectural_change) both wait at the start.
      const created = await request(h.baseUrl, 'POST', PIPELINES, {
        name: 'list-filters',
        stages: [
          { key: 'deploy', agent: 'sim_deployment' },
          { key: 'scaffold', agent: 'sim_scaffold' },
        ],
      });
      const pipelineId = created.body.id as string;
      const deploy = await openDecisionFor(h, pipelineId, 'deploy');
      const scaffold = await openDecisionFor(h, pipelineId, 'scaffold');
      const list = async (query: string) => {
        const res = await request(h.baseUrl, 'GET', `/api/v1/decisions?${query}`);
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        return res.body as { items: Loose[]; nextCursor: string | null };
      };

      // Act
      const all = await list(`pipelineId=${pipelineId}`);
      const cost = await list(`pipelineId=${pipelineId}&category=cost_impacting`);
      const approvedDeploy = await approve(h, deploy.id, alice);
      expect(approvedDeploy.status, JSON.stringify(approvedDeploy.body)).to.equal(200);
      const approved = await list(`pipelineId=${pipelineId}&status=approved`);
      const pending = await list(`pipelineId=${pipelineId}&status=pending`);
      const globalPending = await list('status=pending&limit=100');
      const globalArch = await list('category=architectural_change&limit=100');
      const page1 = await list(`pipelineId=${pipelineId}&limit=1`);
      const page2 = await list(`pipelineId=${pipelineId}&limit=1&cursor=${page1.nextCursor}`);

      // Assert
      expect(all.items.map((d) => d.id)).to.have.members([deploy.id, scaffold.id]);
      expect(all.nextCursor).to.equal(null);
      expect(cost.items.map((d) => d.id)).to.deep.equal([deploy.id]);
      expect(approved.items.map((d) => d.id)).to.deep.equal([deploy.id]);
      expect(pending.items.map((d) => d.id)).to.deep.equal([scaffold.id]);
      expect(globalPending.items.every((d) => d.status === 'pending')).to.equal(true);
      expect(globalPending.items.map((d) => d.id))
        .to.include(scaffold.id)
        .and.not.include(deploy.id);
      expect(globalArch.items.every((d) => d.category === 'architectural_change')).to.equal(true);
      expect(globalArch.items.map((d) => d.id)).to.include(scaffold.id);
      expect(page1.items).to.have.length(1);
      expect(page1.nextCursor).to.be.a('string');
      expect(page2.items).to.have.length(1);
      expect(page2.nextCursor).to.equal(null);
      expect([page1.items[0]!.id, page2.items[0]!.id]).to.have.members([deploy.id, scaffold.id]);
      await request(h.baseUrl, 'POST', `${PIPELINES}/${pipelineId}/cancel`);
    });

    it('bad query values: 400 naming status, category, pipelineId, limit, cursor and an unknown parameter', async () => {
      const cases: Array<[string, string]> = [
        ['status=open', 'status'],
        ['category=urgent', 'category'],
        ['pipelineId=not-a-uuid', 'pipelineId'],
        ['limit=0', 'limit'],
        ['limit=101', 'limit'],
        ['cursor=garbage', 'cursor'],
        ['colour=red', 'colour'],
      ];

      const responses = await Promise.all(cases.map(([query]) => request(h.baseUrl, 'GET', `/api/v1/decisions?${query}`)));

      responses.forEach((res, i) => expectValidationError(res, cases[i]![1]));
    });

    it('malformed decision id: 400 naming id on GET, approve and reject', async () => {
      const get = await request(h.baseUrl, 'GET', '/api/v1/decisions/DEC-12');
      const approved = await approve(h, 'decision-1', alice);
      const rejected = await reject(h, 'DEC-2026-1', alice, { comment: 'no' });

      expectValidationError(get, 'id');
      expectValidationError(approved, 'id');
      expectValidationError(rejected, 'id');
    });

    it('unknown decision id: 404 DECISION_NOT_FOUND on GET and on approve', async () => {
      const get = await request(h.baseUrl, 'GET', '/api/v1/decisions/DEC-2099-99999');
      const approved = await approve(h, 'DEC-2099-99999', alice);

      expect(get.status).to.equal(404);
      expect(get.body.error.code).to.equal('DECISION_NOT_FOUND');
      expect(approved.status).to.equal(404);
      expect(approved.body.error.code).to.equal('DECISION_NOT_FOUND');
    });
  });

  describe('answer validation', () => {
    it('reject without a comment (or a blank one): 400 naming comment; the decision stays pending', async () => {
      const created = await request(h.baseUrl, 'POST', PIPELINES, deployPipeline('reject-no-comment'));
      const summary = await openDecision(h, created.body.id);

      const missing = await reject(h, summary.id, bob, {});
      const blank = await reject(h, summary.id, bob, { comment: '   ' });

      expectValidationError(missing, 'comment');
      expectValidationError(blank, 'comment');
      const decision = await getDecision(h, summary.id);
      expect(decision.status).to.equal('pending');
      expect(decision.votes).to.deep.equal([]);
      await request(h.baseUrl, 'POST', `${PIPELINES}/${created.body.id}/cancel`);
    });

    it('approve naming an actor in the body (any actor, even the caller itself) or an unknown property: 400 naming the field; no body: 415; no vote recorded', async () => {
      const created = await request(h.baseUrl, 'POST', PIPELINES, deployPipeline('approve-no-actor'));
      const summary = await openDecision(h, created.body.id);

      // The caller is an approver of the decision: only the body is wrong.
      const named = await approve(h, summary.id, bob, { actor: 'someone-else', comment: 'lgtm' });
      const self = await approve(h, summary.id, bob, { actor: bob.id });
      const extra = await approve(h, summary.id, bob, { comment: 'lgtm', role: 'admin' });
      const noBody = await request(h.baseUrl, 'POST', `/api/v1/decisions/${summary.id}/approve`, undefined, bearer(bob.key));

      expectValidationError(named, 'actor');
      expectValidationError(self, 'actor');
      expectValidationError(extra, 'role');
      expect(noBody.status).to.equal(415);
      expect(noBody.body.error.details[0].field).to.equal('Content-Type');
      const decision = await getDecision(h, summary.id);
      expect(decision.status).to.equal('pending');
      expect(decision.votes).to.deep.equal([]);
      await request(h.baseUrl, 'POST', `${PIPELINES}/${created.body.id}/cancel`);
    });
  });

  describe('declared categories (an implied one is overridden only with override_category)', () => {
    /** The reviewed bypass: a deployment stage declared technical_refactor would auto-approve. */
    const downgraded = (name: string) => ({
      name,
      stages: [{ key: 'd', agent: 'sim_deployment', input: {}, category: 'technical_refactor' }],
    });
    let submitter: Key;
    let operator: Key;
    before(async () => {
      submitter = await h.createKey('cat-submitter', ['submitter']);
      operator = await h.createKey('cat-operator', ['submitter', 'operator']);
    });

    it("a submitter's downgrade of a deployment stage: 403 CATEGORY_FORBIDDEN naming stages[0].category, nothing recorded", async () => {
      const refused = await request(h.baseUrl, 'POST', PIPELINES, downgraded('cat-downgrade'), bearer(submitter.key));

      expect(refused.status, JSON.stringify(refused.body)).to.equal(403);
      expect(refused.body.error.code).to.equal('CATEGORY_FORBIDDEN');
      expect((refused.body.error.details as Loose[]).map((d) => d.field)).to.deep.equal(['stages[0].category']);
      const { rows } = await h.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pipelines WHERE submitter = $1', [
        submitter.id,
      ]);
      expect(rows[0]!.n).to.equal(0);
    });

    it('a submitter declaring the implied category: accepted, and the stage waits for its cost_impacting decision', async () => {
      const created = await request(
        h.baseUrl,
        'POST',
        PIPELINES,
        { name: 'cat-implied', stages: [{ key: 'd', agent: 'sim_deployment', input: {}, category: 'cost_impacting' }] },
        bearer(submitter.key),
      );

      expect(created.status, JSON.stringify(created.body)).to.equal(202);
      const summary = await openDecision(h, created.body.id);
      expect(summary.category).to.equal('cost_impacting');
      await request(h.baseUrl, 'POST', `${PIPELINES}/${created.body.id}/cancel`);
    });

    it("an operator's downgrade: accepted, recorded as declared, and the stage starts with no decision", async () => {
      const created = await request(h.baseUrl, 'POST', PIPELINES, downgraded('cat-operator'), bearer(operator.key));

      expect(created.status, JSON.stringify(created.body)).to.equal(202);
      expect(stage(created.body, 'd').category).to.equal('technical_refactor');
      const done = await waitForPipeline(h.baseUrl, created.body.id);
      expect(done.status).to.equal('succeeded');
      expect(done.decisions).to.deep.equal([]);
    });

    it('a submitter declaring a category on noop (no implied one): accepted, and the decision goes to that category', async () => {
      const created = await request(
        h.baseUrl,
        'POST',
        PIPELINES,
        { name: 'cat-noop', stages: [{ key: 'm', agent: 'noop', category: 'data_migration' }] },
        bearer(submitter.key),
      );

      expect(created.status, JSON.stringify(created.body)).to.equal(202);
      expect(stage(created.body, 'm').category).to.equal('data_migration');
      const summary = await openDecision(h, created.body.id);
      expect(summary.category).to.equal('data_migration');
      await request(h.baseUrl, 'POST', `${PIPELINES}/${created.body.id}/cancel`);
    });
  });

  it('cancel with an open decision: the decision is cancelled, the stage too, and answering it is 409 DECISION_CLOSED', async () => {
    // Arrange
    const created = await request(h.baseUrl, 'POST', PIPELINES, deployPipeline('cancel-open-decision'));
    const summary = await openDecision(h, created.body.id);

    // Act
    const cancelled = await request(h.baseUrl, 'POST', `${PIPELINES}/${created.body.id}/cancel`);
    const done = await waitForPipeline(h.baseUrl, created.body.id);
    const approved = await approve(h, summary.id, alice);
    const rejected = await reject(h, summary.id, alice, { comment: 'too late' });

    // Assert
    expect(cancelled.status).to.equal(202);
    expect(done.status).to.equal('cancelled');
    expect(stage(done, 'deploy').status).to.equal('cancelled');
    expect(stage(done, 'build').status).to.equal('succeeded');
    const decision = await getDecision(h, summary.id);
    expect(decision).to.include({ status: 'cancelled', resolvedBy: 'system' });
    expect(decision.resolvedAt).to.be.a('string');
    expect(approved.status).to.equal(409);
    expect(approved.body.error.code).to.equal('DECISION_CLOSED');
    expect(rejected.status).to.equal(409);
    expect(rejected.body.error.code).to.equal('DECISION_CLOSED');
    expect(await runsOf(h, created.body.id, 'deploy')).to.deep.equal([]);
  });
});

describe('decisions with deadlines (e2e, custom policy)', () => {
  let h: Harness;
  let dir: string;
  let alice: Key;
  let director: Key;
  before(async () => {
    // The default policy with short deadlines: cost_impacting rejects after 1s; architectural_change
    // escalates after 1s; security_affecting needs 2 approvals and escalates after 1s; an
    // escalated decision expires 2s later.
    const policy = parse(readFileSync('policies/decision-policy.yaml', 'utf8')) as Loose;
    policy.version = 'test-deadlines';
    Object.assign(policy.categories.cost_impacting, { deadline: '1s', onDeadline: 'reject' });
    Object.assign(policy.categories.architectural_change, { deadline: '1s', onDeadline: 'escalate' });
    Object.assign(policy.categories.security_affecting, { deadline: '1s', onDeadline: 'escalate', quorum: 2 });
    Object.assign(policy.categories.data_migration, { quorum: 2 });
    policy.escalation.deadline = '2s';
    dir = mkdtempSync(join(tmpdir(), 'decision-policy-'));
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, stringify(policy));
    h = await startHarness({ env: { DECISION_POLICY_FILE: file } });
    alice = await h.createKey('alice', ['approver', 'engineering_manager']);
    director = await h.createKey('director', ['approver', 'engineering_director']);
  });
  after(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('deadline passes with onDeadline reject: decision expired, stage failed DECISION_EXPIRED, pipeline failed', async () => {
    // Arrange
    const created = await request(h.baseUrl, 'POST', PIPELINES, {
      name: 'deadline-reject',
      stages: [
        { key: 'build', agent: 'noop' },
        { key: 'deploy', agent: 'sim_deployment', dependsOn: ['build'] },
        { key: 'notify', agent: 'noop', dependsOn: ['deploy'] },
      ],
    });
    const summary = await openDecision(h, created.body.id);

    // Act
    const done = await waitForPipeline(h.baseUrl, created.body.id);

    // Assert
    expect(done.status).to.equal('failed');
    expect(stage(done, 'deploy').status).to.equal('failed');
    expect(stage(done, 'deploy').error).to.include({ code: 'DECISION_EXPIRED', decisionId: summary.id, retryable: false });
    expect(stage(done, 'notify').status).to.equal('skipped');
    expect(done.error.failedStages).to.deep.equal(['deploy']);
    const decision = await getDecision(h, summary.id);
    expect(decision).to.include({ status: 'expired', resolvedBy: 'policy', onDeadline: 'reject', policyVersion: 'test-deadlines' });
    expect(new Date(decision.resolvedAt).getTime()).to.be.at.least(new Date(decision.deadlineAt).getTime());
    const late = await approve(h, summary.id, alice);
    expect(late.status).to.equal(409);
    expect(late.body.error.code).to.equal('DECISION_CLOSED');
  });

  it('the only worker process stops while the decision waits: a new one applies the deadline (the delayed job lives in Redis)', async () => {
    // Arrange: the decision opens, then every worker runtime of this harness stops.
    const created = await request(h.baseUrl, 'POST', PIPELINES, {
      name: 'deadline-across-restart',
      stages: [{ key: 'deploy', agent: 'sim_deployment' }],
    });
    const summary = await openDecision(h, created.body.id);
    await Promise.all(h.workers.splice(0).map((w) => w.close()));

    // Act: the deadline passes with no worker up; a fresh worker runtime starts after it.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await getDecision(h, summary.id)).status).to.equal('pending');
    await h.startWorker();
    const done = await waitForPipeline(h.baseUrl, created.body.id);

    // Assert
    expect(done.status).to.equal('failed');
    expect(stage(done, 'deploy').error).to.include({ code: 'DECISION_EXPIRED' });
    expect((await getDecision(h, summary.id)).status).to.equal('expired');
  });

  it('decision approved before its deadline: the deadline passing later changes nothing', async () => {
    const created = await request(h.baseUrl, 'POST', PIPELINES, deployPipeline('deadline-after-approval'));
    const summary = await openDecision(h, created.body.id);

    const approved = await approve(h, summary.id, alice);
    expect(approved.status, JSON.stringify(approved.body)).to.equal(200);
    const done = await waitForPipeline(h.baseUrl, created.body.id);
    const deadlineAt = new Date(summary.deadlineAt).getTime();
    // Let the deadline job fire (it is due at deadlineAt) before looking again.
    await new Promise((r) => setTimeout(r, Math.max(0, deadlineAt - Date.now()) + 1000));

    expect(done.status).to.equal('succeeded');
    const decision = await getDecision(h, summary.id);
    expect(decision).to.include({ status: 'approved', resolvedBy: alice.id });
    const after = (await request(h.baseUrl, 'GET', `${PIPELINES}/${created.body.id}`)).body;
    expect(after.status).to.equal('succeeded');
    expect(stage(after, 'deploy').status).to.equal('succeeded');
  });

  it('architectural_change with onDeadline escalate: escalated to the escalation approvers, then expired at the escalation deadline', async () => {
    // Arrange
    const created = await request(h.baseUrl, 'POST', PIPELINES, {
      name: 'deadline-escalate',
      stages: [
        { key: 'build', agent: 'noop' },
        { key: 'scaffold', agent: 'sim_scaffold', dependsOn: ['build'] },
      ],
    });
    const summary = await openDecisionFor(h, created.body.id, 'scaffold');
    const opened = await getDecision(h, summary.id);

    // Act
    const escalated = await waitForDecision(h, summary.id, (d) => d.status !== 'pending');
    const pipelineWhileEscalated = (await request(h.baseUrl, 'GET', `${PIPELINES}/${created.body.id}`)).body;
    const done = await waitForPipeline(h.baseUrl, created.body.id);

    // Assert
    expect(opened).to.include({ status: 'pending', category: 'architectural_change', onDeadline: 'escalate' });
    expect(opened.approvers).to.deep.equal(['tech_lead']);
    expect(escalated).to.include({ status: 'escalated', onDeadline: 'reject' });
    expect(escalated.approvers).to.deep.equal(['engineering_director']);
    expect(new Date(escalated.deadlineAt).getTime()).to.be.greaterThan(new Date(opened.deadlineAt).getTime());
    expect(pipelineWhileEscalated.status).to.equal('running');
    expect(stage(pipelineWhileEscalated, 'scaffold').status).to.equal('waiting');
    expect(done.status).to.equal('failed');
    expect(stage(done, 'scaffold').error).to.include({ code: 'DECISION_EXPIRED' });
    const expired = await getDecision(h, summary.id);
    expect(expired).to.include({ status: 'expired', resolvedBy: 'policy' });
    expect(new Date(expired.resolvedAt).getTime()).to.be.at.least(new Date(escalated.deadlineAt).getTime());
    const { rows } = await h.db.pool.query<{ type: string }>(
      "SELECT type FROM pipeline_events WHERE pipeline_id = $1 AND type LIKE 'decision.%' ORDER BY id",
      [created.body.id],
    );
    expect(rows.map((r) => r.type)).to.deep.equal(['decision.requested', 'decision.escalated', 'decision.resolved']);
  });

  it('escalated decision approved by the escalation approver: the stage runs and the pipeline succeeds', async () => {
    const created = await request(h.baseUrl, 'POST', PIPELINES, {
      name: 'escalate-then-approve',
      stages: [{ key: 'scaffold', agent: 'sim_scaffold' }],
    });
    const summary = await openDecisionFor(h, created.body.id, 'scaffold');
    await waitForDecision(h, summary.id, (d) => d.status === 'escalated');

    const approved = await approve(h, summary.id, director);
    const done = await waitForPipeline(h.baseUrl, created.body.id);

    expect(approved.status, JSON.stringify(approved.body)).to.equal(200);
    expect(approved.body.status).to.equal('approved');
    expect(done.status).to.equal('succeeded');
    expect(await runsOf(h, created.body.id, 'scaffold')).to.have.length(1);
  });

  it('quorum-2 category escalated at its deadline: one approval by the escalation approver settles it', async () => {
    // Arrange: security_affecting needs 2 approvals here, and escalates after 1s. The policy
    // says an escalated decision takes one approval (the escalation approvers decide alone).
    const created = await request(h.baseUrl, 'POST', PIPELINES, {
      name: 'escalate-quorum',
      stages: [{ key: 'harden', agent: 'noop', category: 'security_affecting' }],
    });
    const summary = await openDecisionFor(h, created.body.id, 'harden');
    const opened = await getDecision(h, summary.id);
    const escalated = await waitForDecision(h, summary.id, (d) => d.status === 'escalated');

    // Act
    const approved = await approve(h, summary.id, director);

    // Assert
    expect(opened.quorum).to.equal(2);
    expect(escalated.approvers).to.deep.equal(['engineering_director']);
    expect(approved.status, JSON.stringify(approved.body)).to.equal(200);
    expect(approved.body.status, `escalated decision still needs ${approved.body.quorum} approvals`).to.equal('approved');
    expect((await waitForPipeline(h.baseUrl, created.body.id)).status).to.equal('succeeded');
  });
});
