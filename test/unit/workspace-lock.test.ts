// The workspace lock that keeps validation and e2e_test from installing or building at once:
// holders take turns, a lock left by a dead process is taken over, a waiter gives up on its
// stage's signal, and nothing of it lands inside the workspace.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { expect } from 'chai';
import { createLocalWorkspace } from '../../src/infra/workspaces/local-workspace.js';
import { locksFolder } from '../../src/infra/workspaces/workspace-lock.js';

describe('workspace lock (unit, real folders)', () => {
  let base: string;
  let root: string;

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'workspace-lock-'));
    root = join(base, 'ws');
    await mkdir(root);
  });
  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('two holders of one lock take turns; another lock name does not wait; the workspace stays clean', async () => {
    const workspace = await createLocalWorkspace({ root });
    const events: string[] = [];
    const hold = (name: string, who: string) =>
      workspace.exclusive(name, async () => {
        events.push(`${who} in`);
        await delay(150);
        events.push(`${who} out`);
        return who;
      });
    const results = await Promise.all([hold('prepare', 'a'), hold('prepare', 'b'), hold('other', 'c')]);
    expect(results).to.deep.equal(['a', 'b', 'c']);
    // Either holder may win the race for the lock; what matters is that they never overlap.
    const prepare = events.filter((e) => !e.startsWith('c'));
    const first = prepare[0]?.[0] ?? '';
    const second = first === 'a' ? 'b' : 'a';
    expect(prepare).to.deep.equal([`${first} in`, `${first} out`, `${second} in`, `${second} out`]);
    expect(events.indexOf('c in')).to.be.lessThan(events.indexOf(`${first} out`));
    expect(await readdir(root)).to.deep.equal([]);
    expect(await readdir(locksFolder(await workspace.resolve('')))).to.deep.equal([]);
  });

  it('a lock whose holder died is taken over; a holder that throws releases it', async () => {
    const workspace = await createLocalWorkspace({ root });
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid;
    const stale = join(locksFolder(workspace.root), 'prepare');
    await mkdir(stale, { recursive: true });
    await writeFile(join(stale, 'pid'), String(dead));
    expect(await workspace.exclusive('prepare', async () => 'taken over')).to.equal('taken over');
    const failing = await workspace
      .exclusive('prepare', async () => {
        throw new Error('build broke');
      })
      .catch((e: Error) => e.message);
    expect(failing).to.equal('build broke');
    expect(await workspace.exclusive('prepare', async () => 'free again')).to.equal('free again');
  });

  it("a waiter gives up when its stage's signal aborts, and a bad name is refused", async () => {
    const controller = new AbortController();
    const holder = await createLocalWorkspace({ root });
    const waiter = await createLocalWorkspace({ root, signal: controller.signal });
    let release!: () => void;
    const held = holder.exclusive('prepare', () => new Promise<void>((resolve) => (release = resolve)));
    await delay(50);
    const waiting = waiter.exclusive('prepare', async () => 'ran').catch((e: Error) => `aborted: ${String(e)}`);
    controller.abort(new Error('cancelled'));
    expect(await waiting).to.equal('aborted: Error: cancelled');
    release();
    await held;
    const bad = await holder.exclusive('../escape', async () => 'ran').catch((e: Error) => e.message);
    expect(bad).to.contain('lock name "../escape"');
  });
});
