// Retry delays: the pure capped-exponential function, its jitter range, the fixed type, the job
// option a stage's retry policy becomes, and the strategy as BullMQ itself calls it.
import { expect } from 'chai';
import { Backoffs, type MinimalJob } from 'bullmq';
import {
  backoffOption,
  CAPPED_EXPONENTIAL,
  CAPPED_FIXED,
  computeBackoffDelay,
  createBackoffStrategy,
} from '../../src/infra/queue/backoff.js';

const CAP = 30_000;
const exact = (attempt: number, baseMs = 1000, type: 'exponential' | 'fixed' = 'exponential') =>
  computeBackoffDelay({ attempt, type, baseMs, capMs: CAP, jitter: 0 });
const jobWith = (backoff: { type: string; delay: number; jitter?: number }) => ({ opts: { backoff } }) as unknown as MinimalJob;

describe('retry backoff (unit)', () => {
  describe('computeBackoffDelay', () => {
    it('exponential from a 1 s base: 1, 2, 4, 8, 16 s', () => {
      expect([1, 2, 3, 4, 5].map((a) => exact(a))).to.deep.equal([1000, 2000, 4000, 8000, 16_000]);
    });

    it('is capped at 30 s from the sixth delay on, even for huge attempt numbers', () => {
      expect(exact(6)).to.equal(30_000);
      expect(exact(50)).to.equal(30_000);
      expect(exact(5000)).to.equal(30_000);
      expect(computeBackoffDelay({ attempt: 3, type: 'exponential', baseMs: 1000, capMs: 2500, jitter: 0 })).to.equal(2500);
    });

    it('jitter shortens a delay by at most its share: random 0 gives the floor, random → 1 the full delay', () => {
      const at = (random: number, jitter: number, attempt = 3) =>
        computeBackoffDelay({ attempt, type: 'exponential', baseMs: 1000, capMs: CAP, jitter, random: () => random });
      expect(at(0, 0.5)).to.equal(2000);
      expect(at(0.999999, 0.5)).to.equal(3999);
      expect(at(0.5, 0.5)).to.equal(3000);
      expect(at(0, 1)).to.equal(0);
      expect(at(0.25, 0)).to.equal(4000);
    });

    it('with jitter every delay lies in [cap × (1 − jitter), cap] once capped, over many draws', () => {
      for (let i = 0; i < 500; i++) {
        const delay = computeBackoffDelay({ attempt: 10, type: 'exponential', baseMs: 1000, capMs: CAP, jitter: 0.5 });
        expect(delay).to.be.within(15_000, 30_000);
        expect(Number.isInteger(delay)).to.equal(true);
      }
    });

    it('fixed: the base every time, also capped', () => {
      expect([1, 2, 7].map((a) => exact(a, 5000, 'fixed'))).to.deep.equal([5000, 5000, 5000]);
      expect(exact(1, 120_000, 'fixed')).to.equal(30_000);
      expect(exact(1, 0, 'fixed')).to.equal(0);
    });
  });

  describe('job option and BullMQ strategy', () => {
    it("a stage's retry policy becomes one of the capped types, with its base and jitter", () => {
      expect(backoffOption({ type: 'exponential', delayMs: 1000, jitter: 0.5 })).to.deep.equal({
        type: CAPPED_EXPONENTIAL,
        delay: 1000,
        jitter: 0.5,
      });
      expect(backoffOption({ type: 'fixed', delayMs: 20, jitter: 0 })).to.deep.equal({ type: CAPPED_FIXED, delay: 20, jitter: 0 });
    });

    it('BullMQ computes the delay through the strategy: attemptsMade + 1 is the attempt, the cap applies', async () => {
      // Backoffs.calculate is what Job.moveToFailed calls, with attemptsMade + 1.
      const strategy = createBackoffStrategy(CAP, () => 0);
      const option = { type: CAPPED_EXPONENTIAL, delay: 1000, jitter: 0 };
      const delays = [];
      for (let attemptsMade = 0; attemptsMade < 8; attemptsMade++) {
        delays.push(await Backoffs.calculate(option, attemptsMade + 1, new Error('x'), jobWith(option), strategy));
      }
      expect(delays).to.deep.equal([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    });

    it('the strategy reads base and jitter from the job and the type from BullMQ', async () => {
      const strategy = createBackoffStrategy(10_000, () => 0);
      const fixed = { type: CAPPED_FIXED, delay: 700, jitter: 0.5 };
      expect(await Backoffs.calculate(fixed, 4, new Error('x'), jobWith(fixed), strategy)).to.equal(350);
      const big = { type: CAPPED_EXPONENTIAL, delay: 60_000, jitter: 0 };
      expect(await Backoffs.calculate(big, 1, new Error('x'), jobWith(big), strategy)).to.equal(10_000);
    });

    it("BullMQ's built-in types do not reach the strategy (jobs added before it keep their own shape)", async () => {
      const strategy = createBackoffStrategy(CAP, () => 0);
      const legacy = { type: 'exponential', delay: 1000, jitter: 0 };
      expect(await Backoffs.calculate(legacy, 7, new Error('x'), jobWith(legacy), strategy)).to.equal(64_000);
    });
  });
});
