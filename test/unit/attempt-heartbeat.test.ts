// The attempt heartbeat over a fake repository: what each stamp carries, when none is sent, and
// the cancels a stamp reads back, handed to the process's abort.
import { expect } from 'chai';
import { createAttemptHeartbeat, type AttemptHeartbeatRepository } from '../../src/services/attempt-heartbeat.js';

function recorder(fail = false, cancelRequested: string[] = []) {
  const beats: string[][] = [];
  const warnings: string[] = [];
  const repo: AttemptHeartbeatRepository = {
    async beat(stageIds, workerId) {
      expect(workerId).to.equal('w1');
      beats.push([...stageIds].sort());
      if (fail) throw new Error('connection terminated');
      return { cancelRequested };
    },
  };
  const logger = {
    debug: () => undefined,
    info: () => undefined,
    error: () => undefined,
    warn: (message: string) => warnings.push(message),
  };
  return { repo, logger, beats, warnings };
}

describe('attempt heartbeat (unit)', () => {
  it('stamps the attempts tracked now, none once they end; a stage tracked twice stays until both end', async () => {
    const r = recorder();
    const heartbeat = createAttemptHeartbeat({ repo: r.repo, workerId: 'w1', everyMs: 60_000, logger: r.logger });
    await heartbeat.beatNow();
    expect(r.beats, 'nothing to stamp: no statement').to.deep.equal([]);

    const endA = heartbeat.track('a');
    const endB1 = heartbeat.track('b');
    const endB2 = heartbeat.track('b');
    await heartbeat.beatNow();
    endA();
    endA();
    endB1();
    await heartbeat.beatNow();
    endB2();
    await heartbeat.beatNow();
    expect(r.beats).to.deep.equal([['a', 'b'], ['b']]);
    await heartbeat.close();
  });

  it('the jobs a stamp reads back as cancel-requested are aborted; none when it reads none', async () => {
    const aborted: string[][] = [];
    const quiet = recorder();
    const calm = createAttemptHeartbeat({ ...quiet, workerId: 'w1', everyMs: 60_000, onCancelRequested: (ids) => aborted.push(ids) });
    calm.track('a');
    await calm.beatNow();
    expect(aborted).to.deep.equal([]);
    await calm.close();

    const asked = recorder(false, ['job-a']);
    const heartbeat = createAttemptHeartbeat({ ...asked, workerId: 'w1', everyMs: 60_000, onCancelRequested: (ids) => aborted.push(ids) });
    heartbeat.track('a');
    heartbeat.track('b');
    await heartbeat.beatNow();
    expect(aborted).to.deep.equal([['job-a']]);
    await heartbeat.close();
  });

  it('a stamp that fails is logged and the next one is sent; calls during a stamp in flight share it', async () => {
    const r = recorder(true);
    const heartbeat = createAttemptHeartbeat({ repo: r.repo, workerId: 'w1', everyMs: 60_000, logger: r.logger });
    heartbeat.track('a');
    await Promise.all([heartbeat.beatNow(), heartbeat.beatNow()]);
    await heartbeat.beatNow();
    expect(r.beats).to.deep.equal([['a'], ['a']]);
    expect(r.warnings).to.deep.equal([
      'attempt heartbeat failed; the next one tries again',
      'attempt heartbeat failed; the next one tries again',
    ]);
    await heartbeat.close();
  });

  it('the timer stamps on its own once started, and close() stops it', async () => {
    const r = recorder();
    const heartbeat = createAttemptHeartbeat({ repo: r.repo, workerId: 'w1', everyMs: 5, logger: r.logger });
    heartbeat.track('a');
    heartbeat.start();
    while (r.beats.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    await heartbeat.close();
    const stamped = r.beats.length;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(r.beats.length, 'no stamp after close').to.equal(stamped);
  });
});
