// The schedule rules of src/domain/schedule.ts, without I/O: the request and timing checks (each
// naming its field), the fire times of a cron in its time zone and of an interval, what a tick
// does under each overlap policy, and the missed-ticks policy of a rebuild ("run once on recovery").
import { defaultRepeatStrategy } from 'bullmq';
import { expect } from 'chai';
import { ValidationError } from '../../src/domain/errors.js';
import {
  closestCronGapMs,
  decideTick,
  fireTimes,
  parseScheduleCreate,
  requestFieldOf,
  scheduledRunOf,
  schedulerPlan,
  scheduleStateAt,
  timingOf,
  type ScheduleTiming,
  type TickSituation,
} from '../../src/domain/schedule.js';

const NOW = new Date('2027-01-15T12:00:00.000Z');

/** The fields a 400 names, from a call expected to throw a ValidationError. */
function fieldsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(ValidationError);
    return (error as ValidationError).details.map((d) => d.field);
  }
  expect.fail('expected a ValidationError');
}

const timing = (body: Record<string, unknown>) => timingOf(parseScheduleCreate({ template: 'smoke', ...body }), NOW);

describe('schedules: the request and its timing (unit)', () => {
  it('a cron with a time zone, or an interval, is accepted; timezone defaults to UTC', () => {
    expect(timing({ cron: '0 2 * * *', timezone: 'Europe/Paris' })).to.include({
      kind: 'cron',
      cron: '0 2 * * *',
      timezone: 'Europe/Paris',
    });
    expect(timing({ cron: '*/5 * * * *' })).to.include({ kind: 'cron', timezone: 'UTC' });
    expect(timing({ everyMs: 60_000 })).to.include({ kind: 'every', everyMs: 60_000 });
  });

  it('a bad cron, an unknown zone, both or neither timing, a zone without cron: 400 naming the field', () => {
    expect(fieldsOf(() => timing({ cron: 'every night' }))).to.deep.equal(['cron']);
    expect(fieldsOf(() => timing({ cron: '0 2 * * *', timezone: 'Mars/Olympus' }))).to.deep.equal(['timezone']);
    expect(fieldsOf(() => timing({ cron: '0 2 * * *', everyMs: 60_000 }))).to.deep.equal(['cron']);
    expect(fieldsOf(() => timing({}))).to.deep.equal(['cron']);
    expect(fieldsOf(() => timing({ everyMs: 60_000, timezone: 'UTC' }))).to.deep.equal(['timezone']);
  });

  it('a cron that parses but no date matches (31 February or April): 400 naming cron, with or without a minimum interval', () => {
    for (const cron of ['0 0 31 2,4 *', '0 0 30 2 *', '0 0 31 4,6,9,11 *']) {
      expect(
        fieldsOf(() => timing({ cron })),
        cron,
      ).to.deep.equal(['cron']);
      expect(
        fieldsOf(() => timingOf(parseScheduleCreate({ template: 'smoke', cron }), NOW, { minIntervalMs: 60_000 })),
        cron,
      ).to.deep.equal(['cron']);
    }
    // Rare is not never: the next 29 February.
    expect(timing({ cron: '0 0 29 2 *' })).to.include({ kind: 'cron' });
  });

  it("a cron using H (cron-parser's random value, drawn again at each parse): 400 naming cron; day names such as THU are not H", () => {
    for (const cron of ['H 2 * * *', 'H/15 * * * *', 'H(0-29) 2 * * *', '0 H 1 * *', '0 0 2 * * H', '0 0,H 2 * * *']) {
      const refused = fieldsOf(() => timing({ cron, timezone: 'Europe/Paris' }));
      expect(refused, cron).to.deep.equal(['cron']);
    }
    expect(timing({ cron: '0 2 * * THU' })).to.include({ kind: 'cron', cron: '0 2 * * THU' });
    expect(timing({ cron: '0 2 * * MON,THU' })).to.include({ kind: 'cron' });
  });

  it('an interval out of bounds, or not whole: 400 naming everyMs', () => {
    expect(fieldsOf(() => parseScheduleCreate({ template: 'smoke', everyMs: 10 }))).to.deep.equal(['everyMs']);
    expect(fieldsOf(() => parseScheduleCreate({ template: 'smoke', everyMs: 400 * 24 * 3600 * 1000 }))).to.deep.equal(['everyMs']);
    expect(fieldsOf(() => parseScheduleCreate({ template: 'smoke', everyMs: 1500.5 }))).to.deep.equal(['everyMs']);
  });

  describe('the minimum interval (SCHEDULE_MIN_INTERVAL_MS)', () => {
    const bounded = (body: Record<string, unknown>) =>
      timingOf(parseScheduleCreate({ template: 'smoke', ...body }), NOW, { minIntervalMs: 60_000 });

    it('an interval under it: 400 naming everyMs with code interval_too_short; at it: accepted', () => {
      expect(fieldsOf(() => bounded({ everyMs: 59_999 }))).to.deep.equal(['everyMs']);
      try {
        bounded({ everyMs: 1000 });
      } catch (error) {
        expect((error as ValidationError).details[0]).to.include({ code: 'interval_too_short' });
      }
      expect(bounded({ everyMs: 60_000 })).to.include({ kind: 'every', everyMs: 60_000 });
    });

    it('a cron whose closest fire times are under it: 400 naming cron; a minutely or nightly cron: accepted', () => {
      expect(fieldsOf(() => bounded({ cron: '* * * * * *' }))).to.deep.equal(['cron']);
      expect(fieldsOf(() => bounded({ cron: '*/30 * * * * *' }))).to.deep.equal(['cron']);
      // Two fires ten seconds apart once a day at 03:00: found among the next fire times, not only the first two.
      expect(fieldsOf(() => bounded({ cron: '0,10 0 3 * * *' }))).to.deep.equal(['cron']);
      expect(bounded({ cron: '* * * * *' })).to.include({ kind: 'cron' });
      expect(bounded({ cron: '0 2 * * *', timezone: 'Europe/Paris' })).to.include({ kind: 'cron' });
    });

    it('without bounds the one-second floor applies, as the schema has it', () => {
      expect(timing({ everyMs: 1000 })).to.include({ everyMs: 1000 });
      expect(timing({ cron: '* * * * * *' })).to.include({ kind: 'cron' });
    });

    it('closestCronGapMs: the shortest gap among the next fire times; null when fewer than two fall before the end', () => {
      const cron = (expr: string, endAt: Date | null = null): Extract<ScheduleTiming, { kind: 'cron' }> => ({
        kind: 'cron',
        cron: expr,
        timezone: 'UTC',
        startAt: null,
        endAt,
      });
      expect(closestCronGapMs(cron('*/15 * * * *'), NOW.getTime())).to.equal(15 * 60_000);
      expect(closestCronGapMs(cron('0,1 * * * *'), NOW.getTime())).to.equal(60_000);
      expect(closestCronGapMs(cron('0 2 * * *', new Date(NOW.getTime() + 86_400_000)), NOW.getTime())).to.equal(null);
    });
  });

  it('an end before its start, or in the past, a bad date, an unknown overlap or field: 400 naming it', () => {
    expect(fieldsOf(() => timing({ everyMs: 60_000, startAt: '2027-02-01T00:00:00Z', endAt: '2027-01-31T00:00:00Z' }))).to.deep.equal([
      'endAt',
    ]);
    expect(fieldsOf(() => timing({ everyMs: 60_000, endAt: '2026-01-01T00:00:00Z' }))).to.deep.equal(['endAt']);
    expect(fieldsOf(() => parseScheduleCreate({ template: 'smoke', everyMs: 60_000, startAt: 'tomorrow' }))).to.deep.equal(['startAt']);
    expect(fieldsOf(() => parseScheduleCreate({ template: 'smoke', everyMs: 60_000, endAt: '9999-12-31T23:59:59-00:01' }))).to.deep.equal([
      'endAt',
    ]);
    expect(fieldsOf(() => parseScheduleCreate({ template: 'smoke', everyMs: 60_000, overlap: 'drop' }))).to.deep.equal(['overlap']);
    expect(fieldsOf(() => parseScheduleCreate({ template: 'smoke', everyMs: 60_000, colour: 'red' }))).to.deep.equal(['colour']);
  });

  it('the run: a template with its input, or a definition (input replaced when given); both or neither is a 400', () => {
    const fromTemplate = scheduledRunOf(
      parseScheduleCreate({ template: 'smoke', input: { project: 'x' }, labels: { team: 'a' }, everyMs: 1000 }),
    );
    expect(fromTemplate).to.deep.equal({
      name: 'smoke',
      body: { template: 'smoke', input: { project: 'x' }, labels: { team: 'a' } },
      fieldPrefix: '',
      ownFields: [],
    });
    const definition = { name: 'nightly', input: { a: 1 }, stages: [{ key: 'a', agent: 'noop' }] };
    const fromDefinition = scheduledRunOf(parseScheduleCreate({ name: 'my nightly', definition, input: { b: 2 }, everyMs: 1000 }));
    expect(fromDefinition.name).to.equal('my nightly');
    expect(fromDefinition.body).to.deep.equal({ ...definition, input: { b: 2 } });
    expect(fromDefinition.fieldPrefix).to.equal('definition.');
    // A problem in the body is named where the schedule request had it.
    const withLabels = scheduledRunOf(parseScheduleCreate({ definition, input: { b: 2 }, labels: { team: 'a' }, everyMs: 1000 }));
    expect(['stages[0].agent', 'labels.team', 'input.b', 'name', '(body)'].map((f) => requestFieldOf(withLabels, f))).to.deep.equal([
      'definition.stages[0].agent',
      'labels.team',
      'input.b',
      'definition.name',
      'definition',
    ]);
    expect(requestFieldOf(fromDefinition, 'labels.team')).to.equal('definition.labels.team');
    expect(requestFieldOf(fromTemplate, 'labels.team')).to.equal('labels.team');
    expect(fieldsOf(() => scheduledRunOf(parseScheduleCreate({ template: 'smoke', definition, everyMs: 1000 })))).to.deep.equal([
      'template',
    ]);
    expect(fieldsOf(() => scheduledRunOf(parseScheduleCreate({ everyMs: 1000 })))).to.deep.equal(['template']);
  });
});

describe('schedules: fire times (unit)', () => {
  it('a cron fires in its own time zone: 02:00 in Paris is 01:00Z in winter, 00:00Z in summer', () => {
    const paris: ScheduleTiming = { kind: 'cron', cron: '0 2 * * *', timezone: 'Europe/Paris', startAt: null, endAt: null };
    expect(fireTimes(paris, NOW.getTime(), 2).map((d) => d.toISOString())).to.deep.equal([
      '2027-01-16T01:00:00.000Z',
      '2027-01-17T01:00:00.000Z',
    ]);
    expect(fireTimes(paris, Date.parse('2027-07-01T12:00:00Z'), 1)[0]!.toISOString()).to.equal('2027-07-02T00:00:00.000Z');
  });

  describe('across a daylight saving change (a daily 02:30, the hour that is skipped in spring and repeated in autumn)', () => {
    const at0230 = (timezone: string): ScheduleTiming => ({ kind: 'cron', cron: '30 2 * * *', timezone, startAt: null, endAt: null });
    /** The job scheduler's next ticks, as BullMQ computes them from each tick (its default repeat strategy). */
    const bullmqTicks = (timezone: string, from: string, count: number): string[] => {
      const out: string[] = [];
      let t = Date.parse(from);
      for (let i = 0; i < count; i++) {
        t = defaultRepeatStrategy(t, { pattern: '30 2 * * *', tz: timezone })!;
        out.push(new Date(t).toISOString());
      }
      return out;
    };
    const cases = [
      {
        zone: 'Europe/Paris',
        // 28 March 2027, 02:00 CET → 03:00 CEST: 02:30 does not exist; it fires once, at 03:30 CEST.
        spring: ['2027-03-26T12:00:00Z', '2027-03-27T01:30:00.000Z', '2027-03-28T01:30:00.000Z', '2027-03-29T00:30:00.000Z'],
        // 31 October 2027, 03:00 CEST → 02:00 CET: 02:30 happens twice; it fires once, at the first (CEST).
        autumn: ['2027-10-29T12:00:00Z', '2027-10-30T00:30:00.000Z', '2027-10-31T00:30:00.000Z', '2027-11-01T01:30:00.000Z'],
      },
      {
        zone: 'America/New_York',
        // 14 March 2027, 02:00 EST → 03:00 EDT: once, at 03:30 EDT.
        spring: ['2027-03-12T12:00:00Z', '2027-03-13T07:30:00.000Z', '2027-03-14T07:30:00.000Z', '2027-03-15T06:30:00.000Z'],
        // 7 November 2027, 02:00 EDT → 01:00 EST: 02:30 happens once (EST), as any day.
        autumn: ['2027-11-05T12:00:00Z', '2027-11-06T06:30:00.000Z', '2027-11-07T07:30:00.000Z', '2027-11-08T07:30:00.000Z'],
      },
    ];
    for (const { zone, spring, autumn } of cases) {
      it(`${zone}: one run a day, the skipped 02:30 an hour late, the repeated one once; the job scheduler agrees`, () => {
        for (const [from, ...expected] of [spring, autumn]) {
          expect(
            fireTimes(at0230(zone), Date.parse(from!), 3).map((d) => d.toISOString()),
            `${zone} from ${from}`,
          ).to.deep.equal(expected);
          expect(bullmqTicks(zone, from!, 3), `BullMQ, ${zone} from ${from}`).to.deep.equal(expected);
        }
      });
    }
  });

  it('the first time given is itself a fire time when the cron matches it; none after the end date', () => {
    const hourly: ScheduleTiming = {
      kind: 'cron',
      cron: '0 * * * *',
      timezone: 'UTC',
      startAt: null,
      endAt: new Date('2027-01-15T14:30:00Z'),
    };
    expect(fireTimes(hourly, Date.parse('2027-01-15T12:00:00Z'), 5).map((d) => d.toISOString())).to.deep.equal([
      '2027-01-15T12:00:00.000Z',
      '2027-01-15T13:00:00.000Z',
      '2027-01-15T14:00:00.000Z',
    ]);
  });

  it('no fire time after 9999-12-31T23:59:59.999Z, the last instant with a four-digit year, end date or not', () => {
    const late = new Date('9999-12-31T00:00:01Z');
    expect(fireTimes({ kind: 'cron', cron: '0 0 * * *', timezone: 'UTC', startAt: late, endAt: null }, late.getTime(), 3)).to.deep.equal(
      [],
    );
    expect(fireTimes({ kind: 'every', everyMs: 86_400_000, startAt: late, endAt: null }, late.getTime(), 3)).to.deep.equal([late]);
  });

  it('a stored cron no date matches (accepted before the check above) lists no fire time instead of throwing', () => {
    const never: ScheduleTiming = { kind: 'cron', cron: '0 0 31 2,4 *', timezone: 'UTC', startAt: null, endAt: null };
    expect(fireTimes(never, NOW.getTime(), 3)).to.deep.equal([]);
    expect(schedulerPlan(never, { createdAt: NOW, lastTickAt: null }, NOW, true)).to.include({ catchUp: false });
  });

  it('an interval: the first time plus whole intervals', () => {
    const every: ScheduleTiming = { kind: 'every', everyMs: 60_000, startAt: null, endAt: null };
    expect(fireTimes(every, NOW.getTime(), 3).map((d) => d.getTime() - NOW.getTime())).to.deep.equal([0, 60_000, 120_000]);
  });

  it('a schedule shows ended once its end date has passed, else its stored state', () => {
    expect(scheduleStateAt('active', new Date(NOW.getTime() - 1), NOW)).to.equal('ended');
    expect(scheduleStateAt('paused', new Date(NOW.getTime() - 1), NOW)).to.equal('ended');
    expect(scheduleStateAt('paused', null, NOW)).to.equal('paused');
    expect(scheduleStateAt('active', new Date(NOW.getTime() + 1), NOW)).to.equal('active');
  });
});

describe('schedules: what a tick does (unit)', () => {
  const tick = (s: Partial<TickSituation>) =>
    decideTick({ state: 'active', overlap: 'skip', endAt: null, tickAt: NOW, unfinished: 0, waiting: 0, ...s });

  it('paused, or past the end date: skipped, whatever the overlap', () => {
    expect(tick({ state: 'paused', overlap: 'allow' })).to.deep.equal({ outcome: 'skipped', reason: 'paused' });
    expect(tick({ endAt: new Date(NOW.getTime() - 1), overlap: 'allow' })).to.deep.equal({ outcome: 'skipped', reason: 'ended' });
  });

  it('skip: starts when nothing runs, skips while a run is unfinished', () => {
    expect(tick({ overlap: 'skip' }).outcome).to.equal('started');
    expect(tick({ overlap: 'skip', unfinished: 1 })).to.deep.equal({ outcome: 'skipped', reason: 'overlap' });
  });

  it('queue_one: one tick waits behind the unfinished run, the next ones skip; a waiting tick goes first', () => {
    expect(tick({ overlap: 'queue_one' }).outcome).to.equal('started');
    expect(tick({ overlap: 'queue_one', unfinished: 1 })).to.deep.equal({ outcome: 'waiting', reason: 'overlap' });
    expect(tick({ overlap: 'queue_one', unfinished: 1, waiting: 1 })).to.deep.equal({ outcome: 'skipped', reason: 'overlap' });
    expect(tick({ overlap: 'queue_one', unfinished: 0, waiting: 1 })).to.deep.equal({ outcome: 'skipped', reason: 'overlap' });
  });

  it('allow: always starts', () => {
    expect(tick({ overlap: 'allow', unfinished: 3, waiting: 0 }).outcome).to.equal('started');
  });
});

describe('schedules: missed ticks, "run once on recovery" (unit)', () => {
  const every: ScheduleTiming = { kind: 'every', everyMs: 60_000, startAt: null, endAt: null };
  const nightly: ScheduleTiming = { kind: 'cron', cron: '0 2 * * *', timezone: 'UTC', startAt: null, endAt: null };
  const created = new Date('2027-01-10T00:00:00Z');

  it('a rebuild of an interval schedule that missed ticks fires once now; one that missed none keeps its next tick', () => {
    const missed = schedulerPlan(every, { createdAt: created, lastTickAt: new Date(NOW.getTime() - 10 * 60_000) }, NOW, true);
    expect(missed).to.deep.equal({ startAt: NOW, immediately: false, catchUp: true });
    const onTime = schedulerPlan(every, { createdAt: created, lastTickAt: new Date(NOW.getTime() - 1000) }, NOW, true);
    expect(onTime).to.deep.equal({ startAt: new Date(NOW.getTime() + 59_000), immediately: false, catchUp: false });
  });

  it('a rebuild of a cron schedule that missed its 02:00 fires once now; one that missed none waits for the next', () => {
    const missed = schedulerPlan(nightly, { createdAt: created, lastTickAt: new Date('2027-01-14T02:00:00Z') }, NOW, true);
    expect(missed).to.deep.equal({ startAt: null, immediately: true, catchUp: true });
    const onTime = schedulerPlan(nightly, { createdAt: created, lastTickAt: new Date('2027-01-15T02:00:00Z') }, NOW, true);
    expect(onTime.catchUp).to.equal(false);
    expect(onTime.immediately).to.equal(false);
  });

  it('a new or resumed schedule never catches up: an interval first fires one interval from now (or at its start)', () => {
    expect(schedulerPlan(every, { createdAt: created, lastTickAt: null }, NOW, false)).to.deep.equal({
      startAt: new Date(NOW.getTime() + 60_000),
      immediately: false,
      catchUp: false,
    });
    expect(schedulerPlan(nightly, { createdAt: created, lastTickAt: null }, NOW, false).catchUp).to.equal(false);
  });

  it('ticks past the end date are not caught up', () => {
    const ended: ScheduleTiming = { ...every, endAt: new Date(NOW.getTime() - 3600_000) };
    expect(schedulerPlan(ended, { createdAt: created, lastTickAt: new Date(NOW.getTime() - 2 * 3600_000) }, NOW, true).catchUp).to.equal(
      false,
    );
  });
});
