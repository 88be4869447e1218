// Unit tests for paging by size (src/domain/response-paging.ts) and the pipeline presenter that
// uses it (src/http/pipeline-presenter.ts): pages stay under the budget, hold at least one item,
// and together hold every stage once.
import { expect } from 'chai';
import { jsonByteLength } from '../../src/domain/json.js';
import { countWithinBytes, STAGE_PAGE_MAX, stagePage } from '../../src/domain/response-paging.js';
import { presentPipeline, presentStagePage } from '../../src/http/pipeline-presenter.js';
import type { PipelineDetail, StageView } from '../../src/services/pipeline.ports.js';

function stageOf(i: number, outputBytes: number): StageView {
  return {
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    key: `s${i}`,
    agent: 'noop',
    dependsOn: [],
    input: {},
    retry: { attempts: 3, backoff: { type: 'exponential', delayMs: 1000, jitter: 0.5 } },
    timeoutMs: null,
    continueOnFailure: false,
    gates: [],
    category: 'technical_refactor',
    confidence: null,
    status: 'succeeded',
    attempts: 1,
    progress: 100,
    output: { blob: 'x'.repeat(outputBytes) },
    error: null,
    queuedAt: null,
    startedAt: new Date('2026-01-01T00:00:00Z'),
    finishedAt: new Date('2026-01-01T00:00:01Z'),
    agentVersion: '1.0.0',
    variant: null,
    jobId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    queue: 'agent.noop',
  };
}

function pipelineOf(stages: StageView[]): PipelineDetail {
  return {
    id: '11111111-1111-4111-8111-111111111111',
    name: 'big',
    status: 'succeeded',
    template: null,
    input: {},
    submitter: 'alice',
    labels: {},
    traceId: null,
    error: null,
    policyVersion: null,
    cancelRequestedAt: null,
    createdAt: new Date('2026-01-01T00:00:00Z'),
    updatedAt: new Date('2026-01-01T00:00:00Z'),
    startedAt: new Date('2026-01-01T00:00:00Z'),
    finishedAt: new Date('2026-01-01T00:00:05Z'),
    stages,
    decisions: [],
    clarifications: [],
  } as unknown as PipelineDetail;
}

describe('response paging', () => {
  describe('countWithinBytes', () => {
    const items = Array.from({ length: 10 }, (_, i) => ({ i, pad: 'x'.repeat(90) }));
    const each = jsonByteLength(items[0]);

    it('everything fits: all items', () => {
      expect(countWithinBytes(items, 100_000)).to.equal(10);
    });

    it('a budget for three items and their commas: three', () => {
      expect(countWithinBytes(items, 3 * each + 2)).to.equal(3);
      expect(countWithinBytes(items, 3 * each + 1)).to.equal(2);
    });

    it('the base document is counted first', () => {
      expect(countWithinBytes(items, 3 * each + 2 + 50, 50)).to.equal(3);
    });

    it('one item larger than the budget: still one, so paging moves forward', () => {
      expect(countWithinBytes(items, 10)).to.equal(1);
    });

    it('no items: zero', () => {
      expect(countWithinBytes([], 10)).to.equal(0);
    });
  });

  describe('stagePage', () => {
    it('items left out: the next cursor is the position after the last one shown', () => {
      expect(stagePage(['a', 'b', 'c'], 40, 2)).to.deep.equal({ items: ['a', 'b'], nextCursor: '42' });
    });

    it('all shown: no cursor', () => {
      expect(stagePage(['a', 'b'], 40, 2)).to.deep.equal({ items: ['a', 'b'], nextCursor: null });
    });
  });

  describe('presentPipeline', () => {
    it('a small pipeline: every stage, stagesNextCursor null (the answer as before, plus the cursor)', () => {
      const pipeline = pipelineOf([stageOf(0, 10), stageOf(1, 10)]);

      const presented = presentPipeline(pipeline, 1024 * 1024);

      expect(presented.stages.map((s) => s.key)).to.deep.equal(['s0', 's1']);
      expect(presented.stages[0]!.durationMs).to.equal(1000);
      expect(presented.durationMs).to.equal(5000);
      expect(presented.stagesNextCursor).to.equal(null);
    });

    it('stages over the budget: the answer stays under it and points at the rest', () => {
      const pipeline = pipelineOf(Array.from({ length: 20 }, (_, i) => stageOf(i, 1000)));

      const presented = presentPipeline(pipeline, 8 * 1024);

      expect(jsonByteLength(presented)).to.be.at.most(8 * 1024);
      expect(presented.stages.length).to.be.within(1, 19);
      expect(presented.stagesNextCursor).to.equal(String(presented.stages.length));
    });

    it('more than a page of stages, all small: STAGE_PAGE_MAX of them and a cursor', () => {
      const pipeline = pipelineOf(Array.from({ length: STAGE_PAGE_MAX + 1 }, (_, i) => stageOf(i, 1)));

      const presented = presentPipeline(pipeline, 64 * 1024 * 1024);

      expect(presented.stages).to.have.length(STAGE_PAGE_MAX);
      expect(presented.stagesNextCursor).to.equal(String(STAGE_PAGE_MAX));
    });

    it('pages of presentStagePage, followed by cursor, hold every stage exactly once', () => {
      const all = Array.from({ length: 37 }, (_, i) => stageOf(i, 500 + 37 * i));
      const first = presentPipeline(pipelineOf(all.slice(0, STAGE_PAGE_MAX + 1)), 6 * 1024);
      const seen = first.stages.map((s) => s.key);
      let cursor = first.stagesNextCursor;
      while (cursor !== null) {
        const from = Number(cursor);
        const page = presentStagePage(all.slice(from, from + 11), from, 10, 6 * 1024);
        expect(page.items.length).to.be.within(1, 10);
        seen.push(...page.items.map((s) => s.key));
        cursor = page.nextCursor;
      }

      expect(seen).to.deep.equal(all.map((s) => s.key));
    });
  });
});
