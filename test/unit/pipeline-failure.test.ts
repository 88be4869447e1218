// The error a failed pipeline records: its message names the failed stages and their reasons,
// within MAX_MESSAGE however many failed, while `reasons` keeps each stage's own.
import { expect } from 'chai';
import { MAX_MESSAGE } from '../../src/domain/errors.js';
import { pipelineFailure } from '../../src/domain/pipeline-failure.js';

describe('pipelineFailure (unit)', () => {
  it('names each failed stage with its reason, "failed" when it has none', () => {
    const reasons: Record<string, string | null> = { flaky: 'boom', gated: null };
    expect(pipelineFailure(['flaky', 'gated'], (key) => reasons[key])).to.deep.equal({
      code: 'STAGES_FAILED',
      message: 'failed stage(s): flaky (boom), gated (failed)',
      failedStages: ['flaky', 'gated'],
      reasons: { flaky: 'boom', gated: 'failed' },
    });
  });

  it('30 stages failing with 4,000-character reasons: the message stops at a whole stage within MAX_MESSAGE and says how many more; reasons keep all', () => {
    const keys = Array.from({ length: 30 }, (_, i) => `s${i}`);
    const short = pipelineFailure(keys, (key) => `${key} broke`);
    expect(short.message).to.equal(`failed stage(s): ${keys.map((k) => `${k} (${k} broke)`).join(', ')}`);

    const long = pipelineFailure(keys, (key) => `${key}:${'x'.repeat(1500)}`);
    expect(long.message.length).to.be.at.most(MAX_MESSAGE);
    expect(long.message).to.match(/^failed stage\(s\): s0 \(s0:x+\), s1 \(s1:x+\) … and 28 more \(see reasons\)$/);
    expect(Object.keys(long.reasons)).to.have.length(30);
    expect(long.reasons.s29).to.have.length(1504);

    const huge = pipelineFailure(keys, () => 'y'.repeat(MAX_MESSAGE));
    expect(huge.message.length).to.equal(MAX_MESSAGE);
    expect(huge.message).to.match(/^failed stage\(s\): s0 \(y+… … and 29 more \(see reasons\)$/);
    expect(pipelineFailure(['only'], () => 'z'.repeat(MAX_MESSAGE)).message).to.have.length(MAX_MESSAGE);
  });
});
