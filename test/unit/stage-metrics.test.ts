// measureStages over a fake runner: one sample per attempt that ran (duration, outcome, failure
// code, the agent version and settings variant it ran with), none for a duplicate delivery, and
// `error` with INTERNAL (the catalogue's code) when the runner throws.
import { expect } from 'chai';
import { measureStages, type StageRunSample } from '../../src/jobs/stage-metrics.js';
import type { RunOutcome, StageDelivery, StageRunner } from '../../src/services/stage-runner.service.js';

const delivery: StageDelivery = {
  stageId: 's',
  pipelineId: 'p',
  jobId: 's',
  attemptsMade: 0,
  maxAttempts: 3,
  signal: new AbortController().signal,
  agentType: 'noop',
};

function runnerOf(result: RunOutcome | Error): StageRunner {
  return {
    async run() {
      if (result instanceof Error) throw result;
      return result;
    },
  };
}

async function measure(result: RunOutcome | Error): Promise<StageRunSample[]> {
  const samples: StageRunSample[] = [];
  let clock = 0;
  // Each reading advances 1.5 s: start, then end.
  const runner = measureStages(runnerOf(result), 'noop', { stageRun: (s) => void samples.push(s) }, () => (clock += 1500));
  await runner.run(delivery).catch(() => undefined);
  return samples;
}

describe('stage metrics', () => {
  it('records a success with its duration and no failure code', async () => {
    expect(await measure({ kind: 'succeeded' })).to.deep.equal([
      { agent: 'noop', status: 'succeeded', seconds: 1.5, failureCode: undefined, version: 'unknown', variant: 'none' },
    ]);
  });

  it('labels an attempt with the version and variant it ran with, `none` without a variant', async () => {
    const [withVariant] = await measure({ kind: 'succeeded', ranWith: { agentVersion: '1.1.0', variant: 'bold' } });
    const [without] = await measure({ kind: 'succeeded', ranWith: { agentVersion: '1.0.0', variant: null } });
    expect(withVariant).to.include({ version: '1.1.0', variant: 'bold' });
    expect(without).to.include({ version: '1.0.0', variant: 'none' });
  });

  it('cuts a variant label longer than 64 characters', async () => {
    const [sample] = await measure({ kind: 'succeeded', ranWith: { agentVersion: '1.0.0', variant: 'v'.repeat(300) } });
    expect(sample!.variant).to.equal('v'.repeat(64));
  });

  it('records the failure code of a failed or retried attempt', async () => {
    const error = { code: 'AGENT_TIMEOUT', message: 'timed out', retryable: true } as never;
    const [failed] = await measure({ kind: 'failed', error });
    const [retry] = await measure({ kind: 'retry', error });
    expect(failed).to.include({ status: 'failed', failureCode: 'AGENT_TIMEOUT' });
    expect(retry).to.include({ status: 'retry', failureCode: 'AGENT_TIMEOUT' });
  });

  it('does not count a duplicate delivery', async () => {
    expect(await measure({ kind: 'duplicate', status: 'succeeded' })).to.deep.equal([]);
  });

  it('records a thrown error as `error` with INTERNAL, and rethrows it', async () => {
    const boom = new Error('boom');
    let thrown: unknown;
    const samples: StageRunSample[] = [];
    await measureStages(runnerOf(boom), 'noop', { stageRun: (s) => void samples.push(s) })
      .run(delivery)
      .catch((error: unknown) => (thrown = error));
    expect(thrown).to.equal(boom);
    expect(samples).to.have.length(1);
    expect(samples[0]).to.include({ agent: 'noop', status: 'error', failureCode: 'INTERNAL', version: 'unknown', variant: 'none' });
  });
});
