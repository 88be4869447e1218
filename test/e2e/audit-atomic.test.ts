// A change and its audit event commit together (services/identity.ports.ts, AuditOf): pause,
// resume, cancel, a decision's vote, a clarification's answers, a priority change and a DLQ
// replay (the last two change Redis after the commit). With the audit insert failing
// (a trigger on audit_events in the harness's schema), each request answers 500 and changes
// nothing; once it works again, the same request makes the change and writes its event.
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness.js';
import { bearer, request, waitForPipeline, waitUntil, type Loose } from '../support/http.js';

const PIPELINES = '/api/v1/pipelines';

const VAGUE = { requirements: 'Make it maybe faster for some users' };

const stageOf = (p: Loose, key: string): Loose => (p.stages as Loose[]).find((s) => s.key === key)!;

describe('audit events commit with their change (e2e)', () => {
  let h: Harness;
  let approver: { key: string; id: string };

  before(async () => {
    h = await startHarness();
    approver = await h.createKey('audit-approver', ['approver', 'engineering_manager']);
    await h.db.pool.query(
      `CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit store down'; END $$`,
    );
  });
  after(async () => {
    await h?.db.pool.query('DROP FUNCTION IF EXISTS refuse_audit() CASCADE');
    await h?.close();
  });

  const auditDown = () =>
    h.db.pool.query('CREATE TRIGGER audit_down BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_audit()');
  const auditUp = () => h.db.pool.query('DROP TRIGGER IF EXISTS audit_down ON audit_events');
  afterEach(auditUp);

  const actionsOf = async (targetId: string): Promise<string[]> => {
    const { rows } = await h.db.pool.query<{ action: string }>('SELECT action FROM audit_events WHERE target_id = $1 ORDER BY id', [
      targetId,
    ]);
    return rows.map((r) => r.action);
  };
  const submit = async (body: Loose): Promise<Loose> => {
    const res = await request(h.baseUrl, 'POST', PIPELINES, body);
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    return res.body;
  };
  const get = async (id: string): Promise<Loose> => (await request(h.baseUrl, 'GET', `${PIPELINES}/${id}`)).body;
  const twoStages = (name: string, input?: Loose) => ({
    name,
    ...(input ? { input } : {}),
    stages: [
      { key: 'build', agent: 'noop' },
      { key: 'ship', agent: 'noop', dependsOn: ['build'] },
    ],
  });

  it('pause and resume: refused with the audit down, nothing held; then each with its event', async () => {
    // Vague requirements: the roots wait for an answer, so the pipeline stays open.
    const { id } = await submit(twoStages('audit-pause', VAGUE));

    await auditDown();
    const refused = await request(h.baseUrl, 'POST', `${PIPELINES}/${id}/pause`, { reason: 'drill' });
    expect(refused.status, JSON.stringify(refused.body)).to.equal(500);
    const unchanged = await get(id);
    expect(unchanged.paused).to.equal(null);
    expect(await actionsOf(id)).to.deep.equal(['pipeline.submitted']);

    await auditUp();
    const paused = await request(h.baseUrl, 'POST', `${PIPELINES}/${id}/pause`, { reason: 'drill' });
    expect(paused.status, JSON.stringify(paused.body)).to.equal(202);
    expect(paused.body.paused).to.include({ reason: 'drill' });

    await auditDown();
    const refusedResume = await request(h.baseUrl, 'POST', `${PIPELINES}/${id}/resume`);
    expect(refusedResume.status, JSON.stringify(refusedResume.body)).to.equal(500);
    expect((await get(id)).paused).to.include({ reason: 'drill' });

    await auditUp();
    const resumed = await request(h.baseUrl, 'POST', `${PIPELINES}/${id}/resume`);
    expect(resumed.status, JSON.stringify(resumed.body)).to.equal(202);
    expect(resumed.body.paused).to.equal(null);
    expect(await actionsOf(id)).to.deep.equal(['pipeline.submitted', 'pipeline.paused', 'pipeline.resumed']);
  });

  it('cancel: refused with the audit down, no cancel requested; then cancelled with its event', async () => {
    const { id } = await submit(twoStages('audit-cancel', VAGUE));

    await auditDown();
    const refused = await request(h.baseUrl, 'POST', `${PIPELINES}/${id}/cancel`);
    expect(refused.status, JSON.stringify(refused.body)).to.equal(500);
    const unchanged = await get(id);
    expect(unchanged.cancelRequestedAt).to.equal(null);
    expect(unchanged.stages.map((s: Loose) => s.status)).to.not.include('cancelled');

    await auditUp();
    const cancelled = await request(h.baseUrl, 'POST', `${PIPELINES}/${id}/cancel`);
    expect(cancelled.status, JSON.stringify(cancelled.body)).to.equal(202);
    expect(await actionsOf(id)).to.deep.equal(['pipeline.submitted', 'pipeline.cancelled']);
  });

  it('a clarification answered: refused with the audit down, still open and the roots waiting; then answered with its event', async () => {
    const created = await submit(twoStages('audit-clarify', VAGUE));
    const asked = created.clarifications[0] as Loose;
    const answers = {
      answers: { 'ambiguous:maybe': 'required', 'ambiguous:some': 'all EU users', 'missing-acceptance-criteria': 'p95 under 200 ms' },
    };
    const answer = () => request(h.baseUrl, 'POST', `/api/v1/clarifications/${asked.id}/answer`, answers, bearer(approver.key));

    await auditDown();
    const refused = await answer();
    expect(refused.status, JSON.stringify(refused.body)).to.equal(500);
    expect((await request(h.baseUrl, 'GET', `/api/v1/clarifications/${asked.id}`)).body.status).to.equal('open');
    const waiting = await get(created.id);
    expect(waiting.input.clarifications ?? []).to.deep.equal([]);

    await auditUp();
    const answered = await answer();
    expect(answered.status, JSON.stringify(answered.body)).to.equal(200);
    expect(await actionsOf(asked.id)).to.deep.equal(['clarification.answered']);
  });

  it('a priority change: refused with the audit down, the priority unchanged; then changed with its event', async () => {
    const { id } = await submit(twoStages('audit-priority', VAGUE));
    const change = () => request(h.baseUrl, 'POST', `${PIPELINES}/${id}/priority`, { priority: 'urgent' });

    await auditDown();
    const refused = await change();
    expect(refused.status, JSON.stringify(refused.body)).to.equal(500);
    expect((await get(id)).priority).to.equal('normal');

    await auditUp();
    const changed = await change();
    expect(changed.status, JSON.stringify(changed.body)).to.equal(200);
    expect(changed.body.priority).to.equal('urgent');
    expect(await actionsOf(id)).to.deep.equal(['pipeline.submitted', 'pipeline.reprioritized']);
  });

  it('a DLQ replay: refused with the audit down, the stage still failed and its job still dead-lettered; then replayed with its event', async () => {
    const { id } = await submit({
      name: 'audit-replay',
      stages: [{ key: 'charge', agent: 'fail', input: { failAttempts: 1, unrecoverable: true } }],
    });
    const failed = await waitForPipeline(h.baseUrl, id);
    expect(failed.status).to.equal('failed');
    const jobId = stageOf(failed, 'charge').id as string;
    const replay = () => request(h.baseUrl, 'POST', `/api/v1/dlq/${jobId}/retry`);

    await auditDown();
    const refused = await replay();
    expect(refused.status, JSON.stringify(refused.body)).to.equal(500);
    const unchanged = await get(id);
    expect([unchanged.status, stageOf(unchanged, 'charge').status]).to.deep.equal(['failed', 'failed']);
    const dlq = await request(h.baseUrl, 'GET', `/api/v1/dlq?pipelineId=${id}`);
    expect((dlq.body.items as Loose[]).map((item) => item.jobId)).to.deep.equal([jobId]);

    await auditUp();
    const replayed = await replay();
    expect(replayed.status, JSON.stringify(replayed.body)).to.equal(202);
    expect((await waitForPipeline(h.baseUrl, id)).status).to.equal('succeeded');
    expect(await actionsOf(jobId)).to.deep.equal(['dlq.replayed']);
  });

  it('a decision approved: refused with the audit down, no vote and still pending; then approved with its event', async () => {
    const { id } = await submit({
      name: 'audit-decide',
      stages: [{ key: 'deploy', agent: 'sim_deployment' }],
    });
    const waiting = await waitUntil(h.baseUrl, id, (p) => (p.decisions as Loose[]).some((d) => d.status === 'pending'));
    const decisionId = (waiting.decisions as Loose[])[0]!.id as string;
    const approve = () => request(h.baseUrl, 'POST', `/api/v1/decisions/${decisionId}/approve`, { comment: 'ok' }, bearer(approver.key));

    await auditDown();
    const refused = await approve();
    expect(refused.status, JSON.stringify(refused.body)).to.equal(500);
    const pending = (await request(h.baseUrl, 'GET', `/api/v1/decisions/${decisionId}`)).body;
    expect(pending.status).to.equal('pending');
    expect(pending.votes).to.deep.equal([]);
    expect(stageOf(await get(id), 'deploy').status).to.equal('waiting');

    await auditUp();
    const approved = await approve();
    expect(approved.status, JSON.stringify(approved.body)).to.equal(200);
    expect(approved.body.status).to.equal('approved');
    expect(await actionsOf(decisionId)).to.deep.equal(['decision.approved']);
  });
});
