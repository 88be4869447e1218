// Unit tests for the pure timeline builder (src/domain/timeline.ts): order, what each event
// becomes, and what is left out.
import { expect } from 'chai';
import type { EventType, PipelineEvent } from '../../src/domain/events.js';
import type { JsonObject } from '../../src/domain/json.js';
import { buildTimeline, type TimelinePipeline } from '../../src/domain/timeline.js';

const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second));

const pipeline = (overrides: Partial<TimelinePipeline> = {}): TimelinePipeline => ({
  id: '11111111-1111-4111-8111-111111111111',
  name: 'tour',
  submitter: 'alice',
  template: null,
  labels: { team: 'payments' },
  traceId: null,
  createdAt: at(0),
  cancelRequestedAt: null,
  ...overrides,
});

let nextId = 1;
const event = (type: EventType, second: number, data: JsonObject, stageKey: string | null = 'build', actor = 'system'): PipelineEvent => ({
  id: String(nextId++),
  pipelineId: '11111111-1111-4111-8111-111111111111',
  type,
  stageKey,
  actor,
  data,
  createdAt: at(second),
});

describe('timeline (domain)', () => {
  it('a retried attempt becomes stage.retrying with its duration and error code; the next attempt stage.finished', () => {
    const items = buildTimeline(pipeline(), [
      event('stage.started', 1, { attempt: 1, workerId: 'w1' }),
      event('stage.finished', 3, { status: 'retrying', attempt: 1, error: { code: 'AGENT_ERROR', message: 'boom' } }),
      event('stage.started', 4, { attempt: 2, workerId: 'w1' }),
      event('stage.finished', 5, { status: 'succeeded', attempt: 2 }),
    ]);

    expect(items.map((i) => i.type)).to.deep.equal([
      'pipeline.submitted',
      'stage.started',
      'stage.retrying',
      'stage.started',
      'stage.finished',
    ]);
    expect(items[2]).to.deep.include({ attempt: 1, summary: 'build: attempt 1 failed (AGENT_ERROR), will retry after 2.0 s' });
    expect(items[2]!.data).to.deep.equal({
      status: 'failed',
      willRetry: true,
      errorCode: 'AGENT_ERROR',
      errorMessage: 'boom',
      durationMs: 2000,
    });
    expect(items[4]!.data).to.deep.equal({ status: 'succeeded', willRetry: false, durationMs: 1000 });
    expect(items[0]!.data).to.deep.equal({ name: 'tour', submitter: 'alice', labels: { team: 'payments' } });
  });

  it('sorts by time; within one instant the cancel request comes before the stages it cancelled', () => {
    const items = buildTimeline(pipeline({ cancelRequestedAt: at(5) }), [
      event('stage.started', 1, { attempt: 1, workerId: 'w1' }),
      event('stage.finished', 5, { status: 'cancelled', attempt: 1 }),
      event('pipeline.finished', 6, { status: 'cancelled' }, null),
    ]);

    expect(items.map((i) => i.type)).to.deep.equal([
      'pipeline.submitted',
      'stage.started',
      'pipeline.cancel_requested',
      'stage.finished',
      'pipeline.finished',
    ]);
    expect(items[4]!.summary).to.equal('pipeline cancelled');
  });

  it('decisions and clarifications carry who acted; unknown rows are left out', () => {
    const items = buildTimeline(pipeline(), [
      event(
        'clarification.requested',
        1,
        { clarificationId: 'c1', questions: [{ id: 'q1' }, { id: 'q2' }], after: { status: 'open' } },
        'ask',
      ),
      event('clarification.resolved', 2, { clarificationId: 'c1', status: 'answered', after: { status: 'answered' } }, 'ask', 'bob'),
      event(
        'decision.requested',
        3,
        {
          decisionId: 'DEC-2026-00001',
          category: 'cost_impacting',
          confidence: 40,
          approvers: ['em'],
          deadlineAt: 'x',
          after: { status: 'pending' },
        },
        'deploy',
        'policy',
      ),
      event('decision.resolved', 4, { decisionId: 'DEC-2026-00001', status: 'rejected', after: { status: 'rejected' } }, 'deploy', 'carol'),
      event('unknown', 5, { storedType: 'x', issues: [] }),
    ]);

    expect(items.map((i) => i.summary)).to.deep.equal([
      'tour submitted by alice',
      'ask: 2 questions asked',
      'ask: questions answered by bob',
      'deploy: decision DEC-2026-00001 requested (cost_impacting, confidence 40)',
      'deploy: decision DEC-2026-00001 rejected by carol',
    ]);
    expect(items[4]!.data).to.deep.equal({ decisionId: 'DEC-2026-00001', status: 'rejected', actor: 'carol' });
  });
});
