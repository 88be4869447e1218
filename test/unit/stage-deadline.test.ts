// The stage deadline's one rule (src/domain/stage-deadline.ts): a program's timeout is bounded by
// what the stage's timeoutMs leaves, less a reserve for killing it and reporting why.
import { expect } from 'chai';
import { boundByDeadline, DEADLINE_RESERVE_MS, startStageTimeout } from '../../src/domain/stage-deadline.js';

describe('stage deadline', () => {
  const now = 1_000_000;

  it('no deadline: the timeout asked for, not bounded', () => {
    expect(boundByDeadline(900_000, null, now)).to.deep.equal({ timeoutMs: 900_000, bounded: false });
    expect(boundByDeadline(900_000, undefined, now)).to.deep.equal({ timeoutMs: 900_000, bounded: false });
  });

  it('a timeout that ends before the deadline (less the reserve) is kept', () => {
    expect(boundByDeadline(10_000, now + 10_000 + DEADLINE_RESERVE_MS, now)).to.deep.equal({ timeoutMs: 10_000, bounded: false });
  });

  it('a longer one is cut to what is left less the reserve, or half of what is left when that is short', () => {
    expect(boundByDeadline(900_000, now + 60_000, now)).to.deep.equal({ timeoutMs: 60_000 - DEADLINE_RESERVE_MS, bounded: true });
    expect(boundByDeadline(900_000, now + 4000, now)).to.deep.equal({ timeoutMs: 2000, bounded: true });
    expect(boundByDeadline(900_000, now - 5, now)).to.deep.equal({ timeoutMs: 1, bounded: true });
  });

  it('startStageTimeout: the deadline is the start plus timeoutMs; none without one', () => {
    const delivery = new AbortController().signal;
    const timed = startStageTimeout(delivery, 60_000, now);
    expect(timed.deadline).to.equal(now + 60_000);
    expect(timed.timedOut()).to.equal(false);
    const untimed = startStageTimeout(delivery, null, now);
    expect(untimed.deadline).to.equal(null);
    expect(untimed.signal).to.equal(delivery);
  });
});
