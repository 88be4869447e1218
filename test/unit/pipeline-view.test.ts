// The CLI's pipeline view (src/cli/pipeline-view.ts): the note of a running stage shows the
// progress the API reports, a percentage from 0 to 100, as it is.
import { expect } from 'chai';
import { formatPipeline } from '../../src/cli/pipeline-view.js';
import { pipelineBody } from '../support/pipeline-body.js';

/** A running pipeline as GET /pipelines/:id answers it, its one stage running at `progress`. */
const runningPipeline = (progress: number) =>
  pipelineBody({
    pipeline: { name: 'hold-me' },
    stage: { key: 'build', agent: 'sleep', input: { ms: 10000 }, queue: 'agent.sleep', progress },
  });

/** The stage table's row for `build`. */
function buildRow(text: string): string {
  return text.split('\n').find((line) => line.startsWith('build ')) ?? '';
}

describe('CLI pipeline view (unit)', () => {
  it('a running stage at progress 20 (the sleep agent after 2 of its 10 steps): the note says 20%, not 2000%', () => {
    // Arrange
    const p = runningPipeline(20);

    // Act
    const row = buildRow(formatPipeline(p));

    // Assert
    expect(row).to.match(/\s20%$/);
    expect(row).not.to.include('2000%');
  });

  it('a stage running again after a failed attempt: the note says which attempt and why, not the old error alone', () => {
    const retried = pipelineBody({
      stage: {
        key: 'build',
        status: 'running',
        attempts: 2,
        progress: 30,
        error: { code: 'WORKER_SHUTDOWN', message: 'the worker stopped before the stage finished', retryable: true },
      },
    });
    expect(buildRow(formatPipeline(retried))).to.match(
      /\s30%, attempt 2 after WORKER_SHUTDOWN: the worker stopped before the stage finished$/,
    );
    const failed = pipelineBody({
      stage: { key: 'build', status: 'failed', error: { code: 'AGENT_ERROR', message: 'boom', retryable: false } },
    });
    expect(buildRow(formatPipeline(failed))).to.match(/\sAGENT_ERROR: boom$/);
  });

  it('a running stage at progress 100 says 100%; at 0 it has no note', () => {
    expect(buildRow(formatPipeline(runningPipeline(100)))).to.match(/\s100%$/);
    expect(buildRow(formatPipeline(runningPipeline(0)))).not.to.include('%');
  });
});
