// Webhook signatures: what a receiver checks with verifyWebhook, and the receiver the docs show
// (its verify function, taken from docs/events-and-webhooks.md and run as written).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
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

  describe('rotation: WEBHOOK_SECRET_PREVIOUS signs too', () => {
    const NEW = 'the-new-secret-of-32-characters!';
    const OLD = 'the-old-secret-of-32-characters!';

    it('a header signed with a previous secret: one v1 per secret, the current first; receivers on either secret accept it', () => {
      const header = signWebhook(NEW, T, BODY, OLD);
      const hex = (secret: string) => createHmac('sha256', secret).update(`${T}.${BODY}`).digest('hex');
      expect(header).to.equal(`t=${T},v1=${hex(NEW)},v1=${hex(OLD)}`);
      expect(verifyWebhook(NEW, header, BODY, 300, T), 'receiver on the new secret').to.equal(true);
      expect(verifyWebhook(OLD, header, BODY, 300, T), 'receiver on the old secret').to.equal(true);
      expect(verifyWebhook(SECRET, header, BODY, 300, T), 'any other secret').to.equal(false);
    });

    it('no previous secret (empty, or the same as the current): one v1 entry, as before', () => {
      expect(signWebhook(NEW, T, BODY, '')).to.equal(signWebhook(NEW, T, BODY));
      expect(signWebhook(NEW, T, BODY, NEW)).to.equal(signWebhook(NEW, T, BODY));
    });

    it("the docs' receiver (verify() as written in events-and-webhooks.md) accepts a rotation header with either secret", () => {
      const doc = readFileSync(new URL('../../docs/events-and-webhooks.md', import.meta.url), 'utf8');
      const source = /^function verify\([\s\S]*?^}$/m.exec(doc)?.[0];
      expect(source, 'the docs show a verify function').to.be.a('string');
      const docVerify = (secret: string) =>
        new Function('createHmac', 'timingSafeEqual', 'SECRET', `${source}\nreturn verify;`)(createHmac, timingSafeEqual, secret) as (
          header: string,
          rawBody: string,
        ) => boolean;
      const now = Math.floor(Date.now() / 1000);
      const header = signWebhook(NEW, now, BODY, OLD);
      expect(docVerify(NEW)(header, BODY), 'receiver on the new secret').to.equal(true);
      expect(docVerify(OLD)(header, BODY), 'receiver on the old secret').to.equal(true);
      expect(docVerify(SECRET)(header, BODY), 'any other secret').to.equal(false);
      expect(docVerify(NEW)(signWebhook(NEW, now, BODY), BODY), 'a plain header').to.equal(true);
      expect(docVerify(NEW)(signWebhook(NEW, now, BODY), BODY.replace('succeeded', 'failed')), 'a tampered body').to.equal(false);
    });
  });
});
