// `npm run demo` as a newcomer runs it, in a real process against the real Redis and Postgres: it
// starts the platform, submits the sdlc template, stops at the deployment's decision printing the
// command that approves it; the test runs that command as printed (the CLI with the manager's key)
// and the demo goes on to the deployed service's health check, stops the platform and exits 0.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { freePort } from '../support/chaos/free-port.js';
import { startEntry, waitForOutput } from '../support/processes.js';

const run = promisify(execFile);

describe('npm run demo (e2e, real processes, git, npm and tools)', function () {
  this.timeout(600_000);
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'demo-e2e-'));
  });
  after(async () => {
    // The released service outlives the demo by design: stop it through the pid file it names.
    const pid = await readFile(join(dir, 'releases', 'demo-service', 'current', '.release.pid'), 'utf8').catch(() => '');
    if (pid.trim()) {
      try {
        process.kill(-Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('stops at the deployment decision with the approve command; run as printed, the service is deployed and healthy', async () => {
    const port = await freePort();
    const env = {
      NODE_ENV: 'development',
      DATABASE_URL: process.env.TEST_DATABASE_URL!,
      PORT: String(port),
      DEV_ADMIN_KEY_FILE: join(dir, 'state', 'admin-key'),
      WORKSPACE_ROOT: join(dir, 'workspaces'),
      RELEASES_ROOT: join(dir, 'releases'),
      WORKER_METRICS_PORT: '0',
    };
    const demo = startEntry('src/demo.ts', env, [], 540_000);
    try {
      await waitForOutput(demo, /npm run cli -- approve DEC-\d{4}-\d{5}/, 400_000);
      const output = demo.output();
      expect(output).to.match(/✔ validation +succeeded in [\d.]+ s: .*testsFailed 0/);
      expect(output).to.match(/✔ e2e_test +succeeded in [\d.]+ s: 2 of 2 checks passed/);
      expect(output).to.match(/⏸ deployment +waiting/);
      const [, keyFile, decision] = /SDLC_API_KEY=\$\(cat (\S+)\) npm run cli -- approve (DEC-\d{4}-\d{5})/.exec(output)!;
      expect(keyFile).to.equal(join(dir, 'state', 'demo-manager-key'));

      // The printed command, as a person would run it in another terminal.
      const key = (await readFile(keyFile!, 'utf8')).trim();
      const approved = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'approve', decision!], {
        env: { ...process.env, SDLC_API_KEY: key, PORT: String(port) },
      });
      expect(approved.stdout).to.contain(decision);

      expect(await demo.exited, demo.output()).to.equal(0);
      expect(demo.output()).to.contain('Pipeline succeeded.');
      expect(demo.output()).to.match(/GET http:\/\/127\.0\.0\.1:\d+\/health → 200 \{"status":"ok"\}/);
      expect(demo.output()).to.contain('Stopping the platform');
    } finally {
      await demo.stop();
    }
  });
});
