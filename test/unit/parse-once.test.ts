// parseOnce (src/infra/db/parse-once.ts): a value read back on every stage is parsed once per
// distinct key, shared frozen; refusals throw every time; the memory is bounded. And the mappers
// that use it answer as a parse would (retry defaults, gate rules, a bad priority refused).
import { expect } from 'chai';
import { z } from 'zod';
import { parseGateRules, toDispatched } from '../../src/infra/db/mappers.js';
import { parseOnce } from '../../src/infra/db/parse-once.js';

describe('parseOnce (unit)', () => {
  it('parses each distinct key once and shares the frozen result', () => {
    let parses = 0;
    const schema = z.object({ n: z.number(), tags: z.array(z.string()) }).transform((value) => {
      parses++;
      return value;
    });
    const once = parseOnce(schema);
    const first = once('a', { n: 1, tags: ['x'] });
    expect(once('a', { n: 1, tags: ['x'] })).to.equal(first);
    expect(parses).to.equal(1);
    expect(Object.isFrozen(first) && Object.isFrozen(first.tags)).to.equal(true);
    expect(once('b', { n: 2, tags: [] })).to.deep.equal({ n: 2, tags: [] });
    expect(parses).to.equal(2);
  });

  it('a refused value throws each time and is not remembered', () => {
    const once = parseOnce(z.number().int());
    expect(() => once('bad', 1.5)).to.throw();
    expect(() => once('bad', 1.5)).to.throw();
    expect(once('ok', 2)).to.equal(2);
  });

  it('keeps at most `max` values, then starts over', () => {
    let parses = 0;
    const once = parseOnce(
      z.number().transform((n) => {
        parses++;
        return n;
      }),
      2,
    );
    once('1', 1);
    once('2', 2);
    once('3', 3); // the memory was full: it starts over with this one
    once('3', 3);
    once('1', 1);
    expect(parses).to.equal(4);
  });

  it('the mappers answer as their schemas do: retry defaults, gate rules, a bad priority refused', () => {
    const row = {
      id: 's1',
      key: 'build',
      agent: 'noop',
      retry_attempts: 2,
      retry_backoff: { type: 'fixed', delayMs: 10 },
      priority: 'high',
    };
    const dispatched = toDispatched(row);
    expect(dispatched.retry).to.deep.equal({ attempts: 2, backoff: { type: 'fixed', delayMs: 10, jitter: 0.5 } });
    expect(dispatched.priority).to.equal('high');
    // Another stage with the same policy shares it; a different delay is its own.
    expect(toDispatched({ ...row, id: 's2' }).retry).to.equal(dispatched.retry);
    expect(toDispatched({ ...row, retry_backoff: { type: 'fixed', delayMs: 20 } }).retry.backoff.delayMs).to.equal(20);
    expect(() => toDispatched({ ...row, priority: 'whenever' })).to.throw();
    expect(() => toDispatched({ ...row, retry_attempts: 0 })).to.throw();

    const gates = [{ metric: 'coverage', operator: '>=', threshold: 80 }];
    expect(parseGateRules(gates)).to.deep.equal([{ metric: 'coverage', operator: '>=', threshold: 80, severity: 'blocking' }]);
    expect(parseGateRules([...gates])).to.equal(parseGateRules(gates));
    expect(parseGateRules(null)).to.deep.equal([]);
    expect(parseGateRules([{ metric: 1 }])).to.deep.equal([]);
  });
});
