// Unit tests for the Retention variables and the BullMQ options made from them
// (src/config/variables/retention.variables.ts, src/infra/queue/retention.ts): defaults, parsing,
// production bounds, and the keep rules each queue gets.
import { expect } from 'chai';
import { ConfigError, parseConfig } from '../../src/config.js';
import { describeBounds } from '../../src/config/bounds.js';
import { productionRefusals } from '../../src/config/production-refusals.js';
import { REGISTRY } from '../../src/config/registry.js';
import { formatDuration } from '../../src/domain/duration.js';
import {
  DEFAULT_QUEUE_RETENTION,
  finishedJobOptions,
  keepJobs,
  queueRetentionFrom,
  retentionQueueOptions,
} from '../../src/infra/queue/retention.js';

const BASE = { DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/x', REDIS_URL: 'redis://127.0.0.1:6379' };

describe('queue retention (unit)', () => {
  it('the defaults of every profile are DEFAULT_QUEUE_RETENTION (the value queues built without a config use)', () => {
    for (const NODE_ENV of ['development', 'test', 'production']) {
      expect(queueRetentionFrom(parseConfig({ ...BASE, NODE_ENV })), NODE_ENV).to.deep.equal(DEFAULT_QUEUE_RETENTION);
    }
  });

  it('reads counts, ages (durations, in whole seconds for BullMQ) and the events cap', () => {
    const config = parseConfig({
      ...BASE,
      NODE_ENV: 'test',
      COMPLETED_JOBS_KEEP: '0',
      COMPLETED_JOBS_MAX_AGE: '90m',
      FAILED_JOBS_KEEP: '250',
      FAILED_JOBS_MAX_AGE: '30d',
      QUEUE_EVENTS_MAX_LEN: '0',
    });
    expect(queueRetentionFrom(config)).to.deep.equal({
      completed: { count: 0, ageSeconds: 5400 },
      failed: { count: 250, ageSeconds: 30 * 86_400 },
      eventsMaxLen: 0,
    });
    // Below a second still keeps a job a second: BullMQ's age 0 would remove the job itself.
    const tiny = queueRetentionFrom(parseConfig({ ...BASE, NODE_ENV: 'test', COMPLETED_JOBS_MAX_AGE: '200ms' }));
    expect(tiny.completed.ageSeconds).to.equal(1);
  });

  it('refuses a bad value naming the variable: a count below 0, an age that is no duration or above its cap', () => {
    for (const [name, value] of [
      ['FAILED_JOBS_KEEP', '-1'],
      ['COMPLETED_JOBS_MAX_AGE', '24'],
      ['COMPLETED_JOBS_MAX_AGE', '31d'],
      ['FAILED_JOBS_MAX_AGE', '366d'],
      ['QUEUE_EVENTS_MAX_LEN', '1000001'],
    ] as const) {
      let caught: unknown;
      try {
        parseConfig({ ...BASE, NODE_ENV: 'test', [name]: value });
      } catch (error) {
        caught = error;
      }
      expect(caught, `${name}=${value}`).to.be.instanceOf(ConfigError);
      expect((caught as ConfigError).message).to.include(name);
    }
  });

  it('production refuses a DLQ kept less than a day or under 100 jobs, and more than 100,000 jobs or stream entries', () => {
    const refused = (env: Record<string, string>) =>
      productionRefusals(parseConfig({ ...BASE, NODE_ENV: 'production', ...env }), { redisEvictionPolicy: 'noeviction' })
        .map((r) => r.field)
        .filter((f) => f in REGISTRY && REGISTRY[f as keyof typeof REGISTRY].group === 'Retention');
    expect(refused({})).to.deep.equal([]);
    expect(refused({ FAILED_JOBS_KEEP: '0' })).to.deep.equal(['FAILED_JOBS_KEEP']);
    expect(refused({ FAILED_JOBS_MAX_AGE: '12h' })).to.deep.equal(['FAILED_JOBS_MAX_AGE']);
    expect(refused({ COMPLETED_JOBS_KEEP: '100001', QUEUE_EVENTS_MAX_LEN: '100001' })).to.deep.equal([
      'COMPLETED_JOBS_KEEP',
      'QUEUE_EVENTS_MAX_LEN',
    ]);
    // COMPLETED_JOBS_KEEP=0 is fine in production: Postgres holds the record.
    expect(refused({ COMPLETED_JOBS_KEEP: '0', QUEUE_EVENTS_MAX_LEN: '0' })).to.deep.equal([]);
  });

  it('duration bounds are printed as durations in the docs', () => {
    expect(describeBounds(REGISTRY.FAILED_JOBS_MAX_AGE)).to.equal('at least 1d');
    expect(REGISTRY.COMPLETED_JOBS_MAX_AGE.type).to.include('up to 30d');
    expect([86_400_000, 5_400_000, 90_000, 1500, 0].map(formatDuration)).to.deep.equal(['1d', '90m', '90s', '1500ms', '0ms']);
  });

  it('one keep rule per kind, as BullMQ KeepJobs, as queue defaults with the events cap', () => {
    const retention = { completed: { count: 0, ageSeconds: 60 }, failed: { count: 500, ageSeconds: 3600 }, eventsMaxLen: 50 };
    expect(keepJobs(retention.failed)).to.deep.equal({ count: 500, age: 3600 });
    expect(finishedJobOptions(retention)).to.deep.equal({
      removeOnComplete: { count: 0, age: 60 },
      removeOnFail: { count: 500, age: 3600 },
    });
    expect(retentionQueueOptions(retention)).to.deep.equal({
      streams: { events: { maxLen: 50 } },
      defaultJobOptions: { removeOnComplete: { count: 0, age: 60 }, removeOnFail: { count: 500, age: 3600 } },
    });
  });
});
