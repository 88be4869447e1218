// measureStages over a fake runner: one sample per attempt that ran (duration, outcome, failure
// code), none for a duplicate delivery, and `error` with INTERNAL (the catalogue's code) when the runner throws.
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
      { agent: 'noop', status: 'succeeded', seconds: 1.5, failureCode: undefined },
    ]);
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
    expect(samples[0]).to.include({ agent: 'noop', status: 'error', failureCode: 'INTERNAL' });
  });
});
