// Unit tests for admission control (src/domain/admission.ts): whether a pipeline may start,
// which queued pipelines start when slots free up (fair share across submitters), and the backlog mark.
import { expect } from 'chai';
import {
  backlogFullError,
  backlogFull,
  canStart,
  limitsEnabled,
  selectToStart,
  type AdmissionLimits,
  type QueuedPipeline,
  type RunningLoad,
} from '../../src/domain/admission.js';

const NO_LIMITS: AdmissionLimits = { maxRunning: 0, maxRunningPerSubmitter: 0 };

function load(total: number, bySubmitter: Record<string, number> = {}): RunningLoad {
  return { total, bySubmitter: new Map(Object.entries(bySubmitter)) };
}

function queued(...pairs: [string, string][]): QueuedPipeline[] {
  return pairs.map(([id, submitter]) => ({ id, submitter }));
}

describe('admission control (domain)', () => {
  describe('limitsEnabled', () => {
    it('both limits 0: off; either one set: on', () => {
      expect(limitsEnabled(NO_LIMITS)).to.equal(false);
      expect(limitsEnabled({ maxRunning: 1, maxRunningPerSubmitter: 0 })).to.equal(true);
      expect(limitsEnabled({ maxRunning: 0, maxRunningPerSubmitter: 1 })).to.equal(true);
    });
  });

  describe('canStart', () => {
    it('no limits: always', () => {
      expect(canStart(NO_LIMITS, load(10_000, { a: 5_000 }), 'a')).to.equal(true);
    });

    it('global limit 2 with 1 running: yes; with 2 running: no', () => {
      const limits = { maxRunning: 2, maxRunningPerSubmitter: 0 };
      expect(canStart(limits, load(1), 'a')).to.equal(true);
      expect(canStart(limits, load(2), 'a')).to.equal(false);
    });

    it('per-submitter limit 1: a submitter with one running waits, another starts', () => {
      const limits = { maxRunning: 0, maxRunningPerSubmitter: 1 };
      const running = load(1, { a: 1 });
      expect(canStart(limits, running, 'a')).to.equal(false);
      expect(canStart(limits, running, 'b')).to.equal(true);
    });

    it('both limits: the stricter one decides', () => {
      const limits = { maxRunning: 3, maxRunningPerSubmitter: 2 };
      expect(canStart(limits, load(3, { b: 0 }), 'b'), 'global full').to.equal(false);
      expect(canStart(limits, load(2, { a: 2 }), 'a'), 'submitter full').to.equal(false);
      expect(canStart(limits, load(2, { a: 1 }), 'a')).to.equal(true);
    });
  });

  describe('selectToStart', () => {
    it('no queued pipelines: none', () => {
      expect(selectToStart({ maxRunning: 2, maxRunningPerSubmitter: 0 }, load(0), [])).to.deep.equal([]);
    });

    it('global limit 2 with 1 running and 3 queued: the oldest one', () => {
      const started = selectToStart({ maxRunning: 2, maxRunningPerSubmitter: 0 }, load(1), queued(['p1', 'a'], ['p2', 'a'], ['p3', 'b']));
      expect(started).to.deep.equal(['p1']);
    });

    it('two slots freed at once: the two oldest, in submission order', () => {
      const started = selectToStart({ maxRunning: 4, maxRunningPerSubmitter: 0 }, load(2), queued(['p1', 'a'], ['p2', 'b'], ['p3', 'c']));
      expect(started).to.deep.equal(['p1', 'p2']);
    });

    it('global limit already reached: none', () => {
      expect(selectToStart({ maxRunning: 2, maxRunningPerSubmitter: 0 }, load(2), queued(['p1', 'a']))).to.deep.equal([]);
    });

    it('a submitter at its limit is passed over; a younger pipeline of another submitter starts', () => {
      // Arrange: a runs 1 (its limit), b runs none
      const limits = { maxRunning: 0, maxRunningPerSubmitter: 1 };
      // Act
      const started = selectToStart(limits, load(1, { a: 1 }), queued(['a2', 'a'], ['a3', 'a'], ['b1', 'b'], ['b2', 'b']));
      // Assert: one of b's, the oldest; none of a's
      expect(started).to.deep.equal(['b1']);
    });

    it('per-submitter limit counts the pipelines it starts in the same call', () => {
      const limits = { maxRunning: 0, maxRunningPerSubmitter: 2 };
      const started = selectToStart(limits, load(0), queued(['a1', 'a'], ['a2', 'a'], ['a3', 'a'], ['b1', 'b']));
      // a's third waits; b's one takes its turn between a's two
      expect(started).to.deep.equal(['a1', 'b1', 'a2']);
    });

    it('both limits: stops at the global one, skipping full submitters on the way', () => {
      const limits = { maxRunning: 3, maxRunningPerSubmitter: 1 };
      const started = selectToStart(limits, load(1, { a: 1 }), queued(['a2', 'a'], ['b1', 'b'], ['b2', 'b'], ['c1', 'c'], ['d1', 'd']));
      expect(started).to.deep.equal(['b1', 'c1']);
    });

    it("fair share: a submitter with many running and many waiting does not go before another's one", () => {
      // Arrange: global limit 10, a runs 9 and has 500 more waiting, older than b's one
      const limits = { maxRunning: 10, maxRunningPerSubmitter: 0 };
      const waiting = [...Array.from({ length: 500 }, (_, i): [string, string] => [`a${i}`, 'a']), ['b1', 'b'] as [string, string]];
      // Act: one slot free
      const started = selectToStart(limits, load(9, { a: 9 }), queued(...waiting));
      // Assert: b's, although a's are older
      expect(started).to.deep.equal(['b1']);
    });

    it('fair share: free slots alternate between submitters with as many running, oldest first on a tie', () => {
      const limits = { maxRunning: 6, maxRunningPerSubmitter: 0 };
      const started = selectToStart(
        limits,
        load(0),
        queued(['a1', 'a'], ['a2', 'a'], ['a3', 'a'], ['a4', 'a'], ['b1', 'b'], ['b2', 'b'], ['c1', 'c']),
      );
      expect(started).to.deep.equal(['a1', 'b1', 'c1', 'a2', 'b2', 'a3']);
    });

    it('fair share: the submitter with the fewest running goes first, whatever its age', () => {
      const limits = { maxRunning: 6, maxRunningPerSubmitter: 0 };
      // a runs 2, b runs 1, c none; three slots: c's, then b's (tied with c, older), then c's
      const started = selectToStart(
        limits,
        load(3, { a: 2, b: 1 }),
        queued(['a1', 'a'], ['b1', 'b'], ['b2', 'b'], ['c1', 'c'], ['c2', 'c'], ['c3', 'c']),
      );
      expect(started).to.deep.equal(['c1', 'b1', 'c2']);
    });

    it('fair share keeps each submitter in submission order', () => {
      const limits = { maxRunning: 100, maxRunningPerSubmitter: 0 };
      const started = selectToStart(limits, load(0), queued(['a1', 'a'], ['b1', 'b'], ['a2', 'a'], ['a3', 'a'], ['b2', 'b']));
      expect(started.filter((id) => id.startsWith('a'))).to.deep.equal(['a1', 'a2', 'a3']);
      expect(started.filter((id) => id.startsWith('b'))).to.deep.equal(['b1', 'b2']);
      expect(started).to.have.length(5);
    });

    it('no limits (limits turned off while pipelines waited): every queued one', () => {
      expect(selectToStart(NO_LIMITS, load(7), queued(['p1', 'a'], ['p2', 'a']))).to.deep.equal(['p1', 'p2']);
    });

    it('does not change the load it was given', () => {
      const running = load(0, { a: 0 });
      selectToStart({ maxRunning: 5, maxRunningPerSubmitter: 0 }, running, queued(['a1', 'a']));
      expect(running.bySubmitter.get('a')).to.equal(0);
    });
  });

  describe('selectToStart with priorities', () => {
    const limits: AdmissionLimits = { maxRunning: 1, maxRunningPerSubmitter: 0 };
    const at = (minutesAgo: number) => new Date(NOW.getTime() - minutesAgo * 60_000);
    const NOW = new Date('2026-12-06T12:00:00Z');

    it('an urgent pipeline starts before every older normal one', () => {
      const waiting: QueuedPipeline[] = [
        { id: 'n1', submitter: 'a', priority: 'normal', createdAt: at(5) },
        { id: 'n2', submitter: 'a', priority: 'normal', createdAt: at(4) },
        { id: 'u1', submitter: 'b', priority: 'urgent', createdAt: at(1) },
      ];
      expect(selectToStart(limits, load(0), waiting, NOW)).to.deep.equal(['u1']);
    });

    it("within one submitter's line: its urgent one first, then the older normal ones", () => {
      const waiting: QueuedPipeline[] = [
        { id: 'n1', submitter: 'a', priority: 'normal', createdAt: at(5) },
        { id: 'u1', submitter: 'a', priority: 'urgent', createdAt: at(1) },
        { id: 'n2', submitter: 'a', priority: 'normal', createdAt: at(0) },
      ];
      expect(selectToStart({ maxRunning: 3, maxRunningPerSubmitter: 0 }, load(0), waiting, NOW)).to.deep.equal(['u1', 'n1', 'n2']);
    });

    it('fair share still holds within a priority: two submitters of high pipelines take turns', () => {
      const waiting: QueuedPipeline[] = [
        { id: 'a1', submitter: 'a', priority: 'high', createdAt: at(9) },
        { id: 'a2', submitter: 'a', priority: 'high', createdAt: at(8) },
        { id: 'a3', submitter: 'a', priority: 'high', createdAt: at(7) },
        { id: 'b1', submitter: 'b', priority: 'high', createdAt: at(1) },
        { id: 'c1', submitter: 'c', priority: 'low', createdAt: at(0) },
      ];
      // a runs 2 already: b's one goes first, then a's, and c's low one only after every high one.
      expect(selectToStart({ maxRunning: 7, maxRunningPerSubmitter: 0 }, load(2, { a: 2 }), waiting, NOW)).to.deep.equal([
        'b1',
        'a1',
        'a2',
        'a3',
        'c1',
      ]);
    });

    it('a higher priority passes a submitter with fewer running', () => {
      const waiting: QueuedPipeline[] = [
        { id: 'a1', submitter: 'a', priority: 'normal', createdAt: at(9) },
        { id: 'b1', submitter: 'b', priority: 'high', createdAt: at(1) },
      ];
      expect(selectToStart({ maxRunning: 5, maxRunningPerSubmitter: 0 }, load(4, { b: 4 }), waiting, NOW)).to.deep.equal(['b1']);
    });

    it('aging: a low pipeline that waited three steps starts before a fresh high one', () => {
      const aging: AdmissionLimits = { ...limits, agingStepMs: 60_000 };
      const waiting: QueuedPipeline[] = [
        { id: 'low-old', submitter: 'a', priority: 'low', createdAt: at(3) },
        { id: 'high-new', submitter: 'b', priority: 'high', createdAt: at(0) },
      ];
      expect(selectToStart(aging, load(0), waiting, NOW)).to.deep.equal(['low-old']);
      // Without aging the high one goes first.
      expect(selectToStart(limits, load(0), waiting, NOW)).to.deep.equal(['high-new']);
      // Two steps are not enough: the low one competes as high, and the older high-ranked one wins the tie.
      expect(selectToStart(aging, load(0), [{ ...waiting[0]!, createdAt: at(2) }, waiting[1]!], NOW)).to.deep.equal(['low-old']);
      expect(selectToStart(aging, load(0), [{ ...waiting[0]!, createdAt: at(1) }, waiting[1]!], NOW)).to.deep.equal(['high-new']);
    });

    it('without priorities given, every pipeline is normal: the order is the one before priorities', () => {
      expect(
        selectToStart({ maxRunning: 2, maxRunningPerSubmitter: 0 }, load(0), queued(['p1', 'a'], ['p2', 'a'], ['p3', 'b'])),
      ).to.deep.equal(['p1', 'p3']);
    });
  });

  describe('backlogFull', () => {
    it('high-water 0: never full', () => {
      expect(backlogFull(0, 1_000_000)).to.equal(false);
    });

    it('high-water 3: 2 queued accept, 3 and more refuse', () => {
      expect(backlogFull(3, 2)).to.equal(false);
      expect(backlogFull(3, 3)).to.equal(true);
      expect(backlogFull(3, 4)).to.equal(true);
    });

    it('backlogFullError: 429 BACKLOG_FULL with a Retry-After in seconds', () => {
      const error = backlogFullError(3, 3);
      expect(error.status).to.equal(429);
      expect(error.code).to.equal('BACKLOG_FULL');
      expect(error.retryAfterSeconds).to.be.greaterThan(0);
      expect(error.message).to.contain('BACKLOG_HIGH_WATER');
    });
  });
});
