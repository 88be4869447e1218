// Shadow runs end to end: with `agent.<type>.shadow` at 100 % (a FLAGS_FILE), the agent's `next`
// version runs beside the incumbent on every stage of its type; the pipeline follows the
// incumbent alone, shadow_runs holds the candidate's output and verdicts, and
// GET /api/v1/agents/:type/canary counts the agreements and lists the disagreements. A candidate
// that throws fails nothing; at 0 % nothing runs in shadow.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { expect } from 'chai';
import { z } from 'zod';
import { BUILT_IN_AGENTS } from '../../src/agents/catalog.js';
import { defineAgent } from '../../src/agents/define-agent.js';
import { agentQueueName } from '../../src/infra/queue/queue-names.js';
import { inspectAgent } from '../support/agents.js';
import { startHarness, type Harness } from '../support/harness.js';
import { expectError, expectValidationError, request, waitForPipeline, type Loose } from '../support/http.js';

const PIPELINES = '/api/v1/pipelines';
const COVERAGE_GATE = [{ metric: 'coverage', operator: '>=', threshold: 80 }];

const probeInput = z.object({ coverage: z.number(), candidateCoverage: z.number().optional(), candidateThrows: z.boolean().optional() });
const probeOutput = z.object({ version: z.string(), coverage: z.number() });

/**
 * Reports `coverage` (incumbent 1.0.0) or `candidateCoverage` (candidate 1.1.0, the same when
 * absent); the candidate throws when `candidateThrows`.
 */
function probe(type: string) {
  return defineAgent({
    type,
    version: '1.0.0',
    input: probeInput,
    output: probeOutput,
    handler: async ({ input, reportMetrics }) => {
      reportMetrics({ coverage: input.coverage });
      return { version: '1.0.0', coverage: input.coverage };
    },
    next: {
      version: '1.1.0',
      handler: async ({ input, reportMetrics }) => {
        if (input.candidateThrows) throw new Error('the candidate has a bug');
        const coverage = input.candidateCoverage ?? input.coverage;
        reportMetrics({ coverage });
        return { version: '1.1.0', coverage };
      },
    },
  });
}

const rollout = (name: string, percent: number) => ({
  name,
  enabled: true,
  strategies: [
    { name: 'flexibleRollout', parameters: { rollout: String(percent), stickiness: 'pipelineId', groupId: name }, constraints: [] },
  ],
  variants: [],
});

interface ShadowRow {
  run_id: string;
  stage_key: string;
  incumbent_version: string;
  candidate_version: string;
  incumbent_status: string;
  candidate_status: string;
  incumbent_gates: Loose[];
  candidate_gates: Loose[];
  candidate_output: Loose | null;
  candidate_error: Loose | null;
  candidate_metrics: Loose | null;
  agreed: boolean;
  disagreements: string[];
  outputs_equal: boolean;
}

describe('shadow runs (e2e)', function () {
  this.timeout(60_000);
  let h: Harness;
  let dir: string;

  const submit = async (name: string, stages: unknown[]): Promise<string> => {
    const res = await request(h.baseUrl, 'POST', PIPELINES, { name, stages });
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    return res.body.id as string;
  };
  const shadowRows = async (pipelineId: string): Promise<ShadowRow[]> =>
    (await h.db.pool.query<ShadowRow>('SELECT * FROM shadow_runs WHERE pipeline_id = $1 ORDER BY finished_at', [pipelineId])).rows;
  /** The shadow record comes after the incumbent's commit (best effort, off the pipeline's path): wait for it. */
  const waitForShadow = async (pipelineId: string, count = 1): Promise<ShadowRow[]> => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const rows = await shadowRows(pipelineId);
      if (rows.length >= count) return rows;
      if (Date.now() > deadline) throw new Error(`no shadow run recorded for pipeline ${pipelineId}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const runsOf = async (id: string): Promise<Loose[]> => (await request(h.baseUrl, 'GET', `${PIPELINES}/${id}/runs`)).body.items as Loose[];
  const probeStage = (input: Loose) => ({ key: 'check', agent: 'shadow_probe', input, gates: COVERAGE_GATE, retry: { attempts: 1 } });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shadow-flags-'));
    const flagsFile = join(dir, 'flags.json');
    writeFileSync(
      flagsFile,
      JSON.stringify({ version: 2, features: [rollout('agent.shadow_probe.shadow', 100), rollout('agent.shadow_quiet.shadow', 0)] }),
    );
    h = await startHarness({
      agents: [...BUILT_IN_AGENTS, inspectAgent, probe('shadow_probe'), probe('shadow_quiet')],
      env: { FLAGS_FILE: flagsFile },
    });
  });
  after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a candidate failing a gate the incumbent passes: the pipeline follows the incumbent, the shadow run records the candidate', async () => {
    const id = await submit('shadow-disagree', [
      probeStage({ coverage: 90, candidateCoverage: 70 }),
      { key: 'after', agent: 'inspect', dependsOn: ['check'] },
    ]);

    const done = await waitForPipeline(h.baseUrl, id);
    const [row] = await waitForShadow(id);

    expect(done.status).to.equal('succeeded');
    // The dependant got the incumbent's output, never the candidate's.
    const after = (done.stages as Loose[]).find((s) => s.key === 'after')!;
    expect(after.output.dependencies.check).to.deep.equal({ version: '1.0.0', coverage: 90 });
    const checkRun = (await runsOf(id)).find((r) => r.stageKey === 'check')!;
    expect(checkRun.status).to.equal('succeeded');
    expect(row).to.include({
      run_id: checkRun.id,
      stage_key: 'check',
      incumbent_version: '1.0.0',
      candidate_version: '1.1.0',
      incumbent_status: 'succeeded',
      candidate_status: 'gate_failed',
      agreed: false,
      outputs_equal: false,
    });
    expect(row!.candidate_output).to.deep.equal({ version: '1.1.0', coverage: 70 });
    expect(row!.candidate_metrics).to.include({ coverage: 70 });
    expect(row!.candidate_error).to.equal(null);
    expect(row!.incumbent_gates.map((g) => [g.metric, g.value, g.verdict])).to.deep.equal([['coverage', 90, 'passed']]);
    expect(row!.candidate_gates.map((g) => [g.metric, g.value, g.verdict])).to.deep.equal([['coverage', 70, 'failed']]);
    expect(row!.disagreements).to.deep.equal([
      'gate coverage: incumbent pass, candidate fail',
      'gates overall: incumbent pass, candidate fail',
    ]);
  });

  it('an incumbent failing a gate the candidate passes: the pipeline fails as the incumbent says, the disagreement is recorded', async () => {
    const id = await submit('shadow-incumbent-fails', [probeStage({ coverage: 70, candidateCoverage: 95 })]);

    const done = await waitForPipeline(h.baseUrl, id);
    const [row] = await waitForShadow(id);

    expect(done.status).to.equal('failed');
    const check = (done.stages as Loose[]).find((s) => s.key === 'check')!;
    expect(check.error).to.include({ code: 'GATE_FAILED' });
    expect(row).to.include({ incumbent_status: 'gate_failed', candidate_status: 'succeeded', agreed: false });
    expect(row!.disagreements).to.deep.equal([
      'gate coverage: incumbent fail, candidate pass',
      'gates overall: incumbent fail, candidate pass',
    ]);
  });

  it('a candidate that throws: the stage succeeds on its one attempt, the shadow run records the failure', async () => {
    const id = await submit('shadow-candidate-throws', [probeStage({ coverage: 90, candidateThrows: true })]);

    const done = await waitForPipeline(h.baseUrl, id);
    const [row] = await waitForShadow(id);

    expect(done.status).to.equal('succeeded');
    const check = (done.stages as Loose[]).find((s) => s.key === 'check')!;
    expect(check).to.include({ status: 'succeeded', attempts: 1 });
    expect(check.output).to.deep.equal({ version: '1.0.0', coverage: 90 });
    expect(row).to.include({ incumbent_status: 'succeeded', candidate_status: 'failed', agreed: false });
    expect(row!.candidate_error).to.include({ code: 'AGENT_ERROR', message: 'the candidate has a bug' });
    expect(row!.candidate_output).to.equal(null);
    expect(row!.disagreements).to.deep.equal(['candidate failed: AGENT_ERROR']);
  });

  it('shadow at 0 %: the stages run the incumbent alone and nothing is recorded', async () => {
    const ids = await Promise.all(
      [1, 2, 3].map((n) =>
        submit(`shadow-quiet-${n}`, [{ key: 'check', agent: 'shadow_quiet', input: { coverage: 90 }, gates: COVERAGE_GATE }]),
      ),
    );

    const done = await Promise.all(ids.map((id) => waitForPipeline(h.baseUrl, id)));
    // A stage's job completes only after its shadow run (if any) settled: once every job has, a
    // shadow row would be there.
    const queue = new Queue(agentQueueName('shadow_quiet'), { connection: h.connection(), prefix: h.config.QUEUE_PREFIX });
    try {
      for (const stageId of done.map((p) => (p.stages as Loose[])[0]!.id as string)) {
        while (['active', 'waiting', 'prioritized', 'delayed'].includes(await queue.getJobState(stageId)))
          await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await queue.close();
    }

    expect(done.map((p) => p.status)).to.deep.equal(['succeeded', 'succeeded', 'succeeded']);
    for (const id of ids) expect(await shadowRows(id)).to.deep.equal([]);
    const canary = await request(h.baseUrl, 'GET', '/api/v1/agents/shadow_quiet/canary');
    expect(canary.status).to.equal(200);
    expect(canary.body).to.deep.include({
      agentType: 'shadow_quiet',
      incumbentVersion: '1.0.0',
      candidateVersion: '1.1.0',
      shadowFlag: { name: 'agent.shadow_quiet.shadow', defined: true },
      window: { since: null, runs: 0 },
      agreed: 0,
      disagreed: 0,
      agreementRate: null,
      disagreements: [],
    });
  });

  describe('GET /api/v1/agents/:type/canary', () => {
    it('counts agreements and lists the disagreements newest first, for a viewer too', async () => {
      const since = new Date().toISOString();
      const agreeing = await submit('canary-agree', [probeStage({ coverage: 85 })]);
      await waitForShadow(agreeing);
      const disagreeing = await submit('canary-disagree', [probeStage({ coverage: 85, candidateCoverage: 60 })]);
      await waitForShadow(disagreeing);
      const throwing = await submit('canary-throws', [probeStage({ coverage: 85, candidateThrows: true })]);
      await waitForShadow(throwing);
      const viewer = await h.createKey('canary-viewer', ['viewer']);

      const res = await request(h.baseUrl, 'GET', `/api/v1/agents/shadow_probe/canary?since=${encodeURIComponent(since)}`, undefined, {
        authorization: `Bearer ${viewer.key}`,
      });

      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.deep.include({
        agentType: 'shadow_probe',
        incumbentVersion: '1.0.0',
        candidateVersion: '1.1.0',
        shadowFlag: { name: 'agent.shadow_probe.shadow', defined: true },
        window: { since, runs: 3 },
        agreed: 1,
        disagreed: 2,
      });
      expect(res.body.agreementRate).to.be.closeTo(1 / 3, 1e-9);
      const [latest, earlier] = res.body.disagreements as Loose[];
      expect(res.body.disagreements).to.have.length(2);
      expect(latest).to.deep.include({ pipelineId: throwing, stageKey: 'check', reasons: ['candidate failed: AGENT_ERROR'] });
      expect(latest!.incumbent.status).to.equal('succeeded');
      expect(latest!.candidate).to.deep.include({ status: 'failed', gates: [] });
      expect(latest!.candidate.error).to.include({ code: 'AGENT_ERROR' });
      expect(earlier).to.deep.include({
        pipelineId: disagreeing,
        reasons: ['gate coverage: incumbent pass, candidate fail', 'gates overall: incumbent pass, candidate fail'],
      });
      expect(earlier!.candidate.gates[0]).to.include({ metric: 'coverage', value: 60, verdict: 'failed' });
      expect(earlier!.candidate.error).to.equal(null);
      const checkRun = (await runsOf(disagreeing)).find((r) => r.stageKey === 'check')!;
      expect(earlier!.runId).to.equal(checkRun.id);
    });

    it('?limit= caps the disagreements listed, not the counts; a `since` after every run counts none', async () => {
      const limited = await request(h.baseUrl, 'GET', '/api/v1/agents/shadow_probe/canary?limit=1');
      const future = await request(
        h.baseUrl,
        'GET',
        `/api/v1/agents/shadow_probe/canary?since=${encodeURIComponent('2999-01-01T00:00:00Z')}`,
      );

      expect(limited.status).to.equal(200);
      expect(limited.body.disagreements).to.have.length(1);
      expect(limited.body.disagreed).to.be.greaterThan(1);
      expect(future.body).to.deep.include({
        window: { since: '2999-01-01T00:00:00.000Z', runs: 0 },
        agreed: 0,
        disagreed: 0,
        agreementRate: null,
      });
    });

    it('an agent without a `next` version: no candidate, no runs; the flag shown as not defined', async () => {
      const res = await request(h.baseUrl, 'GET', '/api/v1/agents/noop/canary');

      expect(res.status).to.equal(200);
      expect(res.body).to.deep.include({
        agentType: 'noop',
        candidateVersion: null,
        shadowFlag: { name: 'agent.noop.shadow', defined: false },
        window: { since: null, runs: 0 },
        agreementRate: null,
      });
    });

    it('an unknown agent type: 404 AGENT_NOT_FOUND', async () => {
      expectError(await request(h.baseUrl, 'GET', '/api/v1/agents/no_such_agent/canary'), 404, 'AGENT_NOT_FOUND');
    });

    it('a bad query: 400 naming the field (limit out of range, since not a date or after year 9999 in UTC, an unknown parameter)', async () => {
      expectValidationError(await request(h.baseUrl, 'GET', '/api/v1/agents/shadow_probe/canary?limit=0'), 'limit');
      expectValidationError(await request(h.baseUrl, 'GET', '/api/v1/agents/shadow_probe/canary?limit=101'), 'limit');
      expectValidationError(await request(h.baseUrl, 'GET', '/api/v1/agents/shadow_probe/canary?since=yesterday'), 'since');
      // 10000-01-01T23:58:59Z in UTC, which the answer's `window.since` could only write as `+010000-…`.
      const late = encodeURIComponent('9999-12-31T23:59:59-23:59');
      expectValidationError(await request(h.baseUrl, 'GET', `/api/v1/agents/shadow_probe/canary?since=${late}`), 'since');
      expectError(await request(h.baseUrl, 'GET', '/api/v1/agents/shadow_probe/canary?window=7d'), 400, 'VALIDATION_FAILED');
    });

    it('without a credential: 401', async () => {
      const res = await request(h.baseUrl, 'GET', '/api/v1/agents/shadow_probe/canary', undefined, { authorization: '' });

      expect(res.status).to.equal(401);
    });
  });
});
