// Answers to a decision racing its deadline, against real Postgres and Redis: the decision
// service is built on the real repository with its vote held until the test releases it,
// so the interleaving is chosen, not raced. Whoever may answer is judged on the decision as the
// vote's transaction locked it.
import { expect } from 'chai';
import { createDecisionRepository } from '../../src/infra/db/decision.repository.js';
import { createAgentQueues } from '../../src/infra/queue/agent.queues.js';
import { createControlQueue } from '../../src/infra/queue/control.queue.js';
import { loadDecisionPolicy } from '../../src/infra/policy/policy-file.js';
import { createLogger } from '../../src/infra/telemetry/logger.js';
import { createDecisionService } from '../../src/services/decision.service.js';
import type { DecisionRepository } from '../../src/services/decision.ports.js';
import type { Actor } from '../../src/domain/identity.js';
import { AppError } from '../../src/domain/errors.js';
import { startHarness, type Harness } from '../support/harness.js';
import { request, waitUntil, type Loose } from '../support/http.js';

describe('decision answers racing the deadline (integration)', () => {
  let h: Harness;

  before(async () => {
    h = await startHarness({ workers: 1 });
  });
  after(async () => {
    await h.close();
  });

  it("a tech lead's approval that read the decision pending, then its escalation: 403 NOT_AN_APPROVER, the escalated decision stays open", async () => {
    // sim_scaffold: architectural_change, approved by a tech_lead, escalated to the engineering director at its deadline.
    const created = await request(h.baseUrl, 'POST', '/api/v1/pipelines', {
      name: 'decision-races-escalation',
      stages: [
        { key: 'build', agent: 'noop' },
        { key: 'scaffold', agent: 'sim_scaffold', dependsOn: ['build'] },
      ],
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(202);
    const pipelineId = created.body.id as string;
    const waiting = await waitUntil(h.baseUrl, pipelineId, (p) => (p.decisions as Loose[]).some((d) => d.status === 'pending'));
    const decisionId = (waiting.decisions as Loose[])[0]!.id as string;

    // The tech lead's approval, held before its vote's transaction (the decision pending, tech_lead approves).
    let readDone: () => void = () => undefined;
    const read = new Promise<void>((resolve) => (readDone = resolve));
    let goOn: () => void = () => undefined;
    const go = new Promise<void>((resolve) => (goOn = resolve));
    const real = createDecisionRepository(h.db);
    const repo: DecisionRepository = {
      ...real,
      answer: async (args, audit) => {
        readDone();
        await go;
        return real.answer(args, audit);
      },
    };
    const connection = h.connection();
    const agentQueues = createAgentQueues(connection, h.config.QUEUE_PREFIX, [...h.catalog.keys()]);
    const control = createControlQueue(connection, h.config.QUEUE_PREFIX);
    const service = createDecisionService({
      repo,
      agentQueues,
      control,
      policy: loadDecisionPolicy(h.config.DECISION_POLICY_FILE),
      logger: createLogger({ level: 'error', service: 'test', silent: true }),
    });
    const techLead: Actor = {
      identity: { id: 'races-tech-lead', name: 'races-tech-lead', kind: 'user', via: 'api_key', roles: ['approver', 'tech_lead'] },
    };
    try {
      const approval = service.approve(decisionId, {}, techLead);
      await read;
      // Meanwhile its deadline passes: the decision goes to the engineering director.
      await h.db.pool.query("UPDATE decisions SET deadline_at = now() - interval '1 second' WHERE id = $1", [decisionId]);
      await real.applyDeadline({ id: decisionId, escalation: { approvers: ['engineering_director'], deadlineMs: 3_600_000 } });
      goOn();
      const [outcome] = await Promise.allSettled([approval]);

      const decision = (await request(h.baseUrl, 'GET', `/api/v1/decisions/${decisionId}`)).body;
      const audits = await h.db.pool.query("SELECT action FROM audit_events WHERE target_id = $1 AND action LIKE 'decision.%'", [
        decisionId,
      ]);
      expect({
        approval: outcome!.status === 'rejected' && outcome!.reason instanceof AppError ? outcome!.reason.code : outcome!.status,
        status: decision.status,
        approvers: decision.approvers,
        votes: (decision.votes as Loose[]).length,
        audits: audits.rowCount,
      }).to.deep.equal({ approval: 'NOT_AN_APPROVER', status: 'escalated', approvers: ['engineering_director'], votes: 0, audits: 0 });
    } finally {
      await agentQueues.close();
      await control.close();
    }
  });
});
