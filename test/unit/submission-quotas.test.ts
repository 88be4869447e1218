// Unit tests for the submission quotas (src/domain/submission-quotas.ts): stage count and input
// bytes of a raw definition, refused with 413 codes naming the cap.
import { expect } from 'chai';
import { AppError, ValidationError } from '../../src/domain/errors.js';
import { jsonByteLength } from '../../src/domain/json.js';
import { checkSubmissionQuotas, submissionInputBytes } from '../../src/domain/submission-quotas.js';

const QUOTAS = { maxStages: 3, maxInputBytes: 1000 };
const stage = (key: string, input?: Record<string, unknown>) => ({ key, agent: 'noop', ...(input ? { input } : {}) });

function refusalOf(raw: unknown): ValidationError {
  try {
    checkSubmissionQuotas(raw, QUOTAS);
  } catch (error) {
    expect(error).to.be.instanceOf(ValidationError);
    return error as ValidationError;
  }
  expect.fail('expected a refusal');
}

describe('submission quotas', () => {
  it('stages at the cap: accepted', () => {
    expect(() => checkSubmissionQuotas({ name: 'p', stages: [stage('a'), stage('b'), stage('c')] }, QUOTAS)).to.not.throw();
  });

  it('one stage over the cap: 413 TOO_MANY_STAGES naming stages, the variable and its value', () => {
    const error = refusalOf({ name: 'p', stages: [stage('a'), stage('b'), stage('c'), stage('d')] });

    expect(error.code).to.equal('TOO_MANY_STAGES');
    expect((error as AppError).status).to.equal(413);
    expect(error.message).to.contain('MAX_STAGES_PER_PIPELINE is 3').and.contain('4 stages');
    expect(error.details).to.have.length(1);
    expect(error.details[0]!.field).to.equal('stages');
    expect(error.details[0]!.message).to.contain('MAX_STAGES_PER_PIPELINE=3');
  });

  it('input bytes: the definition input plus each stage input, as serialized JSON', () => {
    const input = { brief: 'é'.repeat(10) };
    const raw = { name: 'p', input, stages: [stage('a', { n: 1 }), stage('b')] };

    expect(submissionInputBytes(raw)).to.equal(jsonByteLength(input) + jsonByteLength({ n: 1 }));
  });

  it('inputs together over the cap, each under it: 413 INPUT_TOO_LARGE naming input', () => {
    const half = { blob: 'x'.repeat(480) };
    const raw = { name: 'p', input: half, stages: [stage('a', half), stage('b', half)] };

    const error = refusalOf(raw);

    expect(error.code).to.equal('INPUT_TOO_LARGE');
    expect((error as AppError).status).to.equal(413);
    expect(error.message).to.contain('MAX_SUBMISSION_INPUT_BYTES is 1000');
    expect(error.details[0]!.field).to.equal('input');
    expect(error.details[0]!.message).to.contain('MAX_SUBMISSION_INPUT_BYTES=1000');
  });

  it('inputs exactly at the cap: accepted', () => {
    const padding = 1000 - jsonByteLength({ blob: '' });
    const raw = { name: 'p', input: { blob: 'x'.repeat(padding) }, stages: [stage('a')] };

    expect(submissionInputBytes(raw)).to.equal(1000);
    expect(() => checkSubmissionQuotas(raw, QUOTAS)).to.not.throw();
  });

  it('shapes it cannot count (no stages array, a string body): left to the validation', () => {
    expect(() => checkSubmissionQuotas({ name: 'p', stages: 'a,b,c,d,e' }, QUOTAS)).to.not.throw();
    expect(() => checkSubmissionQuotas('not an object', QUOTAS)).to.not.throw();
    expect(() => checkSubmissionQuotas({ name: 'p', stages: [null, 7, 'x'] }, QUOTAS)).to.not.throw();
  });

  it('an input nested deeper than JSON.stringify can go: not measured, no throw', () => {
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 20_000; i++) deep = { a: deep };

    expect(submissionInputBytes({ name: 'p', input: deep, stages: [] })).to.equal(undefined);
    expect(() => checkSubmissionQuotas({ name: 'p', input: deep, stages: [stage('a')] }, QUOTAS)).to.not.throw();
  });
});
