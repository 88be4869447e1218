// openHandles: what holds the event loop besides stdio, counted by type (the "process stopped"
// line's `leftOpen` and the test run's leak guard read it).
import { expect } from 'chai';
import { countByType, openHandles } from '../../src/lifecycle/open-handles.js';

describe('open handles (unit)', () => {
  it('countByType: counts each type, keys in name order whatever the input order', () => {
    const counts = countByType(['Timeout', 'TCPSocketWrap', 'Timeout']);
    expect(counts).to.deep.equal({ TCPSocketWrap: 1, Timeout: 2 });
    expect(Object.keys(counts)).to.deep.equal(['TCPSocketWrap', 'Timeout']);
  });

  it('openHandles: the stdio handles (up to three TTY or pipe handles) are left out, anything else is counted', () => {
    expect(openHandles(['TTYWrap', 'PipeWrap', 'TTYWrap'])).to.deep.equal({});
    expect(openHandles(['PipeWrap', 'PipeWrap', 'PipeWrap', 'PipeWrap', 'TCPSocketWrap', 'Timeout'])).to.deep.equal({
      PipeWrap: 1,
      TCPSocketWrap: 1,
      Timeout: 1,
    });
  });

  it('openHandles of this process: a ref’d timer counts one Timeout more, an unref’d one none', () => {
    // Mocha's own timer for this case is among them: compare with the count before.
    const before = openHandles().Timeout ?? 0;
    const held = setTimeout(() => undefined, 60_000);
    const unrefd = setTimeout(() => undefined, 60_000).unref();
    try {
      expect(openHandles().Timeout).to.equal(before + 1);
      held.unref();
      expect(openHandles().Timeout ?? 0).to.equal(before);
    } finally {
      clearTimeout(held);
      clearTimeout(unrefd);
    }
  });
});
