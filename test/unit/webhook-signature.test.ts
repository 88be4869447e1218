// Webhook signatures: what a receiver checks with verifyWebhook.
import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import { signWebhook, verifyWebhook } from '../../src/infra/webhooks/webhook-signature.js';

const SECRET = 'a-test-secret-of-32-characters!!';
const BODY = JSON.stringify({ id: '42', type: 'pipeline.finished', data: { status: 'succeeded' } });
const T = 1_750_000_000;

describe('webhook signature (unit)', () => {
  it('a header signed now: has the documented form and verifies', () => {
    const header = signWebhook(SECRET, T, BODY);
    const expected = createHmac('sha256', SECRET).update(`${T}.${BODY}`).digest('hex');
    expect(header).to.equal(`t=${T},v1=${expected}`);
    expect(verifyWebhook(SECRET, header, BODY, 300, T)).to.equal(true);
  });

  it('a tampered body: refused', () => {
    const header = signWebhook(SECRET, T, BODY);
    expect(verifyWebhook(SECRET, header, BODY.replace('succeeded', 'failed'), 300, T)).to.equal(false);
  });

  it('the wrong secret: refused', () => {
    const header = signWebhook(SECRET, T, BODY);
    expect(verifyWebhook('another-secret-of-enough-length', header, BODY, 300, T)).to.equal(false);
  });

  it('a stale or future timestamp beyond the tolerance: refused; within it: accepted', () => {
    const header = signWebhook(SECRET, T, BODY);
    expect(verifyWebhook(SECRET, header, BODY, 300, T + 301)).to.equal(false);
    expect(verifyWebhook(SECRET, header, BODY, 300, T - 301)).to.equal(false);
    expect(verifyWebhook(SECRET, header, BODY, 300, T + 300)).to.equal(true);
  });

  it('a timestamp changed without re-signing: refused (the timestamp is signed too)', () => {
    const header = signWebhook(SECRET, T, BODY).replace(`t=${T}`, `t=${T + 10}`);
    expect(verifyWebhook(SECRET, header, BODY, 300, T + 10)).to.equal(false);
  });

  it('malformed or missing headers: refused without throwing', () => {
    for (const header of [undefined, null, '', 'garbage', `t=${T}`, 'v1=abc', `t=x,v1=${'0'.repeat(64)}`, `t=${T},v1=zz`]) {
      expect(verifyWebhook(SECRET, header, BODY, 300, T), String(header)).to.equal(false);
    }
  });

  it('several v1 entries (secret rotation): accepted when one matches', () => {
    const good = signWebhook(SECRET, T, BODY);
    const other = signWebhook('the-previous-secret-0123456789', T, BODY).split(',')[1];
    expect(verifyWebhook(SECRET, `${good},${other}`, BODY, 300, T)).to.equal(true);
  });
});
