// The gap tracker puts ids that commit out of order back in order; time is a number we pass in.
import { expect } from 'chai';
import { createGapTracker } from '../../src/infra/events/gap-tracker.js';

const ev = (...ids: number[]) => ids.map((id) => ({ id: String(id) }));
const ids = (events: { id: string }[]) => events.map((e) => Number(e.id));

describe('gap tracker (unit)', () => {
  it('contiguous ids after the start: delivered at once, in id order, whatever order they arrive in', () => {
    const tracker = createGapTracker({ after: '10', gapTimeoutMs: 2000 });
    const { ready, skipped } = tracker.offer(ev(13, 11, 12), 0);
    expect(ids(ready)).to.deep.equal([11, 12, 13]);
    expect(skipped).to.deep.equal([]);
    expect(tracker.cursor()).to.equal('13');
    expect(tracker.held()).to.equal(0);
  });

  it('repeats and ids at or below the cursor: ignored (a poll reads held events again)', () => {
    const tracker = createGapTracker({ after: '10' });
    expect(ids(tracker.offer(ev(9, 10, 11), 0).ready)).to.deep.equal([11]);
    expect(ids(tracker.offer(ev(11, 12, 12), 1).ready)).to.deep.equal([12]);
  });

  it('a gap filled late: later ids are held, then all come out in order once it fills', () => {
    const tracker = createGapTracker({ after: '10', gapTimeoutMs: 2000 });
    expect(ids(tracker.offer(ev(11, 13, 14), 0).ready)).to.deep.equal([11]);
    expect(tracker.held()).to.equal(2);
    expect(tracker.cursor()).to.equal('11');
    // A poll before the timeout that still misses 12 moves nothing.
    expect(ids(tracker.offer(ev(13, 14, 15), 1999).ready)).to.deep.equal([]);
    const { ready, skipped } = tracker.offer(ev(12, 13, 14, 15), 1999);
    expect(ids(ready)).to.deep.equal([12, 13, 14, 15]);
    expect(skipped).to.deep.equal([]);
    expect(tracker.cursor()).to.equal('15');
  });

  it('a permanent gap (rolled-back insert): released once the events above it waited the gap timeout', () => {
    const tracker = createGapTracker({ after: '10', gapTimeoutMs: 2000 });
    expect(ids(tracker.offer(ev(12, 13), 1000).ready)).to.deep.equal([]);
    expect(ids(tracker.offer([], 2999).ready)).to.deep.equal([]);
    const { ready, skipped } = tracker.offer([], 3000);
    expect(ids(ready)).to.deep.equal([12, 13]);
    expect(skipped).to.deep.equal(['11']);
    expect(tracker.cursor()).to.equal('13');
  });

  it('a gap whose wait began with an earlier sighting: measured from the first event seen above it', () => {
    const tracker = createGapTracker({ after: '10', gapTimeoutMs: 2000 });
    // 13 seen at t=0; 12 commits at t=1500 but 11 never does. 11 was handed out before 13,
    // so its wait began at t=0 for both held events.
    tracker.offer(ev(13), 0);
    expect(ids(tracker.offer(ev(12, 13), 1500).ready)).to.deep.equal([]);
    const { ready, skipped } = tracker.offer([], 2000);
    expect(ids(ready)).to.deep.equal([12, 13]);
    expect(skipped).to.deep.equal(['11']);
  });

  it('two gaps: the second is waited for from its own first sighting', () => {
    const tracker = createGapTracker({ after: '0', gapTimeoutMs: 100 });
    tracker.offer(ev(2), 0);
    tracker.offer(ev(2, 5), 90);
    // At 100 the gap at 1 times out (2 seen at 0); 5 has waited 10 ms only.
    const first = tracker.offer([], 100);
    expect(ids(first.ready)).to.deep.equal([2]);
    expect(first.skipped).to.deep.equal(['1']);
    expect(ids(tracker.offer(ev(4), 150).ready)).to.deep.equal([]);
    const second = tracker.offer([], 190);
    expect(ids(second.ready)).to.deep.equal([4, 5]);
    expect(second.skipped).to.deep.equal(['3']);
  });

  it('ids beyond 2^53: compared exactly (bigints as strings)', () => {
    const tracker = createGapTracker({ after: '9007199254740993' });
    const { ready } = tracker.offer([{ id: '9007199254740995' }, { id: '9007199254740994' }], 0);
    expect(ready.map((e) => e.id)).to.deep.equal(['9007199254740994', '9007199254740995']);
  });
});
