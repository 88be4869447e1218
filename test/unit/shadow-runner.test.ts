// The shadow runner (src/services/shadow-runner.ts) with stand-in flags and records: when a
// candidate runs, what it is given, and how each way it can end is recorded (or not) without
// ever reaching the caller.
import { expect } from 'chai';
import { z } from 'zod';
import { defineAgent, type AgentRunContext } from '../../src/agents/define-agent.js';
import type { FlagContext } from '../../src/domain/feature-flags.js';
import { jsonObjectSchema } from '../../src/domain/json.js';
import type { Logger } from '../../src/domain/logger.js';
import { createShadowRunner, type ShadowRunnerDeps } from '../../src/services/shadow-runner.js';
import type { ShadowRunRecord } from '../../src/services/shadow.ports.js';
import type { ClaimedStage } from '../../src/services/stage-run.ports.js';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

const stage = (overrides: Partial<ClaimedStage> = {}): ClaimedStage => ({
  pipelineId: '11111111-1111-4111-8111-111111111111',
  stageId: '22222222-2222-4222-8222-222222222222',
  stageKey: 'check',
  agent: 'probe',
  runId: '33333333-3333-4333-8333-333333333333',
  attempt: 1,
  input: { coverage: 90 },
  contractVersion: 1,
  pipelineInput: { repo: 'x' },
  dependencies: { plan: { steps: 2 } },
  upstream: { plan: { agent: 'planner', contractVersion: 1, output: { steps: 2 } } },
  timeoutMs: null,
  gates: [{ metric: 'coverage', operator: '>=', threshold: 80, severity: 'blocking' }],
  ...overrides,
});

type Candidate = (ctx: AgentRunContext & { input: Record<string, unknown> }) => Promise<Record<string, unknown>>;

/** An agent whose incumbent reports the input's coverage and whose candidate does what the test says. */
function probeAgent(candidate: Candidate) {
  return defineAgent({
    type: 'probe',
    version: '1.0.0',
    input: jsonObjectSchema,
    output: z.record(z.string(), z.unknown()),
    handler: async ({ input, reportMetrics }) => {
      reportMetrics({ coverage: input.coverage as number });
      return { version: 'old' };
    },
    next: { version: '1.1.0', handler: candidate },
  });
}

function harness(options: { flagOn?: boolean; recordFails?: boolean; graceMs?: number } = {}) {
  const records: ShadowRunRecord[] = [];
  const asked: { name: string; ctx: FlagContext }[] = [];
  const warnings: string[] = [];
  const deps: ShadowRunnerDeps = {
    flags: {
      isEnabled: (name, ctx) => {
        asked.push({ name, ctx });
        return options.flagOn ?? true;
      },
      variant: () => null,
      onChange: () => () => undefined,
    },
    records: {
      record: (run) => {
        if (options.recordFails) return Promise.reject(new Error('postgres is down'));
        records.push(run);
        return Promise.resolve(true);
      },
    },
    logger: { ...silent, warn: (message) => warnings.push(message) },
    newId: () => '44444444-4444-4444-8444-444444444444',
    graceMs: options.graceMs ?? 5_000,
  };
  return { runner: createShadowRunner(deps), records, asked, warnings };
}

const incumbentPassed = { kind: 'ran' as const, output: { version: 'old' }, gates: [] };
const startArgs = (agent: ReturnType<typeof probeAgent>, signal = new AbortController().signal, s = stage()) => ({
  agent,
  stage: s,
  version: agent.version,
  settings: { temperature: 0.2 },
  maxAttempts: 3,
  signal,
});

describe('shadow runner (unit)', () => {
  describe('when a candidate runs', () => {
    it('runs when the pipeline is in the shadow flag, asked with the pipeline id and agent type', () => {
      const { runner, asked } = harness();
      const agent = probeAgent(async () => ({}));

      const run = runner.start(startArgs(agent));

      expect(run).to.not.equal(null);
      expect(asked).to.deep.equal([
        { name: 'agent.probe.shadow', ctx: { pipelineId: '11111111-1111-4111-8111-111111111111', agentType: 'probe' } },
      ]);
    });

    it('does not run when the flag is off, when the incumbent already runs `next`, or without a `next` version', () => {
      const off = harness({ flagOn: false });
      const agent = probeAgent(async () => ({}));
      const plain = defineAgent({
        type: 'plain',
        version: '1.0.0',
        input: jsonObjectSchema,
        output: jsonObjectSchema,
        handler: async () => ({}),
      });
      const on = harness();

      expect(off.runner.start(startArgs(agent))).to.equal(null);
      expect(on.runner.start({ ...startArgs(agent), version: '1.1.0' })).to.equal(null);
      expect(on.runner.start({ ...startArgs(agent), agent: plain })).to.equal(null);
      // The version checks come first: the flag is not even asked for them.
      expect(on.asked).to.have.length(0);
    });

    it('gives the candidate the incumbent’s input, dependencies and settings, a no-op progress and its own signal', async () => {
      const { runner, records } = harness();
      let seen: (AgentRunContext & { input: Record<string, unknown> }) | undefined;
      const delivery = new AbortController();
      const agent = probeAgent(async (ctx) => {
        seen = ctx;
        await ctx.progress(50);
        ctx.reportMetrics({ coverage: 95 });
        return { version: 'new' };
      });

      const run = runner.start(startArgs(agent, delivery.signal))!;
      run.incumbent(incumbentPassed);
      await run.settle();

      expect(seen!.input).to.deep.equal({ coverage: 90 });
      expect(seen!.dependencies).to.deep.equal({ plan: { steps: 2 } });
      expect(seen!.pipelineInput).to.deep.equal({ repo: 'x' });
      expect(seen!.settings).to.deep.equal({ temperature: 0.2 });
      expect(seen!.maxAttempts).to.equal(3);
      expect(seen!.signal).to.not.equal(delivery.signal);
      expect(records).to.have.length(1);
    });
  });

  describe('what is recorded', () => {
    it('a candidate whose gate fails where the incumbent’s held: both sides, its output and metrics, the reasons', async () => {
      const { runner, records } = harness();
      const agent = probeAgent(async ({ reportMetrics }) => {
        reportMetrics({ coverage: 70 });
        return { version: 'new' };
      });

      const run = runner.start(startArgs(agent))!;
      run.incumbent({
        kind: 'ran',
        output: { version: 'old' },
        gates: [{ metric: 'coverage', operator: '>=', threshold: 80, severity: 'blocking', value: 90, verdict: 'passed', reason: 'ok' }],
      });
      await run.settle();

      expect(records).to.have.length(1);
      const [record] = records;
      expect(record).to.include({
        runId: '33333333-3333-4333-8333-333333333333',
        stageKey: 'check',
        agentType: 'probe',
        incumbentVersion: '1.0.0',
        candidateVersion: '1.1.0',
        agreed: false,
        outputsEqual: false,
      });
      expect(record!.incumbent.status).to.equal('succeeded');
      expect(record!.candidate.status).to.equal('gate_failed');
      expect(record!.candidate.output).to.deep.equal({ version: 'new' });
      expect(record!.candidate.metrics).to.include({ coverage: 70 });
      expect(record!.candidate.gates[0]).to.include({ metric: 'coverage', value: 70, verdict: 'failed' });
      expect(record!.candidate.error).to.equal(null);
      expect(record!.disagreements).to.deep.equal([
        'gate coverage: incumbent pass, candidate fail',
        'gates overall: incumbent pass, candidate fail',
      ]);
    });

    it('a candidate that throws: recorded failed with its code, and settle does not throw', async () => {
      const { runner, records } = harness();
      const agent = probeAgent(async () => {
        throw Object.assign(new Error('candidate broke'), { code: 'CANDIDATE_BUG' });
      });

      const run = runner.start(startArgs(agent))!;
      run.incumbent(incumbentPassed);
      await run.settle();

      expect(records[0]!.candidate.status).to.equal('failed');
      expect(records[0]!.candidate.error).to.include({ code: 'CANDIDATE_BUG', message: 'candidate broke' });
      expect(records[0]!.disagreements).to.deep.equal(['candidate failed: CANDIDATE_BUG']);
    });

    it('a candidate that breaks its output contract: failed AGENT_OUTPUT_INVALID', async () => {
      const { runner, records } = harness();
      const agent = defineAgent({
        type: 'probe',
        version: '1.0.0',
        input: jsonObjectSchema,
        output: z.object({ ok: z.literal(true) }),
        handler: async () => ({ ok: true as const }),
        next: { version: '2.0.0', handler: async () => ({ ok: false }) as unknown as { ok: true } },
      });

      const run = runner.start({ ...startArgs(probeAgent(async () => ({}))), agent })!;
      run.incumbent(incumbentPassed);
      await run.settle();

      expect(records[0]!.candidate.error).to.include({ code: 'AGENT_OUTPUT_INVALID' });
    });

    it('a candidate asking for clarification ends as asked_clarification; the incumbent is not suspended by it', async () => {
      const { runner, records } = harness();
      const agent = probeAgent(async ({ requestClarification }) => requestClarification(['which branch?']));

      const run = runner.start(startArgs(agent))!;
      run.incumbent(incumbentPassed);
      await run.settle();

      expect(records[0]!.candidate.status).to.equal('asked_clarification');
      expect(records[0]!.disagreements).to.deep.equal(['candidate asked for clarification']);
    });

    it('a candidate still running graceMs after the incumbent (ignoring its signal): failed STAGE_TIMEOUT', async () => {
      const { runner, records } = harness({ graceMs: 20 });
      const agent = probeAgent(() => new Promise(() => undefined));

      const run = runner.start(startArgs(agent))!;
      run.incumbent(incumbentPassed);
      await run.settle();

      expect(records[0]!.candidate.status).to.equal('failed');
      expect(records[0]!.candidate.error).to.include({ code: 'STAGE_TIMEOUT' });
      expect(records[0]!.candidate.error!.message).to.contain('after the incumbent finished');
    });

    it('a candidate over the stage timeoutMs: failed STAGE_TIMEOUT', async () => {
      const { runner, records } = harness();
      const agent = probeAgent(
        ({ signal }) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))),
      );

      const run = runner.start(startArgs(agent, undefined, stage({ timeoutMs: 20 })))!;
      run.incumbent(incumbentPassed);
      await run.settle();

      expect(records[0]!.candidate.error).to.include({ code: 'STAGE_TIMEOUT', message: 'the candidate exceeded the stage timeoutMs' });
    });

    it('an incumbent cancelled (no result given): the candidate is aborted by the same signal and nothing is recorded', async () => {
      const { runner, records } = harness();
      const delivery = new AbortController();
      let candidateSignal: AbortSignal | undefined;
      const agent = probeAgent(({ signal }) => {
        candidateSignal = signal;
        return new Promise(() => undefined);
      });

      const run = runner.start(startArgs(agent, delivery.signal))!;
      delivery.abort('pipeline-cancelled');
      await run.settle();

      expect(candidateSignal!.aborted).to.equal(true);
      expect(records).to.deep.equal([]);
    });

    it('a shutdown after the incumbent’s result, while the candidate runs: nothing to compare, nothing recorded', async () => {
      const { runner, records } = harness();
      const delivery = new AbortController();
      const agent = probeAgent(() => new Promise(() => undefined));

      const run = runner.start(startArgs(agent, delivery.signal))!;
      run.incumbent(incumbentPassed);
      delivery.abort('worker-shutdown');
      await run.settle();

      expect(records).to.deep.equal([]);
    });

    it('a record that fails (Postgres down): settle resolves and warns; the shadow record alone is lost', async () => {
      const { runner, records, warnings } = harness({ recordFails: true });
      const agent = probeAgent(async () => ({ version: 'new' }));

      const run = runner.start(startArgs(agent))!;
      run.incumbent(incumbentPassed);
      await run.settle();

      expect(records).to.deep.equal([]);
      expect(warnings).to.deep.equal(['shadow run not recorded']);
    });

    it('an incumbent that failed with the candidate failing alike: agreed', async () => {
      const { runner, records } = harness();
      const agent = probeAgent(async () => {
        throw new Error('same bug');
      });

      const run = runner.start(startArgs(agent))!;
      run.incumbent({ kind: 'failed', error: { code: 'AGENT_ERROR', message: 'same bug', retryable: true } });
      await run.settle();

      expect(records[0]).to.include({ agreed: true });
      expect(records[0]!.incumbent).to.deep.equal({ status: 'failed', gates: [] });
    });
  });
});
