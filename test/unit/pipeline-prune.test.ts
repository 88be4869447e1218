// Unit tests for what `pipelines prune` may delete (src/domain/pipeline-prune.ts) and for its
// batching (src/services/pipeline-prune.service.ts) over an in-memory store: keyset pages, a dry
// run that only counts, candidates left alone, the archive handed each batch before its deletion.
import { expect } from 'chai';
import { DURATION_UNITS_MS } from '../../src/domain/duration.js';
import {
  PRUNABLE_STATUSES,
  PRUNE_BLOCKING_STAGE_STATUSES,
  pruneAgeSchema,
  pruneCutoff,
  pruneStatusesSchema,
} from '../../src/domain/pipeline-prune.js';
import type { PipelineStatus } from '../../src/domain/status.js';
import { terminalActor } from '../../src/services/api-key.service.js';
import {
  PRUNED_TABLES,
  type PipelineArchive,
  type PipelinePruneStore,
  type PruneCandidate,
  type PrunedRows,
} from '../../src/services/pipeline-prune.ports.js';
import { createPipelinePruneService } from '../../src/services/pipeline-prune.service.js';

const rows = (n: number): PrunedRows => Object.fromEntries(PRUNED_TABLES.map((t) => [t, n])) as PrunedRows;

/** Pipelines p0…p(n-1), one second apart, statuses in turn; `reopened` ones fail the recheck under lock. */
function fakeStore(n: number, reopened: ReadonlySet<string> = new Set()) {
  const statuses: PipelineStatus[] = ['succeeded', 'failed', 'cancelled'];
  const pipelines: PruneCandidate[] = Array.from({ length: n }, (_, i) => ({
    id: `p${String(i).padStart(2, '0')}`,
    status: statuses[i % 3]!,
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
  }));
  const calls: string[] = [];
  const store: PipelinePruneStore = {
    async candidates(selection, after, limit) {
      calls.push(`candidates after ${after?.id ?? '-'}`);
      return pipelines
        .filter((p) => selection.statuses.includes(p.status))
        .filter((p) => !after || p.createdAt > after.createdAt || (p.createdAt.getTime() === after.createdAt.getTime() && p.id > after.id))
        .slice(0, limit);
    },
    async countRows(ids) {
      calls.push(`count ${ids.join(',')}`);
      return rows(ids.length);
    },
    async deleteBatch(ids, { archive, auditData }) {
      const kept = pipelines.filter((p) => ids.includes(p.id) && !reopened.has(p.id));
      if (archive) await archive(kept.map((p) => ({ id: p.id, document: `{"id":"${p.id}"}` })));
      calls.push(`delete ${kept.map((p) => p.id).join(',')} audit ${JSON.stringify(auditData)}`);
      for (const p of kept) pipelines.splice(pipelines.indexOf(p), 1);
      return { deleted: kept.map((p) => ({ id: p.id, status: p.status })), rows: rows(kept.length) };
    },
  };
  return { store, calls, pipelines };
}

function memoryArchive(): PipelineArchive & { lines: string[] } {
  const lines: string[] = [];
  return { location: 'mem.jsonl', lines, append: async (more) => void lines.push(...more), close: async () => undefined };
}

const actor = terminalActor('tester');
const cutoff = new Date('2026-06-01T00:00:00Z');

describe('pipelines prune (unit)', () => {
  describe('domain', () => {
    it('--older-than: a duration of at least a day; "3m" (minutes) is refused with the reason', () => {
      expect(pruneAgeSchema.parse('90d')).to.equal(90 * DURATION_UNITS_MS.d);
      expect(pruneAgeSchema.parse('24h')).to.equal(DURATION_UNITS_MS.d);
      const minutes = pruneAgeSchema.safeParse('3m');
      expect(minutes.success).to.equal(false);
      expect(minutes.error?.issues[0]?.message).to.include('at least 1d').and.include('minutes');
      for (const bad of ['90', 'ninety days', '3651d', '0d']) expect(pruneAgeSchema.safeParse(bad).success, bad).to.equal(false);
    });

    it('--status: finished statuses only, each once, in the domain’s order; anything else is named', () => {
      expect(pruneStatusesSchema.parse('failed, succeeded,failed')).to.deep.equal(['succeeded', 'failed']);
      expect(pruneStatusesSchema.parse('cancelled')).to.deep.equal(['cancelled']);
      const running = pruneStatusesSchema.safeParse('succeeded,running,queued');
      expect(running.error?.issues[0]?.message).to.include('"running", "queued"');
      expect(pruneStatusesSchema.safeParse('succeeded,,failed').success).to.equal(false);
    });

    it('the statuses come from the one home of terminal statuses; a pipeline with an unfinished stage is never a candidate', () => {
      expect([...PRUNABLE_STATUSES]).to.deep.equal(['succeeded', 'failed', 'cancelled']);
      expect([...PRUNE_BLOCKING_STAGE_STATUSES]).to.deep.equal(['pending', 'queued', 'running', 'waiting', 'paused']);
      expect(pruneCutoff(new Date('2026-04-01T00:00:00Z'), 31 * DURATION_UNITS_MS.d).toISOString()).to.equal('2026-03-01T00:00:00.000Z');
    });
  });

  describe('service', () => {
    it('deletes in keyset pages until a short page, archiving each batch first; totals by status and table', async () => {
      const { store, calls, pipelines } = fakeStore(7);
      const archive = memoryArchive();
      const progress: number[] = [];

      const report = await createPipelinePruneService({ store }).prune(
        { cutoff, statuses: PRUNABLE_STATUSES, dryRun: false, archive, batchSize: 3, onBatch: (p) => progress.push(p.pipelines) },
        actor,
      );

      expect(report).to.deep.include({ pipelines: 7, skipped: 0, archived: 7, batches: 3, dryRun: false });
      expect(report.byStatus).to.deep.equal({ succeeded: 3, failed: 2, cancelled: 2 });
      expect(report.rows).to.deep.equal(rows(7));
      expect(progress).to.deep.equal([3, 6, 7]);
      expect(archive.lines).to.have.length(7);
      expect(pipelines).to.deep.equal([]);
      expect(calls.filter((c) => c.startsWith('candidates'))).to.deep.equal([
        'candidates after -',
        'candidates after p02',
        'candidates after p05',
      ]);
      expect(calls[1]).to.include('"archive":"mem.jsonl"');
    });

    it('a dry run counts the same pages and deletes nothing, archive or not', async () => {
      const { store, calls, pipelines } = fakeStore(5);
      const archive = memoryArchive();

      const report = await createPipelinePruneService({ store }).prune(
        { cutoff, statuses: ['failed', 'cancelled'], dryRun: true, archive, batchSize: 2 },
        actor,
      );

      expect(report).to.deep.include({ dryRun: true, pipelines: 3, archived: 0, batches: 2 });
      expect(report.byStatus).to.deep.equal({ failed: 2, cancelled: 1 });
      expect(report.rows).to.deep.equal(rows(3));
      expect(archive.lines).to.deep.equal([]);
      expect(pipelines).to.have.length(5);
      expect(calls.some((c) => c.startsWith('delete'))).to.equal(false);
    });

    it('candidates that changed under the lock are counted as skipped and not met again: the loop ends', async () => {
      const { store, pipelines } = fakeStore(4, new Set(['p00', 'p01']));

      const report = await createPipelinePruneService({ store }).prune(
        { cutoff, statuses: PRUNABLE_STATUSES, dryRun: false, batchSize: 2 },
        actor,
      );

      expect(report).to.deep.include({ pipelines: 2, skipped: 2, batches: 2 });
      expect(pipelines.map((p) => p.id)).to.deep.equal(['p00', 'p01']);
    });
  });
});
