// Unit tests for the DLQ's error fingerprints (src/domain/error-fingerprint.ts): what the
// normalization strips, what it keeps, and when two failures share a fingerprint.
import { expect } from 'chai';
import { FINGERPRINT_PATTERN, MAX_NORMALIZED_LENGTH, fingerprintError, normalizeErrorMessage } from '../../src/domain/error-fingerprint.js';

describe('error fingerprint', () => {
  describe('normalizeErrorMessage', () => {
    const cases: [string, string, string][] = [
      ['a UUID', 'order 3f0c2a4e-1b2c-4d5e-8f90-0123456789AB not found', 'order <uuid> not found'],
      [
        'standalone numbers, with dots and a short unit',
        'retry 3 of 5 after 1200ms at 10.0.0.7:5432 (12.5 s)',
        'retry <n> of <n> after <n>ms at <n>:<n> (<n> s)',
      ],
      ['an ISO timestamp', 'lease expired at 2026-11-29T19:49:51.347Z', 'lease expired at <time>'],
      [
        'double-, single- and back-quoted values',
        `unknown agent "deploy", table 'orders_7', key \`a b\``,
        `unknown agent "<str>", table '<str>', key \`<str>\``,
      ],
      ['a hex id (digits and letters, 7+)', 'commit 3c697c3f missing', 'commit <id> missing'],
      ['an id with a short prefix', 'request req_8f3k2j9d for cus-AbC123xyz', 'request req_<id> for cus-<id>'],
      ['a number after a dash in an id', 'job-123 failed', 'job-<n> failed'],
      ['runs of whitespace', '  connection \n\t refused  ', 'connection refused'],
    ];
    for (const [what, message, expected] of cases) {
      it(`${what}: replaced by a placeholder`, () => {
        expect(normalizeErrorMessage(message)).to.equal(expected);
      });
    }

    it('digits inside words, apostrophes and plain words: kept', () => {
      const message = "can't reach e2e_test over http2 with sha256 (v1), deadbeef";

      expect(normalizeErrorMessage(message)).to.equal(message);
    });

    it('a message longer than the limit: cut at MAX_NORMALIZED_LENGTH', () => {
      const normalized = normalizeErrorMessage('x'.repeat(MAX_NORMALIZED_LENGTH * 2));

      expect(normalized).to.have.length(MAX_NORMALIZED_LENGTH);
    });
  });

  describe('fingerprintError', () => {
    const base = { agent: 'payments', code: 'DOWNSTREAM_REFUSED' };

    it('messages that differ only in ids, numbers and quoted values: one fingerprint', () => {
      const a = fingerprintError({ ...base, message: 'charge 3f0c2a4e-1b2c-4d5e-8f90-0123456789ab refused by "acq-1" after 812 ms' });
      const b = fingerprintError({ ...base, message: 'charge 9a1b2c3d-0000-4d5e-8f90-abcdefabcdef refused by "acq-2" after 15 ms' });

      expect(a.fingerprint).to.equal(b.fingerprint);
      expect(a.normalizedMessage).to.equal('charge <uuid> refused by "<str>" after <n> ms');
    });

    it('another agent, code or wording: another fingerprint', () => {
      const one = fingerprintError({ ...base, message: 'refused' }).fingerprint;

      expect(fingerprintError({ ...base, agent: 'shipping', message: 'refused' }).fingerprint).to.not.equal(one);
      expect(fingerprintError({ ...base, code: 'AGENT_ERROR', message: 'refused' }).fingerprint).to.not.equal(one);
      expect(fingerprintError({ ...base, message: 'timed out' }).fingerprint).to.not.equal(one);
    });

    it('fields that would run together if joined plainly: different fingerprints', () => {
      const a = fingerprintError({ agent: 'a', code: 'B C', message: 'd' }).fingerprint;
      const b = fingerprintError({ agent: 'a B', code: 'C', message: 'd' }).fingerprint;

      expect(a).to.not.equal(b);
    });

    it('any failure: 16 lowercase hex characters, stable across calls', () => {
      const first = fingerprintError({ ...base, message: 'refused' }).fingerprint;

      expect(first).to.match(FINGERPRINT_PATTERN);
      expect(fingerprintError({ ...base, message: 'refused' }).fingerprint).to.equal(first);
    });
  });
});
