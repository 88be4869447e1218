// Who lifts a pause (src/domain/pause-lift.ts), the one rule the pipeline and schedule services
// (src/services/pause-lift.ts) and the dashboard's Resume buttons all apply: whoever made it, or
// the kind's `_any` permission; anyone else gets a 403 naming who paused it in the field the
// answer shows it.
import { expect } from 'chai';
import { mayLiftPause } from '../../src/domain/pause-lift.js';
import { pauseLiftRefusal, type PauseLift } from '../../src/services/pause-lift.js';

const alice = { id: 'alice', name: 'alice', roles: ['submitter'] };
const operator = { id: 'ops', name: 'ops', roles: ['operator'] };

describe('pause lift rule (unit)', () => {
  it('the predicate: the one who paused, nobody recorded, or the _any permission', () => {
    expect(mayLiftPause('alice', 'alice', false)).to.equal(true);
    expect(mayLiftPause('alice', null, false)).to.equal(true);
    expect(mayLiftPause('alice', undefined, false)).to.equal(true);
    expect(mayLiftPause('alice', 'ops', false)).to.equal(false);
    expect(mayLiftPause('ops', 'alice', true)).to.equal(true);
  });

  const cases: [string, Partial<PauseLift>, boolean][] = [
    ['its own pause', { identity: alice, pausedBy: 'alice' }, true],
    ['a pause nobody recorded (before this rule, or not paused)', { identity: alice, pausedBy: null }, true],
    ["an operator's pause, by the owner", { identity: alice, pausedBy: 'ops' }, false],
    ["someone's pause, by an operator", { identity: operator, pausedBy: 'alice' }, true],
  ];
  for (const kind of ['pipeline', 'schedule'] as const) {
    const anyPermission = kind === 'pipeline' ? 'pause_any' : 'schedule_any';
    const field = kind === 'pipeline' ? 'paused.by' : 'pausedBy';
    for (const [what, given, lifts] of cases) {
      it(`${kind}: ${what} — ${lifts ? 'lifted' : '403'}`, () => {
        const refusal = pauseLiftRefusal({ kind, id: 'x-1', identity: alice, pausedBy: null, anyPermission, field, ...given });
        if (lifts) {
          expect(refusal).to.equal(null);
          return;
        }
        expect(refusal?.status).to.equal(403);
        expect(refusal?.code).to.equal('FORBIDDEN');
        expect(refusal?.message).to.equal(`alice may not resume ${kind} x-1: ops paused it; only they or an operator may resume it.`);
        expect(refusal?.details).to.deep.equal([{ field, message: 'paused by ops' }]);
      });
    }
  }
});
