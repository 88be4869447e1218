// Unit tests for the event-stream quota (src/http/stream-quota.ts): per identity, in total, and
// slots given back once.
import { expect } from 'chai';
import { TooManyRequestsError } from '../../src/domain/errors.js';
import { createStreamQuota } from '../../src/http/stream-quota.js';

function refusalOf(take: () => unknown): TooManyRequestsError {
  try {
    take();
  } catch (error) {
    expect(error).to.be.instanceOf(TooManyRequestsError);
    return error as TooManyRequestsError;
  }
  expect.fail('expected a refusal');
}

describe('stream quota', () => {
  it('per identity: the cap is reached, then 429 STREAM_QUOTA_EXCEEDED naming MAX_EVENT_STREAMS_PER_IDENTITY', () => {
    const quota = createStreamQuota({ perIdentity: 2, total: 10 });
    quota.acquire('alice');
    quota.acquire('alice');

    const error = refusalOf(() => quota.acquire('alice'));

    expect(error.code).to.equal('STREAM_QUOTA_EXCEEDED');
    expect(error.status).to.equal(429);
    expect(error.retryAfterSeconds).to.be.greaterThan(0);
    expect(error.message).to.contain('MAX_EVENT_STREAMS_PER_IDENTITY is 2');
    expect(quota.open('alice')).to.equal(2);
  });

  it('another identity still gets a slot', () => {
    const quota = createStreamQuota({ perIdentity: 1, total: 10 });
    quota.acquire('alice');

    quota.acquire('bob');

    expect(quota.open('bob')).to.equal(1);
    expect(quota.open()).to.equal(2);
  });

  it('in total: 429 naming MAX_EVENT_STREAMS, whoever asks', () => {
    const quota = createStreamQuota({ perIdentity: 5, total: 2 });
    quota.acquire('alice');
    quota.acquire('bob');

    expect(refusalOf(() => quota.acquire('carol')).message).to.contain('MAX_EVENT_STREAMS is 2');
  });

  it('a release frees one slot, once however often it is called', () => {
    const quota = createStreamQuota({ perIdentity: 2, total: 10 });
    const release = quota.acquire('alice');
    quota.acquire('alice');

    release();
    release();

    expect(quota.open('alice')).to.equal(1);
    expect(quota.open()).to.equal(1);
    quota.acquire('alice');
    expect(() => quota.acquire('alice')).to.throw(TooManyRequestsError);
  });
});
