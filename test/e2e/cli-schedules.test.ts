// `sdlc schedules` against a running API (no worker: nothing ticks, the cron is a nightly one):
// create from --template with a cron and its zone, and from a definition file with --every;
// list and show print tables (and --json the API's answer); pause, resume and delete change it;
// a bad interval is a usage error (exit 2) and a bad cron the API's 400, named (exit 1).
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness.js';

const run = promisify(execFile);

describe('CLI schedules commands (e2e)', function () {
  this.timeout(120_000);
  let h: Harness;
  let submitter: { key: string; id: string };

  const cli = async (...args: string[]) => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      env: { ...process.env, API_URL: h.baseUrl, DEV_ADMIN_KEY_FILE: '/nonexistent/agentic-sdlc/admin-key', SDLC_API_KEY: submitter.key },
    });
    return stdout;
  };
  const failure = (promise: Promise<string>) =>
    promise.then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
  before(async function () {
    this.timeout(120_000);
    // A schema of its own: every reconciler pass installs the job schedulers of the schedules in
    // its schema, so a schedule left in the shared one would tick in other files' queues.
    h = await startHarness({ workers: 0, ownSchema: true });
    submitter = await h.createKey('cli-scheduler', ['submitter']);
  });
  after(async () => {
    await h?.close();
  });

  it('create --template --cron --tz, list, show, pause, resume, delete', async () => {
    const created = JSON.parse(
      await cli(
        'schedules',
        'create',
        '--template',
        'smoke',
        '--set',
        'project=nightly',
        '--cron',
        '0 2 * * *',
        '--tz',
        'Europe/Paris',
        '--json',
      ),
    ) as { id: string; status: string; timezone: string; owner: string; nextFireTimes: string[] };
    expect(created).to.include({ status: 'active', timezone: 'Europe/Paris', owner: submitter.id });
    expect(created.nextFireTimes[0]).to.match(/T0[01]:00:00\.000Z$/);
    const id = created.id;

    const listing = await cli('schedules', 'list');
    expect(listing).to.match(/^ID +NAME +STATUS +WHEN +OVERLAP +NEXT +OWNER$/m);
    expect(listing).to.match(new RegExp(`^${id} +smoke +active +0 2 \\* \\* \\* \\(Europe/Paris\\) +skip `, 'm'));

    const shown = await cli('schedules', 'show', id, '--next', '3');
    expect(shown).to.match(/^next: \S+Z {2}\S+Z {2}\S+Z$/m);
    expect(shown).to.match(/^no ticks yet$/m);

    expect(await cli('schedules', 'pause', id)).to.match(new RegExp(`^${id} {2}smoke {2}paused {2}`));
    expect(await cli('schedules', 'resume', id)).to.match(new RegExp(`^${id} {2}smoke {2}active {2}`));
    expect((await cli('schedules', 'delete', id)).trim()).to.equal(`deleted ${id}`);
    expect(await failure(cli('schedules', 'show', id))).to.deep.include({ code: 1 });
  });

  it('create from a definition file with --every; a bad interval exits 2, a bad cron exits 1 naming the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdlc-schedules-'));
    const file = join(dir, 'hourly.yaml');
    writeFileSync(file, 'name: hourly-check\nstages:\n  - key: check\n    agent: noop\n');
    const created = await cli('schedules', 'create', file, '--every', '1h', '--overlap', 'queue_one');
    expect(created).to.match(/^\S+ {2}hourly-check {2}active {2}every 1h {2}overlap queue_one {2}next /);

    const badEvery = await failure(cli('schedules', 'create', file, '--every', 'soon'));
    expect(badEvery.code).to.equal(2);
    const badCron = await failure(cli('schedules', 'create', file, '--cron', 'at two'));
    expect(badCron.code).to.equal(1);
    expect(badCron.stderr).to.match(/^error: VALIDATION_FAILED: /m);
    expect(badCron.stderr).to.match(/^ {2}cron: not a cron expression/m);
  });
});
