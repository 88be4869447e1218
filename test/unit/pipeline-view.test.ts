// The CLI's pipeline view (src/cli/pipeline-view.ts): the note of a running stage shows the
// progress the API reports, a percentage from 0 to 100, as it is.
import { expect } from 'chai';
import { pipelineSchema } from '../../src/http/contract/pipelines.schema.js';
import { formatPipeline } from '../../src/cli/pipeline-view.js';

/** A running pipeline as GET /pipelines/:id answers it, its one stage running at `progress`. */
function runningPipeline(progress: number) {
  return pipelineSchema.parse({
    id: '96b14add-122e-4f1a-b89d-9b15f420f463',
    name: 'hold-me',
    status: 'running',
    template: null,
    input: {},
    error: null,
    createdAt: '2026-12-07T13:20:35.401Z',
    updatedAt: '2026-12-07T13:20:35.593Z',
    startedAt: '2026-12-07T13:20:35.401Z',
    finishedAt: null,
    cancelRequestedAt: null,
    policyVersion: '2026-11-29.1',
    submitter: 'admin',
    labels: {},
    traceId: null,
    paused: null,
    priority: 'normal',
    deadlineAt: null,
    cancelReason: null,
    schedule: null,
    durationMs: null,
    decisions: [],
    clarifications: [],
    rerunOf: null,
    rerunFrom: [],
    reruns: [],
    stages: [
      {
        id: 'f625f7c1-83f6-4e46-b9be-c98463812a02',
        key: 'build',
        agent: 'sleep',
        dependsOn: [],
        input: { ms: 10000 },
        retry: { attempts: 1, backoff: { type: 'exponential', delayMs: 1000, jitter: 0.5 } },
        timeoutMs: null,
        continueOnFailure: false,
        gates: [],
        category: 'technical_refactor',
        confidence: null,
        status: 'running',
        attempts: 1,
        progress,
        output: null,
        error: null,
        queuedAt: '2026-12-07T13:20:35.401Z',
        startedAt: '2026-12-07T13:20:35.401Z',
        finishedAt: null,
        durationMs: null,
        agentVersion: '1.0.0',
        variant: null,
        jobId: 'f625f7c1-83f6-4e46-b9be-c98463812a02',
        queue: 'agent.sleep',
        reused: null,
      },
    ],
    stagesNextCursor: null,
  });
}

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

  it('a running stage at progress 100 says 100%; at 0 it has no note', () => {
    expect(buildRow(formatPipeline(runningPipeline(100)))).to.match(/\s100%$/);
    expect(buildRow(formatPipeline(runningPipeline(0)))).not.to.include('%');
  });
});
