// The circuit breakers' state machine, driven by a mocked clock (node:test MockTimers replaces
// Date, setTimeout and setInterval, which opossum reads): closed → open at the failure share
// over the volume threshold, rejections while open, one probe when half-open, and what counts.
import { mock } from 'node:test';
import { expect } from 'chai';
import { CircuitOpenError } from '../../src/domain/errors.js';
import {
  createBreakerRegistry,
  PROBE_WAIT_MS,
  type BreakerRegistry,
  type BreakerStateChange,
  type BreakerVerdict,
} from '../../src/infra/breakers/breaker-registry.js';
import { breakerVerdict } from '../../src/jobs/agent.worker.js';
import type { RunOutcome } from '../../src/services/stage-runner.service.js';

const RESET_MS = 1500;
const settings = { errorThresholdPct: 50, volumeThreshold: 4, resetMs: RESET_MS, windowMs: 10_000 };

describe('circuit breakers (unit)', () => {
  let registry: BreakerRegistry;
  let warnings: { message: string; meta?: Record<string, unknown> }[];
  let changes: BreakerStateChange[];

  beforeEach(() => {
    // Before the registry: opossum starts its window's interval when a breaker is created.
    mock.timers.enable({ apis: ['Date', 'setTimeout', 'setInterval'], now: 1_000_000 });
    warnings = [];
    changes = [];
    registry = createBreakerRegistry(settings, { warn: (message, meta) => warnings.push({ message, meta }) }, ['scaffold', 'validation']);
    registry.onStateChange((change) => changes.push(change));
  });
  afterEach(() => {
    registry.close();
    mock.timers.reset();
  });

  /** One call whose result counts as `verdict`; resolves to whether the call ran. */
  async function call(agentType: string, verdict: BreakerVerdict): Promise<boolean> {
    let ran = false;
    await registry.forAgent(agentType).run(
      async () => {
        ran = true;
        return verdict;
      },
      (v) => v,
    );
    return ran;
  }
  async function rejection(agentType: string): Promise<CircuitOpenError> {
    let ran = false;
    try {
      await registry.forAgent(agentType).run(
        async () => {
          ran = true;
        },
        () => 'success',
      );
    } catch (error) {
      expect(ran, 'the call must not run').to.equal(false);
      expect(error).to.be.instanceOf(CircuitOpenError);
      return error as CircuitOpenError;
    }
    throw new Error('expected the breaker to reject the call');
  }
  async function open(agentType = 'scaffold') {
    for (let i = 0; i < settings.volumeThreshold; i++) await call(agentType, 'failure');
    expect(registry.forAgent(agentType).state()).to.equal('open');
  }

  it('starts closed for every served agent type', () => {
    expect(registry.states()).to.deep.equal({ scaffold: 'closed', validation: 'closed' });
  });

  it('stays closed below the volume threshold, even when every call fails', async () => {
    for (let i = 0; i < settings.volumeThreshold - 1; i++) expect(await call('scaffold', 'failure')).to.equal(true);
    expect(registry.states().scaffold).to.equal('closed');
  });

  it('opens when failures reach the threshold share (50%) over the volume threshold (4 calls)', async () => {
    await call('scaffold', 'success');
    await call('scaffold', 'success');
    await call('scaffold', 'failure');
    expect(registry.states().scaffold).to.equal('closed');
    await call('scaffold', 'failure');
    expect(registry.states()).to.deep.equal({ scaffold: 'open', validation: 'closed' });
  });

  it('stays closed when failures stay under the threshold share', async () => {
    for (const v of ['success', 'success', 'success', 'failure', 'success', 'failure'] as const) await call('scaffold', v);
    expect(registry.states().scaffold).to.equal('closed');
  });

  it('neutral outcomes and errors thrown by the run itself never open it', async () => {
    for (let i = 0; i < 10; i++) await call('scaffold', 'neutral');
    for (let i = 0; i < 10; i++) {
      const thrown = await registry
        .forAgent('scaffold')
        .run(
          async () => {
            throw new Error('Postgres is down');
          },
          () => 'failure',
        )
        .catch((error: Error) => error.message);
      expect(thrown).to.equal('Postgres is down');
    }
    expect(registry.states().scaffold).to.equal('closed');
  });

  it('failures older than the window are forgotten', async () => {
    for (let i = 0; i < settings.volumeThreshold - 1; i++) await call('scaffold', 'failure');
    mock.timers.tick(settings.windowMs + 1000);
    await call('scaffold', 'failure');
    expect(registry.states().scaffold).to.equal('closed');
  });

  it('while open: rejects without running the call, saying how long until the probe', async () => {
    await open();
    expect((await rejection('scaffold')).retryAfterMs).to.equal(RESET_MS);
    mock.timers.tick(1000);
    const error = await rejection('scaffold');
    expect(error.retryAfterMs).to.equal(RESET_MS - 1000);
    expect(error).to.include({ code: 'AGENT_CIRCUIT_OPEN', agentType: 'scaffold', retryable: true });
    expect(await call('validation', 'success'), 'another agent type is unaffected').to.equal(true);
  });

  it('after the reset time: half-open lets exactly one probe through; a failed probe opens it again', async () => {
    await open();
    mock.timers.tick(RESET_MS);
    expect(registry.states().scaffold).to.equal('half_open');

    let finishProbe!: (verdict: BreakerVerdict) => void;
    const probe = registry.forAgent('scaffold').run(
      () => new Promise<BreakerVerdict>((resolve) => (finishProbe = resolve)),
      (v) => v,
    );
    // A second call while the probe is in flight waits (briefly) instead of running.
    expect((await rejection('scaffold')).retryAfterMs).to.equal(Math.min(PROBE_WAIT_MS, RESET_MS));
    finishProbe('failure');
    await probe;

    expect(registry.states().scaffold).to.equal('open');
    expect((await rejection('scaffold')).retryAfterMs).to.equal(RESET_MS);
  });

  it('a successful probe closes it and calls run again', async () => {
    await open();
    mock.timers.tick(RESET_MS);
    expect(await call('scaffold', 'success')).to.equal(true);
    expect(registry.states().scaffold).to.equal('closed');
    expect(await call('scaffold', 'success')).to.equal(true);
  });

  it('reports every state change to listeners and logs it at warn', async () => {
    await open();
    mock.timers.tick(RESET_MS);
    await call('scaffold', 'success');
    const transitions = changes.map((c) => `${c.agentType}:${c.from}->${c.to}`);
    expect(transitions).to.deep.equal(['scaffold:closed->open', 'scaffold:open->half_open', 'scaffold:half_open->closed']);
    expect(warnings.map((w) => w.message)).to.deep.equal(Array(3).fill('circuit breaker state changed'));
    expect(warnings[0]!.meta).to.include({ agentType: 'scaffold', from: 'closed', to: 'open', callsInWindow: 4, failuresInWindow: 4 });
  });

  it('creates a breaker on first use for a type it was not given', async () => {
    await call('deployment', 'success');
    expect(registry.states()).to.have.property('deployment', 'closed');
  });

  describe('what a stage run counts as (breakerVerdict)', () => {
    const error = (fields: Record<string, unknown>) =>
      ({ code: 'X', message: 'm', retryable: true, category: 'agent', ...fields }) as never;
    const cases: [string, RunOutcome, BreakerVerdict][] = [
      ['success', { kind: 'succeeded' }, 'success'],
      ['clarification asked (the handler ran fine)', { kind: 'suspended' }, 'success'],
      ['retryable agent error', { kind: 'retry', error: error({}) }, 'failure'],
      ['downstream error', { kind: 'retry', error: error({ category: 'downstream', code: 'ECONNREFUSED' }) }, 'failure'],
      ['retryable error on the last attempt', { kind: 'failed', error: error({}) }, 'failure'],
      ['stage timeout', { kind: 'retry', error: error({ code: 'STAGE_TIMEOUT' }) }, 'failure'],
      [
        'unrecoverable input',
        { kind: 'failed', error: error({ retryable: false, category: 'validation', code: 'AGENT_INPUT_INVALID' }) },
        'neutral',
      ],
      ['unrecoverable agent refusal', { kind: 'failed', error: error({ retryable: false }) }, 'neutral'],
      ['quality gate', { kind: 'failed', error: error({ retryable: false, category: 'pipeline', code: 'GATE_FAILED' }) }, 'neutral'],
      [
        'unknown agent',
        { kind: 'failed', error: error({ retryable: false, category: 'configuration', code: 'AGENT_UNKNOWN' }) },
        'neutral',
      ],
      ['cancel', { kind: 'cancelled' }, 'neutral'],
      ['shutdown', { kind: 'interrupted' }, 'neutral'],
      ['duplicate delivery', { kind: 'duplicate', status: 'succeeded' }, 'neutral'],
    ];
    for (const [name, outcome, verdict] of cases) {
      it(`${name}: ${verdict}`, () => expect(breakerVerdict(outcome)).to.equal(verdict));
    }
  });
});
