// Domain and SQL agree, by test (issue 12, acceptance 2). The same cases run through the domain
// functions (planPipeline, admitStages, the lifecycle table) and through the real statements
// (finish-stages.sql, claim-stages.sql, apply-plan.sql, the cancel statement, and the decision,
// clarification, replay, reconcile and pause repositories) on a real Postgres in a private schema; every
// transition row runs from every status; a rule changed on one side only fails here.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { DecisionPolicy } from '../../src/domain/decision-policy.js';
import { planPipeline } from '../../src/domain/planner.js';
import { admitStages } from '../../src/domain/stage-admission.js';
import {
  initialStageStatus,
  satisfiesDependants,
  STAGE_TRANSITIONS,
  transition,
  type StageEvent,
} from '../../src/domain/stage-lifecycle.js';
import { pipelineDefinitionSchema } from '../../src/domain/pipeline-definition.js';
import { MOVING_STAGE_STATUSES, STAGE_STATUSES, type StageStatus } from '../../src/domain/status.js';
import { parseEventRow } from '../../src/domain/event-payloads.js';
import { createDatabase, type Database } from '../../src/infra/db/database.js';
import { createPipelineRepository } from '../../src/infra/db/pipeline.repository.js';
import { createStageRunRepository } from '../../src/infra/db/stage-run.repository.js';
import { createDecisionRepository } from '../../src/infra/db/decision.repository.js';
import { createClarificationRepository } from '../../src/infra/db/clarification.repository.js';
import { insertClarification } from '../../src/infra/db/clarification.sql.js';
import { createReplayRepository } from '../../src/infra/db/replay.repository.js';
import { createReconcileRepository } from '../../src/infra/db/reconcile.repository.js';
import { createPipelinePauseRepository } from '../../src/infra/db/pipeline-pause.repository.js';
import type { PipelinePauseRepository } from '../../src/services/pipeline-pause.ports.js';
import { toDispatched } from '../../src/infra/db/mappers.js';
import { loadDecisionPolicy } from '../../src/infra/policy/policy-file.js';
import type { ClarificationRepository, NewClarification } from '../../src/services/clarification.ports.js';
import type { DecisionRepository } from '../../src/services/decision.ports.js';
import type { ReplayRepository } from '../../src/services/dlq.ports.js';
import type { PipelineRepository } from '../../src/services/pipeline.ports.js';
import type { ReconcileRepository } from '../../src/services/reconcile.ports.js';
import type { StageRunRepository } from '../../src/services/stage-run.ports.js';
import { createTestSchema, dropSchema } from '../support/test-database.js';

interface SeedStage {
  key: string;
  status: StageStatus;
  dependsOn?: string[];
  continueOnFailure?: boolean;
  autoApproveAt?: number | null;
  confidence?: number | null;
  jobId?: string;
}

describe('lifecycle: domain and SQL agree (integration)', () => {
  let schema: string;
  let db: Database;
  let pipelines: PipelineRepository;
  let runs: StageRunRepository;
  /** The finish statement with the `platform.auto-approval` switch off. */
  let runsAutoApprovalOff: StageRunRepository;
  let decisions: DecisionRepository;
  let clarifications: ClarificationRepository;
  let replays: ReplayRepository;
  let reconciles: ReconcileRepository;
  let pauses: PipelinePauseRepository;
  let policy: DecisionPolicy;

  before(async () => {
    const created = await createTestSchema();
    schema = created.schema;
    db = createDatabase(created.url, 4);
    pipelines = createPipelineRepository(db);
    runs = createStageRunRepository(db);
    runsAutoApprovalOff = createStageRunRepository(db, { autoApproval: () => false });
    decisions = createDecisionRepository(db);
    clarifications = createClarificationRepository(db);
    replays = createReplayRepository(db);
    reconciles = createReconcileRepository(db);
    pauses = createPipelinePauseRepository(db);
    policy = loadDecisionPolicy('policies/decision-policy.yaml');
  });
  after(async () => {
    await db.close();
    await dropSchema(schema);
  });

  /** A running pipeline with these stages; a running stage gets a run id (its attempt). */
  async function seed(stages: SeedStage[], options: { cancelRequested?: boolean; paused?: boolean } = {}) {
    const pipelineId = randomUUID();
    await db.pool.query(
      `INSERT INTO pipelines (id, name, status, definition, policy_version, started_at, updated_at, cancel_requested_at, paused_at, paused_by)
       VALUES ($1, 'agreement', 'running', '{}'::jsonb, $2, now(), now(), CASE WHEN $3 THEN now() END, CASE WHEN $4 THEN now() END,
               CASE WHEN $4 THEN 'ops' END)`,
      [pipelineId, policy.version, options.cancelRequested ?? false, options.paused ?? false],
    );
    const byKey = new Map(stages.map((s) => [s.key, s]));
    const ids = new Map<string, { id: string; runId: string }>();
    for (const [position, s] of stages.entries()) {
      const ref = { id: randomUUID(), runId: randomUUID() };
      ids.set(s.key, ref);
      const deps = s.dependsOn ?? [];
      // waiting_on as submission and earlier finishes left it: the dependencies not yet satisfying it.
      const waitingOn = deps.filter((d) => {
        const dep = byKey.get(d)!;
        return !satisfiesDependants({ status: dep.status, continueOnFailure: dep.continueOnFailure ?? false });
      }).length;
      await db.pool.query(
        `INSERT INTO stages (id, pipeline_id, key, position, agent, depends_on, dependants, waiting_on, status, input, retry_attempts,
                             retry_backoff, continue_on_failure, auto_approve_at, confidence, job_id, current_run_id, run_started_at,
                             run_worker_id, attempts)
         VALUES ($1, $2, $3, $4, 'noop', $5, $6, $7, $8::"StageStatus", '{}'::jsonb, 1, '{"type":"fixed","delayMs":1}'::jsonb, $9, $10,
                 $11, $12, CASE WHEN $8 = 'running' THEN $13::uuid END, CASE WHEN $8 = 'running' THEN now() END,
                 CASE WHEN $8 = 'running' THEN 'worker-0' END, CASE WHEN $8 = 'running' THEN 1 ELSE 0 END)`,
        [
          ref.id,
          pipelineId,
          s.key,
          position,
          deps,
          stages.filter((o) => (o.dependsOn ?? []).includes(s.key)).map((o) => o.key),
          waitingOn,
          s.status,
          s.continueOnFailure ?? false,
          s.autoApproveAt === undefined ? 0 : s.autoApproveAt,
          s.confidence ?? null,
          s.jobId ?? ref.id,
          ref.runId,
        ],
      );
    }
    return { pipelineId, ids };
  }

  async function statuses(pipelineId: string): Promise<Record<string, StageStatus>> {
    const { rows } = await db.pool.query<{ key: string; status: StageStatus }>('SELECT key, status FROM stages WHERE pipeline_id = $1', [
      pipelineId,
    ]);
    return Object.fromEntries(rows.map((r) => [r.key, r.status]));
  }

  /** The domain's answer: after `finished` ends as `outcome`, which stages are released and which held. */
  function domainRelease(stages: SeedStage[], finished: string, outcome: StageStatus, confidence: number | null, autoApproval = true) {
    const after = stages.map((s) => ({
      key: s.key,
      status: s.key === finished ? outcome : s.status,
      dependsOn: s.dependsOn ?? [],
      continueOnFailure: s.continueOnFailure ?? false,
      category: 'technical_refactor' as const,
      autoApproveAt: s.autoApproveAt === undefined ? 0 : s.autoApproveAt,
      // Confidence only flows along the edges of the stage that reported it.
      confidence:
        (s.dependsOn ?? []).includes(finished) && confidence !== null ? Math.min(s.confidence ?? 100, confidence) : (s.confidence ?? null),
      approved: false,
    }));
    const plan = admitStages(planPipeline(after, { cancelRequested: false }), after, policy, { autoApproval });
    const dependants = new Set(stages.filter((s) => (s.dependsOn ?? []).includes(finished)).map((s) => s.key));
    return { released: plan.dispatch.filter((k) => dependants.has(k)).sort(), held: plan.hold.some((h) => dependants.has(h.key)) };
  }

  const releaseCases: {
    name: string;
    stages: SeedStage[];
    finished: string;
    outcome: 'succeeded' | 'failed';
    confidence?: number | null;
    /** The `platform.auto-approval` switch (default on). */
    autoApproval?: boolean;
  }[] = [
    {
      name: 'release on success',
      stages: [
        { key: 'a', status: 'running' },
        { key: 'b', status: 'pending', dependsOn: ['a'] },
      ],
      finished: 'a',
      outcome: 'succeeded',
    },
    {
      name: 'failure without continueOnFailure',
      stages: [
        { key: 'a', status: 'running' },
        { key: 'b', status: 'pending', dependsOn: ['a'] },
      ],
      finished: 'a',
      outcome: 'failed',
    },
    {
      name: 'failure with continueOnFailure',
      stages: [
        { key: 'a', status: 'running', continueOnFailure: true },
        { key: 'b', status: 'pending', dependsOn: ['a'] },
      ],
      finished: 'a',
      outcome: 'failed',
    },
    {
      name: 'fan-in, the other dependency still running',
      stages: [
        { key: 'a', status: 'running' },
        { key: 'b', status: 'running' },
        { key: 'c', status: 'pending', dependsOn: ['a', 'b'] },
      ],
      finished: 'a',
      outcome: 'succeeded',
    },
    {
      name: 'fan-in, the other dependency succeeded',
      stages: [
        { key: 'a', status: 'running' },
        { key: 'b', status: 'succeeded' },
        { key: 'c', status: 'pending', dependsOn: ['a', 'b'] },
      ],
      finished: 'a',
      outcome: 'succeeded',
    },
    {
      name: 'fan-in, the other dependency failed with continueOnFailure',
      stages: [
        { key: 'a', status: 'running' },
        { key: 'b', status: 'failed', continueOnFailure: true },
        { key: 'c', status: 'pending', dependsOn: ['a', 'b'] },
      ],
      finished: 'a',
      outcome: 'succeeded',
    },
    {
      name: 'auto-approval: confidence equal to auto_approve_at',
      stages: [
        { key: 'a', status: 'running' },
        { key: 'b', status: 'pending', dependsOn: ['a'], autoApproveAt: 80 },
      ],
      finished: 'a',
      outcome: 'succeeded',
      confidence: 80,
    },
    {
      name: 'auto-approval: confidence below auto_approve_at',
      stages: [
        { key: 'a', status: 'running' },
        { key: 'b', status: 'pending', dependsOn: ['a'], autoApproveAt: 80 },
      ],
      finished: 'a',
      outcome: 'succeeded',
      confidence: 79,
    },
    {
      name: 'auto-approval: no confidence reported counts as 100',
      stages: [
        { key: 'a', status: 'running' },
        { key: 'b', status: 'pending', dependsOn: ['a'], autoApproveAt: 100 },
      ],
      finished: 'a',
      outcome: 'succeeded',
    },
    {
      name: 'auto-approval: a lower confidence from upstream is kept',
      stages: [
        { key: 'a', status: 'running' },
        { key: 'b', status: 'pending', dependsOn: ['a'], autoApproveAt: 80, confidence: 50 },
      ],
      finished: 'a',
      outcome: 'succeeded',
      confidence: 95,
    },
    {
      name: 'auto-approval switched off: a confidence reaching auto_approve_at is held',
      stages: [
        { key: 'a', status: 'running' },
        { key: 'b', status: 'pending', dependsOn: ['a'], autoApproveAt: 80 },
      ],
      finished: 'a',
      outcome: 'succeeded',
      confidence: 95,
      autoApproval: false,
    },
    {
      name: 'auto-approval switched off: no confidence reported (100) is held',
      stages: [
        { key: 'a', status: 'running' },
        { key: 'b', status: 'pending', dependsOn: ['a'], autoApproveAt: 0 },
      ],
      finished: 'a',
      outcome: 'succeeded',
      autoApproval: false,
    },
    {
      name: 'auto-approval switched off: a fan-in not yet ready is neither released nor held',
      stages: [
        { key: 'a', status: 'running' },
        { key: 'b', status: 'running' },
        { key: 'c', status: 'pending', dependsOn: ['a', 'b'] },
      ],
      finished: 'a',
      outcome: 'succeeded',
      autoApproval: false,
    },
    {
      name: 'a person always decides (auto_approve_at NULL)',
      stages: [
        { key: 'a', status: 'running' },
        { key: 'b', status: 'pending', dependsOn: ['a'], autoApproveAt: null },
      ],
      finished: 'a',
      outcome: 'succeeded',
    },
  ];

  for (const c of releaseCases) {
    it(`finish-stages.sql releases what the planner and admission would: ${c.name}`, async () => {
      const { ids } = await seed(c.stages);
      const { id, runId } = ids.get(c.finished)!;
      const finisher = c.autoApproval === false ? runsAutoApprovalOff : runs;
      const finish =
        c.outcome === 'succeeded'
          ? await finisher.succeed({ stageId: id, runId, output: {}, metrics: {}, confidence: c.confidence ?? null, gates: [] })
          : await finisher.fail({ stageId: id, runId, error: { code: 'X', message: 'x', retryable: false }, metrics: {}, final: true });
      const expected = domainRelease(c.stages, c.finished, c.outcome, c.confidence ?? null, c.autoApproval);
      expect(finish.recorded).to.equal(true);
      expect(finish.released.map((s) => s.key).sort(), 'released').to.deep.equal(expected.released);
      expect(finish.needsConductor, 'held for a decision').to.equal(expected.held);
    });
  }

  it('apply-plan.sql: the conductor’s skips, holds and pipeline outcome match the plan', async () => {
    const stages: SeedStage[] = [
      { key: 'a', status: 'failed' },
      { key: 'b', status: 'pending', dependsOn: ['a'] },
      { key: 'c', status: 'pending', dependsOn: ['b'] },
      { key: 'd', status: 'succeeded' },
      { key: 'e', status: 'pending', dependsOn: ['d'], autoApproveAt: null },
    ];
    const { pipelineId } = await seed(stages);
    const state = (await pipelines.readState(pipelineId))!;
    const plan = admitStages(planPipeline(state.stages, { cancelRequested: false }), state.stages, policy);
    const result = await pipelines.applyPlan(state, plan);
    expect(result.skipped.sort()).to.deep.equal([...plan.skip].sort());
    expect(result.decisions).to.have.length(plan.hold.length);
    const after = await statuses(pipelineId);
    for (const key of plan.skip) expect(after[key]).to.equal(STAGE_TRANSITIONS.skip.to);
    for (const h of plan.hold) expect(after[h.key]).to.equal(STAGE_TRANSITIONS.hold.to);
    // Applying again changes nothing: the guards refuse every move already made.
    const again = await pipelines.applyPlan(state, plan);
    expect(again.skipped).to.deep.equal([]);
    expect(again.decisions).to.deep.equal([]);
  });

  it('apply-plan.sql with auto-approval switched off: a stage its confidence would start waits, its decision saying why', async () => {
    const stages: SeedStage[] = [
      { key: 'a', status: 'succeeded' },
      { key: 'b', status: 'pending', dependsOn: ['a'], autoApproveAt: 80, confidence: 95 },
    ];
    const { pipelineId } = await seed(stages);
    const state = (await pipelines.readState(pipelineId))!;
    const planned = planPipeline(state.stages, { cancelRequested: false });
    expect(admitStages(planned, state.stages, policy).dispatch, 'switch on').to.deep.equal(['b']);
    const plan = admitStages(planned, state.stages, policy, { autoApproval: false });
    expect(plan.dispatch).to.deep.equal([]);
    expect(plan.hold.map((h) => h.key)).to.deep.equal(['b']);
    const result = await pipelines.applyPlan(state, plan);
    expect(result.dispatched).to.deep.equal([]);
    expect(result.decisions).to.have.length(1);
    expect((await statuses(pipelineId)).b).to.equal(STAGE_TRANSITIONS.hold.to);
    const { rows } = await db.pool.query<{ reason: string }>("SELECT evidence->>'reason' AS reason FROM decisions WHERE pipeline_id = $1", [
      pipelineId,
    ]);
    expect(rows[0]!.reason).to.match(/^auto-approval is switched off \(platform\.auto-approval\)/);
  });

  it('submission with auto-approval switched off: roots start pending as initialStageStatus says, none queued', async () => {
    const definition = pipelineDefinitionSchema.parse({
      name: 'agreement-submission',
      stages: [
        { key: 'a', agent: 'noop' },
        { key: 'b', agent: 'noop', dependsOn: ['a'] },
      ],
    });
    const submit = async (autoApproval: boolean) => {
      const repo = createPipelineRepository(db, { autoApproval: () => autoApproval });
      const id = randomUUID();
      const { pipeline } = await repo.createPipeline({
        id,
        definition,
        template: null,
        idempotencyKey: null,
        requestHash: null,
        stageIds: definition.stages.map(() => randomUUID()),
        policy: {
          version: policy.version,
          stages: definition.stages.map(() => ({ gates: [], category: 'technical_refactor', autoApproveAt: 85 })),
        },
        confidence: null,
        clarification: null,
        submitter: 'agreement',
        admission: null,
      });
      const expected = definition.stages.map((stage) =>
        initialStageStatus(
          { root: stage.dependsOn.length === 0, autoApproveAt: 85, confidence: null },
          { clarifying: false, admitted: true, autoApproval },
        ),
      );
      expect(pipeline.stages.map((stage) => stage.status)).to.deep.equal(expected);
      expect(Object.values(await statuses(id))).to.have.members(expected);
      return expected;
    };
    expect(await submit(true)).to.deep.equal(['queued', 'pending']);
    expect(await submit(false)).to.deep.equal(['pending', 'pending']);
  });

  it('cancel: the cancel statement and the conductor’s plan cancel exactly what the table allows', async () => {
    const stages: SeedStage[] = STAGE_STATUSES.map((status) => ({ key: status, status }));
    const { pipelineId } = await seed(stages);
    await pipelines.requestCancel(pipelineId);
    const after = await statuses(pipelineId);
    for (const status of STAGE_STATUSES) {
      const t = transition(status, 'cancel');
      expect(after[status], status).to.equal(t.ok ? t.to : status);
    }
    // The conductor's plan on the same state: nothing left to cancel but the running stage's end.
    const state = (await pipelines.readState(pipelineId))!;
    const plan = planPipeline(state.stages, { cancelRequested: state.cancelRequested });
    expect(plan.cancel).to.deep.equal([]);
  });

  it('apply-plan.sql cancels, in a cancelled pipeline, the stages the planner lists', async () => {
    const stages: SeedStage[] = STAGE_STATUSES.map((status) => ({ key: status, status }));
    const { pipelineId } = await seed(stages, { cancelRequested: true });
    const state = (await pipelines.readState(pipelineId))!;
    const plan = admitStages(planPipeline(state.stages, { cancelRequested: true }), state.stages, policy);
    const result = await pipelines.applyPlan(state, plan);
    expect(result.cancelled.sort()).to.deep.equal([...plan.cancel].sort());
    expect(plan.cancel.sort()).to.deep.equal(STAGE_STATUSES.filter((s) => transition(s, 'cancel').ok).sort());
  });

  /** A clarification asked by stage `stageKey`, or at submission (null: the pipeline's roots wait on it). */
  function question(pipelineId: string, stageKey: string | null): NewClarification {
    return {
      id: randomUUID(),
      pipelineId,
      stageKey,
      questions: [{ id: 'q1', reason: 'asked_by_agent', question: 'which one?' }],
      askedBy: stageKey ?? 'submission',
    };
  }

  /** Opens it with the statement the handler's suspend and the submission use (clarification.sql.ts). */
  async function openClarification(c: NewClarification, stageId: string | null): Promise<void> {
    const client = await db.pool.connect();
    try {
      await insertClarification(client, { ...c, stageId });
    } finally {
      client.release();
    }
  }

  /** An open decision (quorum 1) on the stage, as a hold leaves it; the row only, whatever the stage's status. */
  async function openDecision(pipelineId: string, stageId: string): Promise<string> {
    const id = `DEC-TEST-${randomUUID()}`;
    await db.pool.query(
      `INSERT INTO decisions (id, pipeline_id, stage_id, stage_key, category, confidence, threshold, policy_version, quorum, approvers,
                              evidence, on_deadline, deadline_at)
       VALUES ($1, $2, $3, 's', 'technical_refactor', 50, 80, $4, 1, ARRAY['lead'], '{}'::jsonb, 'reject', now() + interval '1 hour')`,
      [id, pipelineId, stageId, policy.version],
    );
    return id;
  }

  // Each transition row against its guarded statement: from an allowed status the row moves to
  // the row's target; from any other status the statement changes nothing.
  // `also`: a row the same statement serves too (a re-delivery under the same job is a claim as well).
  // `stages`: the pipeline seeded for a from-status (default: one stage `s` in it); `run` moves `s`.
  // `paused`: the pipeline is seeded paused; `via`: which statement, when two serve one row.
  type StageRef = { id: string; runId: string };
  const rows: {
    event: StageEvent;
    also?: StageEvent;
    via?: string;
    paused?: boolean;
    stages?: (status: StageStatus) => SeedStage[];
    run: (ids: StageRef, pipelineId: string, all: Map<string, StageRef>) => Promise<boolean>;
  }[] = [
    {
      event: 'claim',
      run: async ({ id }) => (await runs.claim({ stageId: id, jobId: `other-${id}`, runId: randomUUID(), workerId: 'w' })).claimed,
    },
    {
      event: 'reclaim',
      also: 'claim',
      run: async ({ id }) => (await runs.claim({ stageId: id, jobId: id, runId: randomUUID(), workerId: 'w' })).claimed,
    },
    {
      event: 'succeed',
      run: async ({ id, runId }) =>
        (await runs.succeed({ stageId: id, runId, output: {}, metrics: {}, confidence: null, gates: [] })).recorded,
    },
    {
      event: 'fail',
      run: async ({ id, runId }) =>
        (await runs.fail({ stageId: id, runId, error: { code: 'X', message: 'x', retryable: false }, metrics: {}, final: true })).recorded,
    },
    {
      event: 'retry',
      run: async ({ id, runId }) =>
        (await runs.fail({ stageId: id, runId, error: { code: 'X', message: 'x', retryable: true }, metrics: {}, final: false })).recorded,
    },
    {
      event: 'abort',
      run: async ({ id, runId }) =>
        (await runs.cancel({ stageId: id, runId, error: { code: 'STAGE_CANCELLED', message: 'x', retryable: false }, metrics: {} }))
          .recorded,
    },
    {
      event: 'release',
      run: async (_, pipelineId) => {
        const state = (await pipelines.readState(pipelineId))!;
        const plan = {
          dispatch: ['s'],
          skip: [],
          cancel: [],
          status: 'running' as const,
          failedStages: [],
          hold: [],
          policyVersion: policy.version,
        };
        return (await pipelines.applyPlan(state, plan)).dispatched.length > 0;
      },
    },
    {
      event: 'skip',
      run: async (_, pipelineId) => {
        const state = (await pipelines.readState(pipelineId))!;
        const plan = {
          dispatch: [],
          skip: ['s'],
          cancel: [],
          status: 'running' as const,
          failedStages: [],
          hold: [],
          policyVersion: policy.version,
        };
        return (await pipelines.applyPlan(state, plan)).skipped.length > 0;
      },
    },
    {
      event: 'hold',
      run: async (_, pipelineId) => {
        const state = (await pipelines.readState(pipelineId))!;
        const plan = {
          dispatch: [],
          skip: [],
          cancel: [],
          status: 'running' as const,
          failedStages: [],
          hold: [
            {
              key: 's',
              category: 'technical_refactor' as const,
              status: 'pending' as const,
              confidence: 50,
              threshold: 80,
              quorum: 1,
              approvers: ['lead'],
              onDeadline: 'reject' as const,
              deadlineMs: 60_000,
              reason: 'below threshold',
            },
          ],
          policyVersion: policy.version,
        };
        return (await pipelines.applyPlan(state, plan)).decisions.length > 0;
      },
    },
    {
      event: 'suspend',
      run: async ({ id, runId }, pipelineId) =>
        (await runs.suspend({ stageId: id, runId, metrics: {}, clarification: question(pipelineId, 's') })).recorded,
    },
    {
      event: 'approve',
      run: async ({ id }, pipelineId) => {
        const decisionId = await openDecision(pipelineId, id);
        const result = await decisions.answer({ id: decisionId, actor: 'lead', verdict: 'approve', comment: null });
        return result.kind === 'recorded' && result.released !== null;
      },
    },
    {
      event: 'reject',
      run: async ({ id }, pipelineId) => {
        const decisionId = await openDecision(pipelineId, id);
        await decisions.answer({ id: decisionId, actor: 'lead', verdict: 'reject', comment: 'no' });
        // The statement reports nothing of the stage: it moved iff it carries this decision's error.
        const { rows: stage } = await db.pool.query<{ decision: string | null }>(
          "SELECT error->>'decisionId' AS decision FROM stages WHERE id = $1",
          [id],
        );
        return stage[0]!.decision === decisionId;
      },
    },
    {
      event: 'answer',
      run: async ({ id }, pipelineId) => {
        const asked = question(pipelineId, 's');
        await openClarification(asked, id);
        const result = await clarifications.answer({ id: asked.id, actor: 'lead', answers: { q1: 'yes' }, merged: { q1: 'yes' } });
        return result.kind === 'answered' && result.released !== null;
      },
    },
    {
      event: 'answerRoots',
      run: async (_, pipelineId) => {
        const asked = question(pipelineId, null);
        await openClarification(asked, null);
        const result = await clarifications.answer({ id: asked.id, actor: 'lead', answers: { q1: 'yes' }, merged: { q1: 'yes' } });
        return result.kind === 'answered' && result.rootsReleased;
      },
    },
    {
      event: 'replay',
      run: async ({ id }, pipelineId) => {
        const [result] = await replays.reopen({
          pipelineId,
          targets: [{ stageId: id, jobId: id, fingerprint: 'f', failedAt: new Date() }],
          actor: 'ops',
          via: 'api',
        });
        return result!.kind === 'reopened';
      },
    },
    {
      // A skipped stage downstream of a failed one that is replayed.
      event: 'restore',
      stages: (status) => [
        { key: 'f', status: 'failed' },
        { key: 's', status, dependsOn: ['f'] },
      ],
      run: async (_, pipelineId, all) => {
        const failed = all.get('f')!.id;
        const [result] = await replays.reopen({
          pipelineId,
          targets: [{ stageId: failed, jobId: failed, fingerprint: 'f', failedAt: new Date() }],
          actor: 'ops',
          via: 'api',
        });
        return result!.kind === 'reopened' && result.restored.includes('s');
      },
    },
    {
      event: 'pause',
      via: 'the pause statement',
      run: async (_, pipelineId) => (await pauses.pause({ pipelineId, by: 'ops', reason: null }))!.held.includes('s'),
    },
    {
      // A job delivered for a stage of a paused pipeline: the claim holds it instead of running it.
      event: 'pause',
      also: 'reclaim',
      via: 'the claim of a paused pipeline',
      paused: true,
      run: async ({ id }) => {
        const before = (await db.pool.query<{ status: StageStatus }>('SELECT status FROM stages WHERE id = $1', [id])).rows[0]!.status;
        // Delivered under the stage's own job id, so a running stage is re-claimed (its worker was
        // lost): it was running before the pause, and running stages go on.
        const claim = await runs.claim({ stageId: id, jobId: id, runId: randomUUID(), workerId: 'w' });
        if (claim.claimed) return before === 'running';
        return before !== 'paused' && claim.status === 'paused';
      },
    },
    {
      event: 'resume',
      paused: true,
      run: async ({ id }, pipelineId) => {
        const outcome = (await pauses.resume({ pipelineId, by: 'ops', jobSuffix: 'resume-test' }))!;
        const queued = outcome.queued.find((s) => s.id === id);
        // Queued again under a job id of its own.
        if (queued) expect(queued.jobId).to.equal(`${id}-resume-test`);
        return queued !== undefined;
      },
    },
    {
      event: 'deadLetter',
      run: async ({ id }, pipelineId) => {
        // The stage as the reconciler read it (its job and attempt), so only the status guard decides.
        const { rows: read } = await db.pool.query<Parameters<typeof toDispatched>[0] & { id: string; current_run_id: string | null }>(
          "SELECT id, key, agent, retry_attempts, retry_backoff, job_id, current_run_id, 'normal' AS priority FROM stages WHERE id = $1",
          [id],
        );
        const row = read[0]!;
        const stage = {
          ...toDispatched(row),
          pipelineId,
          status: 'running' as const,
          jobId: row.job_id ?? row.id,
          currentRunId: row.current_run_id,
          runWorkerId: 'worker-0',
        };
        return reconciles.failDeadLettered(stage, { code: 'JOB_STALLED', message: 'stalled too often', retryable: false });
      },
    },
  ];

  for (const { event, also, via, paused, stages, run } of rows) {
    it(`transition row "${event}"${via ? ` (${via})` : ''}: its statement moves exactly the allowed statuses`, async () => {
      for (const status of STAGE_STATUSES) {
        const { pipelineId, ids } = await seed(stages ? stages(status) : [{ key: 's', status }], { paused });
        const moved = await run(ids.get('s')!, pipelineId, ids);
        const own = transition(status, event);
        const expected = own.ok || !also ? own : transition(status, also);
        expect(moved, `${status} → ${event}`).to.equal(expected.ok);
        const after = (await statuses(pipelineId)).s;
        expect(after, `${status} → ${event}`).to.equal(expected.ok ? expected.to : status);
      }
    });
  }

  describe('in batches (group commit): one statement for finishes and claims arriving together', () => {
    /** A repository over the same pool that counts the statements it sends, and one that never batches. */
    let statementsSent = 0;
    let batched: StageRunRepository;
    let oneByOne: StageRunRepository;
    before(() => {
      const counting = new Proxy(db.pool, {
        get(target, property) {
          if (property !== 'query') return Reflect.get(target, property, target) as unknown;
          return (...args: Parameters<typeof target.query>) => {
            statementsSent++;
            return (target.query as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
      batched = createStageRunRepository({ ...db, pool: counting });
      oneByOne = createStageRunRepository(db, { groupCommit: { maxBatch: 1, maxInFlight: 1 } });
    });

    const fanIn = (confidences: { a: number | null; b: number | null }, autoApproveAt: number | null): SeedStage[] => [
      { key: 'a', status: 'running' },
      { key: 'b', status: 'running' },
      { key: 'c', status: 'pending', dependsOn: ['a', 'b'], autoApproveAt },
      { key: 'd', status: 'pending', dependsOn: ['a'] },
      { key: 'e', status: 'pending', dependsOn: ['c'] },
    ];
    const fanInCases = [
      { name: 'both confident', confidences: { a: null, b: null }, autoApproveAt: 0 },
      { name: 'one below the threshold: held for a person', confidences: { a: 90, b: 60 }, autoApproveAt: 70 },
      { name: 'both above it', confidences: { a: 95, b: 80 }, autoApproveAt: 70 },
    ];

    for (const c of fanInCases) {
      it(`two dependencies of a fan-in finishing in one batch end as they would one by one: ${c.name}`, async () => {
        const stages = fanIn(c.confidences, c.autoApproveAt);
        const together = await seed(stages);
        const apart = await seed(stages);
        const finish = (repo: StageRunRepository, ids: Map<string, { id: string; runId: string }>, key: 'a' | 'b') =>
          repo.succeed({ ...stageRef(ids, key), output: { key }, metrics: {}, confidence: c.confidences[key], gates: [] });

        const sentBefore = statementsSent;
        // Submitted in one tick: the group commit sends them as one statement.
        const [a, b] = await Promise.all([finish(batched, together.ids, 'a'), finish(batched, together.ids, 'b')]);
        expect(statementsSent - sentBefore, 'statements sent').to.equal(1);
        const first = await finish(oneByOne, apart.ids, 'a');
        const second = await finish(oneByOne, apart.ids, 'b');

        expect([a.recorded, b.recorded]).to.deep.equal([true, true]);
        const releasedTogether = [...a.released, ...b.released].map((s) => s.key).sort();
        const releasedApart = [...first.released, ...second.released].map((s) => s.key).sort();
        // c is released once, by one of the two: its job is added once.
        expect(releasedTogether).to.deep.equal(releasedApart);
        expect(a.needsConductor || b.needsConductor).to.equal(first.needsConductor || second.needsConductor);
        expect(await stageRows(together.pipelineId)).to.deep.equal(await stageRows(apart.pipelineId));
        expect(await eventTypes(together.pipelineId)).to.deep.equal(await eventTypes(apart.pipelineId));
      });
    }

    it('an attempt that no longer owns its stage records nothing; the others in its batch are recorded', async () => {
      const { ids, pipelineId } = await seed([
        { key: 'a', status: 'running' },
        { key: 'b', status: 'running' },
      ]);
      const [stale, owner] = await Promise.all([
        batched.succeed({ stageId: stageRef(ids, 'a').stageId, runId: randomUUID(), output: {}, metrics: {}, confidence: null, gates: [] }),
        batched.succeed({ ...stageRef(ids, 'b'), output: {}, metrics: {}, confidence: null, gates: [] }),
      ]);
      expect(stale.recorded).to.equal(false);
      expect(owner.recorded).to.equal(true);
      expect(await statuses(pipelineId)).to.deep.equal({ a: 'running', b: 'succeeded' });
    });

    it('an attempt whose output Postgres refuses fails alone: the batch is retried one by one', async () => {
      const { ids, pipelineId } = await seed([
        { key: 'a', status: 'running' },
        { key: 'b', status: 'running' },
      ]);
      const results = await Promise.allSettled([
        // jsonb refuses the NUL character: the whole statement fails.
        batched.succeed({ ...stageRef(ids, 'a'), output: { text: 'nul \u0000 here' }, metrics: {}, confidence: null, gates: [] }),
        batched.succeed({ ...stageRef(ids, 'b'), output: { ok: true }, metrics: {}, confidence: null, gates: [] }),
      ]);
      expect(results[0].status).to.equal('rejected');
      expect(results[1].status).to.equal('fulfilled');
      expect(await statuses(pipelineId)).to.deep.equal({ a: 'running', b: 'succeeded' });
    });

    it('the last stages of a pipeline finishing together see it settled in their own statement', async () => {
      const { ids } = await seed([
        { key: 'a', status: 'running' },
        { key: 'b', status: 'running' },
        { key: 'c', status: 'succeeded' },
      ]);
      const [a, b] = await Promise.all(
        (['a', 'b'] as const).map((key) =>
          batched.succeed({ ...stageRef(ids, key), output: {}, metrics: {}, confidence: null, gates: [] }),
        ),
      );
      expect([a.settled, b.settled]).to.deep.equal([true, true]);
    });

    it('a retry in the same batch keeps the pipeline unsettled', async () => {
      const { ids } = await seed([
        { key: 'a', status: 'running' },
        { key: 'b', status: 'running' },
      ]);
      const [a, b] = await Promise.all([
        batched.succeed({ ...stageRef(ids, 'a'), output: {}, metrics: {}, confidence: null, gates: [] }),
        batched.fail({ ...stageRef(ids, 'b'), error: { code: 'X', message: 'x', retryable: true }, metrics: {}, final: false }),
      ]);
      expect([a.settled, b.settled]).to.deep.equal([false, false]);
    });

    it('claims arriving together are one statement; each delivery gets its own stage', async () => {
      const { ids, pipelineId } = await seed([
        { key: 'a', status: 'queued' },
        { key: 'b', status: 'queued' },
        { key: 'c', status: 'succeeded' },
      ]);
      const sentBefore = statementsSent;
      const claims = await Promise.all(
        (['a', 'b', 'c'] as const).map((key) =>
          batched.claim({
            stageId: stageRef(ids, key).stageId,
            jobId: stageRef(ids, key).stageId,
            runId: randomUUID(),
            workerId: `w-${key}`,
          }),
        ),
      );
      // One claim statement; c, not queued, needs its status read.
      expect(statementsSent - sentBefore).to.equal(2);
      expect(claims.map((c) => (c.claimed ? c.stage.stageKey : c.status))).to.deep.equal(['a', 'b', 'succeeded']);
      const { rows } = await db.pool.query<{ stage_key: string; worker: string }>(
        `SELECT stage_key, data->>'workerId' AS worker FROM pipeline_events WHERE pipeline_id = $1 AND type = 'stage.started' ORDER BY stage_key`,
        [pipelineId],
      );
      expect(rows).to.deep.equal([
        { stage_key: 'a', worker: 'w-a' },
        { stage_key: 'b', worker: 'w-b' },
      ]);
    });

    it('a batch of claims with a stage of a paused pipeline: that one is held (paused), the others claimed, in one statement', async () => {
      const running = await seed([{ key: 'a', status: 'queued' }]);
      const paused = await seed([{ key: 'b', status: 'queued' }], { paused: true });
      const deliveries = [stageRef(running.ids, 'a').stageId, stageRef(paused.ids, 'b').stageId];
      const claims = await Promise.all(
        deliveries.map((stageId) => batched.claim({ stageId, jobId: stageId, runId: randomUUID(), workerId: 'w' })),
      );
      expect(claims.map((c) => (c.claimed ? c.stage.stageKey : c.status))).to.deep.equal(['a', 'paused']);
      expect(await statuses(running.pipelineId)).to.deep.equal({ a: 'running' });
      expect(await statuses(paused.pipelineId)).to.deep.equal({ b: 'paused' });
      // Nothing of the held stage started: no attempt, no stage.started event.
      const { rows } = await db.pool.query<{ attempts: number; started: boolean }>(
        `SELECT attempts, EXISTS (SELECT 1 FROM pipeline_events e WHERE e.pipeline_id = s.pipeline_id AND e.type = 'stage.started') AS started
         FROM stages s WHERE s.pipeline_id = $1`,
        [paused.pipelineId],
      );
      expect(rows).to.deep.equal([{ attempts: 0, started: false }]);
    });

    function stageRef(ids: Map<string, { id: string; runId: string }>, key: string) {
      const ref = ids.get(key)!;
      return { stageId: ref.id, runId: ref.runId };
    }

    /** What a finish leaves on the stage rows, without ids and times. */
    async function stageRows(pipelineId: string) {
      const { rows } = await db.pool.query(
        `SELECT key, status, waiting_on, confidence, output, error, (finished_at IS NOT NULL) AS finished, (queued_at IS NOT NULL) AS queued
         FROM stages WHERE pipeline_id = $1 ORDER BY key`,
        [pipelineId],
      );
      return rows;
    }

    async function eventTypes(pipelineId: string) {
      const { rows } = await db.pool.query<{ type: string; stage_key: string }>(
        'SELECT type, stage_key FROM pipeline_events WHERE pipeline_id = $1 ORDER BY stage_key, id',
        [pipelineId],
      );
      return rows;
    }
  });

  describe('the settled check: the finish statement and the re-check after it follow MOVING_STAGE_STATUSES', () => {
    // The finishing stage sits in the middle; the other stage before it, far before it, or after
    // it: the check walks the positions backwards and must find a moving stage wherever it is.
    for (const status of STAGE_STATUSES) {
      const expected = !MOVING_STAGE_STATUSES.includes(status);
      it(`another stage ${status}: settled ${expected}, wherever it sits`, async () => {
        for (const at of [0, 2, 5]) {
          const stages: SeedStage[] = Array.from({ length: 6 }, (_, i) => ({ key: `s${i}`, status: 'succeeded' }));
          stages[3] = { key: 's3', status: 'running' };
          stages[at] = { key: `s${at}`, status };
          const { ids, pipelineId } = await seed(stages);
          const ref = ids.get('s3')!;
          const finished = await runs.succeed({ stageId: ref.id, runId: ref.runId, output: {}, metrics: {}, confidence: null, gates: [] });
          expect(finished.recorded, `finish recorded, other stage at ${at}`).to.equal(true);
          expect(finished.settled, `finish statement, other stage at ${at}`).to.equal(expected);
          expect(await runs.settled(pipelineId), `re-check, other stage at ${at}`).to.equal(expected);
        }
      });
    }
  });

  // A describe of its own, declared last, so that it runs after the batches above too.
  describe('the events', () => {
    it('every event the statements above wrote parses with its payload schema', async () => {
      const { rows: events } = await db.pool.query(
        'SELECT id::text, pipeline_id, type, stage_key, actor, data, created_at FROM pipeline_events ORDER BY id',
      );
      expect(events.length).to.be.greaterThan(10);
      for (const row of events) {
        const event = parseEventRow(row);
        expect(event.type, JSON.stringify(row)).to.not.equal('unknown');
      }
      // Among them the payloads built in SQL (clarification.requested, the reconciler's stage.finished).
      expect(new Set(events.map((e: { type: string }) => e.type))).to.include.members([
        'stage.finished',
        'decision.requested',
        'decision.resolved',
        'clarification.requested',
        'clarification.resolved',
        'dlq.replayed',
        'pipeline.paused',
        'pipeline.resumed',
        'stage.paused',
      ]);
      const deadLettered = events.filter(
        (e: { type: string; data: { error?: { code?: string } } }) => e.data.error?.code === 'JOB_STALLED',
      );
      expect(deadLettered.map((e: { type: string }) => e.type)).to.deep.equal(['stage.finished']);
    });
  });
});
