// Who may answer decisions and clarifications, end to end: the actor is the authenticated
// identity (never the body), the policy's approvers are enforced by role, a quorum counts
// distinct identities, and separation of duties keeps a submitter from approving its own
// cost_impacting or security_affecting work. Every answer is in the audit trail.
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness.js';
import {
  bearer,
  request,
  waitForPipeline,
  waitUntil,
  type JsonResponse,
  type Loose,
  expectError,
  expectValidationError,
} from '../support/http.js';

const PIPELINES = '/api/v1/pipelines';
const DECISIONS = '/api/v1/decisions';
const CLARIFICATIONS = '/api/v1/clarifications';

/** deploy (deployment agent → cost_impacting, alwaysHuman): waits for an engineering_manager. */
const deployPipeline = (name: string) => ({ name, stages: [{ key: 'deploy', agent: 'sim_deployment' }] });
/** migrate (data_migration, alwaysHuman): quorum 2 of dba / tech_lead. */
const migrationPipeline = (name: string) => ({ name, stages: [{ key: 'migrate', agent: 'noop', category: 'data_migration' }] });
/** scaffold (architectural_change, alwaysHuman, not under separation of duties): a tech_lead decides. */
const scaffoldPipeline = (name: string) => ({ name, stages: [{ key: 'scaffold', agent: 'sim_scaffold' }] });

const OPEN = new Set(['pending', 'escalated']);

describe('approvals by identity (e2e)', function () {
  this.timeout(60_000);
  let h: Harness;
  /** Submits pipelines in most tests; holds no team role, so separation of duties never applies to the approvers below. */
  let submitter: { key: string; id: string };

  const post = (path: string, body: unknown, key: string) => request(h.baseUrl, 'POST', path, body, bearer(key));
  const approve = (id: string, key: string, body: unknown = {}) => post(`${DECISIONS}/${id}/approve`, body, key);
  const reject = (id: string, key: string, body: unknown) => post(`${DECISIONS}/${id}/reject`, body, key);
  const getDecision = async (id: string): Promise<Loose> => (await request(h.baseUrl, 'GET', `${DECISIONS}/${id}`)).body;
  const audit = async (query: Record<string, string>): Promise<Loose[]> => {
    const res = await request(h.baseUrl, 'GET', `/api/v1/audit?${new URLSearchParams(query)}`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body.items as Loose[];
  };

  /** Submits `definition` as `key` and waits for the open decision of its only stage. */
  async function submitAndWaitForDecision(definition: Loose, key: string): Promise<{ pipelineId: string; decision: Loose }> {
    const created = await post(PIPELINES, definition, key);
    expect(created.status, JSON.stringify(created.body)).to.equal(202);
    const waiting = await waitUntil(h.baseUrl, created.body.id, (p) => (p.decisions as Loose[]).some((d) => OPEN.has(d.status)));
    const summary = (waiting.decisions as Loose[]).find((d) => OPEN.has(d.status))!;
    return { pipelineId: created.body.id as string, decision: await getDecision(summary.id) };
  }

  before(async () => {
    h = await startHarness({ workers: 1 });
    submitter = await h.createKey('submitter', ['submitter']);
  });
  after(async () => {
    await h?.close();
  });

  describe('the actor is the identity', () => {
    it('approve with an actor in the body: 400 naming actor; with {} as an approver: recorded under the key identity', async () => {
      // Arrange
      const manager = await h.createKey('manager', ['approver', 'engineering_manager']);
      const { pipelineId, decision } = await submitAndWaitForDecision(deployPipeline('actor-from-identity'), submitter.key);

      // Act
      const named = await approve(decision.id, manager.key, { actor: 'ceo' });
      const afterNamed = await getDecision(decision.id);
      const approved = await approve(decision.id, manager.key, {});
      const done = await waitForPipeline(h.baseUrl, pipelineId);

      // Assert
      expectValidationError(named, 'actor');
      expect(afterNamed).to.include({ status: 'pending' });
      expect(afterNamed.votes).to.deep.equal([]);
      expect(approved.status, JSON.stringify(approved.body)).to.equal(200);
      expect(approved.body).to.include({ status: 'approved', resolvedBy: manager.id });
      expect((approved.body.votes as Loose[]).map((v) => [v.actor, v.verdict])).to.deep.equal([[manager.id, 'approve']]);
      expect(done.status).to.equal('succeeded');
    });
  });

  describe('approver enforcement', () => {
    it('cost_impacting decision: a tech_lead approver and an admin get 403 NOT_AN_APPROVER, a viewer 403 FORBIDDEN; an engineering_manager approves and the pipeline goes on', async () => {
      // Arrange
      const techLead = await h.createKey('tech-lead', ['approver', 'tech_lead']);
      const viewer = await h.createKey('viewer', ['viewer', 'engineering_manager']);
      const manager = await h.createKey('manager-2', ['approver', 'engineering_manager']);
      const { pipelineId, decision } = await submitAndWaitForDecision(deployPipeline('approver-enforcement'), submitter.key);

      // Act
      const byTechLead = await approve(decision.id, techLead.key);
      const byAdmin = await approve(decision.id, h.adminKey);
      const rejectByTechLead = await reject(decision.id, techLead.key, { comment: 'not mine to refuse' });
      const byViewer = await approve(decision.id, viewer.key);
      const stillPending = await getDecision(decision.id);
      const byManager = await approve(decision.id, manager.key);
      const done = await waitForPipeline(h.baseUrl, pipelineId);

      // Assert
      expect(decision).to.include({ category: 'cost_impacting', status: 'pending' });
      expect(decision.approvers).to.deep.equal(['engineering_manager']);
      expectError(byTechLead, 403, 'NOT_AN_APPROVER');
      expectError(byAdmin, 403, 'NOT_AN_APPROVER');
      expectError(rejectByTechLead, 403, 'NOT_AN_APPROVER');
      expectError(byViewer, 403, 'FORBIDDEN');
      expect(stillPending.status).to.equal('pending');
      expect(stillPending.votes).to.deep.equal([]);
      expect(byManager.status, JSON.stringify(byManager.body)).to.equal(200);
      expect(byManager.body).to.include({ status: 'approved', resolvedBy: manager.id });
      expect(done.status).to.equal('succeeded');
    });
  });

  describe('quorum by distinct identities', () => {
    it('data_migration (quorum 2): one identity approving twice is 409 DECISION_ALREADY_ANSWERED and stays pending; a second identity approves it', async () => {
      // Arrange
      const dba = await h.createKey('dba', ['approver', 'dba']);
      const techLead = await h.createKey('tech-lead-2', ['approver', 'tech_lead']);
      const { pipelineId, decision } = await submitAndWaitForDecision(migrationPipeline('quorum-identities'), submitter.key);

      // Act
      const first = await approve(decision.id, dba.key, { comment: 'schema reviewed' });
      const again = await approve(decision.id, dba.key);
      const afterAgain = await getDecision(decision.id);
      const second = await approve(decision.id, techLead.key);
      const done = await waitForPipeline(h.baseUrl, pipelineId);

      // Assert
      expect(decision).to.include({ category: 'data_migration', quorum: 2 });
      expect(first.status, JSON.stringify(first.body)).to.equal(200);
      expect(first.body.status).to.equal('pending');
      expectError(again, 409, 'DECISION_ALREADY_ANSWERED');
      expect(afterAgain.status).to.equal('pending');
      expect((afterAgain.votes as Loose[]).map((v) => v.actor)).to.deep.equal([dba.id]);
      expect(second.status, JSON.stringify(second.body)).to.equal(200);
      expect(second.body).to.include({ status: 'approved', resolvedBy: techLead.id });
      expect((second.body.votes as Loose[]).map((v) => v.actor)).to.deep.equal([dba.id, techLead.id]);
      expect(done.status).to.equal('succeeded');
    });
  });

  describe('separation of duties', () => {
    it('cost_impacting decision of its own pipeline: the submitter-manager gets 403 SELF_APPROVAL_FORBIDDEN, it stays pending; another manager approves', async () => {
      // Arrange
      const selfManager = await h.createKey('self-manager', ['submitter', 'approver', 'engineering_manager']);
      const otherManager = await h.createKey('other-manager', ['approver', 'engineering_manager']);
      const { pipelineId, decision } = await submitAndWaitForDecision(deployPipeline('separation-of-duties'), selfManager.key);

      // Act
      const ownApproval = await approve(decision.id, selfManager.key);
      const ownRejection = await reject(decision.id, selfManager.key, { comment: 'changed my mind' });
      const stillPending = await getDecision(decision.id);
      const byOther = await approve(decision.id, otherManager.key);
      const done = await waitForPipeline(h.baseUrl, pipelineId);

      // Assert
      expectError(ownApproval, 403, 'SELF_APPROVAL_FORBIDDEN');
      expectError(ownRejection, 403, 'SELF_APPROVAL_FORBIDDEN');
      expect(stillPending.status).to.equal('pending');
      expect(stillPending.votes).to.deep.equal([]);
      expect(byOther.status, JSON.stringify(byOther.body)).to.equal(200);
      expect(byOther.body).to.include({ status: 'approved', resolvedBy: otherManager.id });
      expect(done.status).to.equal('succeeded');
    });

    it('architectural_change (not under separation of duties): the submitter holding tech_lead approves its own decision', async () => {
      // Arrange
      const selfLead = await h.createKey('self-lead', ['submitter', 'approver', 'tech_lead']);
      const { pipelineId, decision } = await submitAndWaitForDecision(scaffoldPipeline('own-architecture'), selfLead.key);

      // Act
      const approved = await approve(decision.id, selfLead.key);
      const done = await waitForPipeline(h.baseUrl, pipelineId);

      // Assert
      expect(decision).to.include({ category: 'architectural_change', status: 'pending' });
      expect(approved.status, JSON.stringify(approved.body)).to.equal(200);
      expect(approved.body).to.include({ status: 'approved', resolvedBy: selfLead.id });
      expect(done.status).to.equal('succeeded');
      expect(done.submitter).to.equal(selfLead.id);
    });
  });

  describe('clarifications', () => {
    it('answer with an actor in the body: 400; a viewer: 403; an approver answers and answeredBy is its identity', async () => {
      // Arrange
      const approver = await h.createKey('pm', ['approver']);
      const viewer = await h.createKey('onlooker', ['viewer']);
      const created = await post(
        PIPELINES,
        { name: 'clarify', input: { requirements: 'Make it maybe faster for some users' }, stages: [{ key: 'build', agent: 'noop' }] },
        submitter.key,
      );
      const waiting = await waitUntil(h.baseUrl, created.body.id, (p) => (p.clarifications as Loose[]).some((c) => c.status === 'open'));
      const asked = (await request(h.baseUrl, 'GET', `${CLARIFICATIONS}/${(waiting.clarifications as Loose[])[0]!.id}`)).body;
      const answers = Object.fromEntries((asked.questions as Loose[]).map((q) => [q.id, 'all EU users, required']));

      // Act
      const named = await post(`${CLARIFICATIONS}/${asked.id}/answer`, { actor: 'pm', answers }, approver.key);
      const byViewer = await post(`${CLARIFICATIONS}/${asked.id}/answer`, { answers }, viewer.key);
      const stillOpen = (await request(h.baseUrl, 'GET', `${CLARIFICATIONS}/${asked.id}`)).body;
      const answered = await post(`${CLARIFICATIONS}/${asked.id}/answer`, { answers }, approver.key);
      const done = await waitForPipeline(h.baseUrl, created.body.id);

      // Assert
      expectValidationError(named, 'actor');
      expectError(byViewer, 403, 'FORBIDDEN');
      expect(stillOpen.status).to.equal('open');
      expect(answered.status, JSON.stringify(answered.body)).to.equal(200);
      expect(answered.body).to.include({ status: 'answered', answeredBy: approver.id });
      expect(done.status).to.equal('succeeded');
      expect(done.input.clarifications[0]).to.include({ clarificationId: asked.id, answeredBy: approver.id });
    });
  });

  describe('audit trail', () => {
    it('decision.approved, decision.rejected and clarification.answered: each names the answering identity and its roles', async () => {
      // Arrange
      const manager = await h.createKey('audited-manager', ['approver', 'engineering_manager']);
      const approver = await h.createKey('audited-pm', ['approver']);
      const toApprove = await submitAndWaitForDecision(deployPipeline('audit-approve'), submitter.key);
      const toReject = await submitAndWaitForDecision(deployPipeline('audit-reject'), submitter.key);
      const vague = await post(
        PIPELINES,
        { name: 'audit-clarify', input: { requirements: 'tbd' }, stages: [{ key: 'build', agent: 'noop' }] },
        submitter.key,
      );
      const waiting = await waitUntil(h.baseUrl, vague.body.id, (p) => (p.clarifications as Loose[]).some((c) => c.status === 'open'));
      const asked = (await request(h.baseUrl, 'GET', `${CLARIFICATIONS}/${(waiting.clarifications as Loose[])[0]!.id}`)).body;

      // Act
      const approved = await approve(toApprove.decision.id, manager.key, { comment: 'ship it' });
      const rejected = await reject(toReject.decision.id, manager.key, { comment: 'not on a Friday' });
      const answered = await post(
        `${CLARIFICATIONS}/${asked.id}/answer`,
        { answers: Object.fromEntries((asked.questions as Loose[]).map((q) => [q.id, 'decided: ship the health endpoint'])) },
        approver.key,
      );
      await Promise.all([toApprove.pipelineId, toReject.pipelineId, vague.body.id as string].map((id) => waitForPipeline(h.baseUrl, id)));

      // Assert
      const cases: Array<[string, JsonResponse<Loose>, string, string, { key: string; id: string }, string[]]> = [
        ['decision.approved', approved, toApprove.decision.id, toApprove.pipelineId, manager, ['approver', 'engineering_manager']],
        ['decision.rejected', rejected, toReject.decision.id, toReject.pipelineId, manager, ['approver', 'engineering_manager']],
        ['clarification.answered', answered, asked.id, vague.body.id, approver, ['approver']],
      ];
      for (const [action, res, targetId, pipelineId, who, roles] of cases) {
        expect(res.status, `${action}: ${JSON.stringify(res.body)}`).to.equal(200);
        const events = await audit({ action, targetId });
        expect(events, action).to.have.length(1);
        expect(events[0]!.identity, action).to.deep.include({ id: who.id, name: who.id, via: 'api_key', roles });
        expect(events[0]!, action).to.include({ pipelineId, requestId: res.headers.get('x-request-id') });
      }
      const [rejectedEvent] = await audit({ action: 'decision.rejected', targetId: toReject.decision.id });
      expect(rejectedEvent!.data).to.include({ category: 'cost_impacting', comment: 'not on a Friday', resolved: 'rejected' });
      const byManager = await audit({ identity: manager.id });
      expect(byManager.map((e) => e.action)).to.have.members(['decision.approved', 'decision.rejected']);
    });
  });
});
