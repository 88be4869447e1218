// Unit tests for pipeline priorities and deadlines: the BullMQ numbers, the aging formula and its
// bound (src/domain/pipeline-priority.ts), who may ask for urgent, and a submission's deadline
// (src/domain/pipeline-scheduling.ts).
import { expect } from 'chai';
import {
  agingCap,
  effectiveRank,
  jobPriority,
  PIPELINE_PRIORITIES,
  priorityOfRank,
  priorityRank,
  urgentAfterMs,
} from '../../src/domain/pipeline-priority.js';
import { checkPriorityAllowed, inheritedPriority, parseScheduling } from '../../src/domain/pipeline-scheduling.js';
import { ForbiddenError, ValidationError } from '../../src/domain/errors.js';

const NOW = new Date('2026-12-06T12:00:00.000Z');
const BOUNDS = { maxMs: 30 * 86_400_000 };
const STEP = 60_000;

function fieldsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(ValidationError);
    return (error as ValidationError).details.map((d) => d.field);
  }
  throw new Error('expected a ValidationError');
}

describe('pipeline priorities (domain)', () => {
  describe('BullMQ numbers', () => {
    it('urgent 1, high 2, normal 3, low 4: lower runs first, and never 0 (BullMQ runs 0 before every prioritized job)', () => {
      expect(PIPELINE_PRIORITIES.map(jobPriority)).to.deep.equal([1, 2, 3, 4]);
      for (const level of PIPELINE_PRIORITIES) expect(priorityOfRank(priorityRank(level))).to.equal(level);
    });

    it('priorityOfRank clamps: 0 is urgent, 9 is low', () => {
      expect(priorityOfRank(0)).to.equal('urgent');
      expect(priorityOfRank(9)).to.equal('low');
    });
  });

  describe('aging', () => {
    it('the cap counts down one level per step from low, and stops at urgent', () => {
      expect([0, STEP - 1, STEP, 2 * STEP, 3 * STEP, 100 * STEP].map((waited) => agingCap(waited, STEP))).to.deep.equal([4, 4, 3, 2, 1, 1]);
    });

    it('a low pipeline competes as normal after one step, high after two, urgent after three', () => {
      expect([0, 1, 2, 3].map((steps) => effectiveRank('low', steps * STEP, STEP))).to.deep.equal([4, 3, 2, 1]);
    });

    it('aging never makes anything less urgent than it is', () => {
      for (const level of PIPELINE_PRIORITIES) expect(effectiveRank(level, 0, STEP)).to.equal(priorityRank(level));
      expect(effectiveRank('urgent', 10 * STEP, STEP)).to.equal(1);
      expect(effectiveRank('high', STEP, STEP)).to.equal(2);
    });

    it('an aged low pipeline (3 steps) outranks a fresh high one', () => {
      expect(effectiveRank('low', 3 * STEP, STEP)).to.be.below(effectiveRank('high', 0, STEP));
    });

    it('step 0 turns aging off', () => {
      expect(effectiveRank('low', 1e12, 0)).to.equal(4);
      expect(urgentAfterMs(0)).to.equal(0);
    });

    it('the bound: anything competes as urgent after (levels - 1) steps', () => {
      expect(urgentAfterMs(STEP)).to.equal(3 * STEP);
      for (const level of PIPELINE_PRIORITIES) expect(effectiveRank(level, urgentAfterMs(STEP), STEP)).to.equal(1);
    });
  });

  describe('checkPriorityAllowed', () => {
    const submitter = { name: 'ci', roles: ['submitter'] };
    const operator = { name: 'ops', roles: ['submitter', 'operator'] };

    it('a submitter may ask for low, normal and high', () => {
      for (const level of ['low', 'normal', 'high'] as const) expect(() => checkPriorityAllowed(level, submitter)).not.to.throw();
    });

    it('a submitter asking for urgent: 403 PRIORITY_FORBIDDEN naming the field', () => {
      try {
        checkPriorityAllowed('urgent', submitter);
        expect.fail('expected a 403');
      } catch (error) {
        expect(error).to.be.instanceOf(ForbiddenError);
        expect((error as ForbiddenError).code).to.equal('PRIORITY_FORBIDDEN');
        expect((error as ForbiddenError).details[0]!.field).to.equal('priority');
      }
    });

    it('a re-run keeps the priority of the pipeline it re-runs; urgent becomes high for a caller who may not ask for urgent', () => {
      for (const level of ['low', 'normal', 'high'] as const) expect(inheritedPriority(level, submitter)).to.equal(level);
      expect(inheritedPriority('urgent', submitter)).to.equal('high');
      expect(inheritedPriority('urgent', operator)).to.equal('urgent');
    });

    it('an operator (or admin) may ask for urgent', () => {
      expect(() => checkPriorityAllowed('urgent', operator)).not.to.throw();
      expect(() => checkPriorityAllowed('urgent', { name: 'root', roles: ['admin'] })).not.to.throw();
    });
  });

  describe('parseScheduling', () => {
    it('nothing given: normal, no deadline', () => {
      expect(parseScheduling({}, NOW, BOUNDS)).to.deep.equal({ priority: 'normal', deadlineAt: null });
    });

    it('a known priority and an ISO deadline', () => {
      const parsed = parseScheduling({ priority: 'high', deadline: '2026-12-06T14:00:00Z' }, NOW, BOUNDS);
      expect(parsed).to.deep.equal({ priority: 'high', deadlineAt: new Date('2026-12-06T14:00:00Z') });
    });

    it('deadlineIn is a duration from now', () => {
      expect(parseScheduling({ deadlineIn: '90m' }, NOW, BOUNDS).deadlineAt).to.deep.equal(new Date(NOW.getTime() + 90 * 60_000));
    });

    it('an unknown priority: 400 naming priority', () => {
      expect(fieldsOf(() => parseScheduling({ priority: 'critical' }, NOW, BOUNDS))).to.deep.equal(['priority']);
      expect(fieldsOf(() => parseScheduling({ priority: 1 }, NOW, BOUNDS))).to.deep.equal(['priority']);
    });

    it('a deadline in the past, now, too far ahead, or not a date-time with a zone: 400 naming deadline', () => {
      for (const deadline of ['2026-12-06T11:59:59Z', NOW.toISOString(), '2027-02-06T12:00:00Z', '2026-12-07', 'tomorrow', 42])
        expect(
          fieldsOf(() => parseScheduling({ deadline }, NOW, BOUNDS)),
          String(deadline),
        ).to.deep.equal(['deadline']);
    });

    it('deadlineIn not a duration, or over the bound: 400 naming deadlineIn', () => {
      for (const deadlineIn of ['4 hours', '0s', '31d', 5])
        expect(
          fieldsOf(() => parseScheduling({ deadlineIn }, NOW, BOUNDS)),
          String(deadlineIn),
        ).to.deep.equal(['deadlineIn']);
    });

    it('both deadline and deadlineIn: 400; every bad field named at once', () => {
      expect(fieldsOf(() => parseScheduling({ deadline: '2026-12-06T14:00:00Z', deadlineIn: '1h' }, NOW, BOUNDS))).to.deep.equal([
        'deadline',
      ]);
      expect(fieldsOf(() => parseScheduling({ priority: 'x', deadlineIn: 'y' }, NOW, BOUNDS))).to.deep.equal(['priority', 'deadlineIn']);
    });
  });
});
