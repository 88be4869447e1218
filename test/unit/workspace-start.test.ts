// AgentWorkspace.start on a local workspace with real programs: the exit record of a program that
// ends by itself, a timeout that stops one, a program that cannot start, and a cwd outside the root.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { AgentWorkspace } from '../../src/agents/agent-workspace.js';
import { createLocalWorkspace } from '../../src/infra/workspaces/local-workspace.js';

describe('local workspace: start (background programs)', () => {
  let root: string;
  let workspace: AgentWorkspace;
  let log: string[];

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'workspace-start-'));
    log = [];
    workspace = await createLocalWorkspace({ root, log: (line) => log.push(line) });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('start: a program that ends by itself → exited holds its code and output (not the worker env), stop() after it resolves', async () => {
    process.env.WORKSPACE_START_SECRET = 'leaked';
    const started = await workspace.start(
      'node',
      ['-e', "console.log('hi', process.env.PORT, process.env.WORKSPACE_START_SECRET ?? 'none'); process.exit(4)"],
      {
        env: { PORT: '1234' },
      },
    );
    delete process.env.WORKSPACE_START_SECRET;
    expect(started.pid).to.be.a('number');
    const run = await started.exited;
    expect(run).to.include({ command: 'node', exitCode: 4, timedOut: false, cwd: '' });
    expect(run.output).to.equal('hi 1234 none\n');
    await started.stop();
    expect(log).to.include('hi 1234 none');
  });

  it('start: timeoutMs → stopped with SIGTERM, timedOut true', async () => {
    const started = await workspace.start('node', ['-e', 'setInterval(() => {}, 1000)'], { timeoutMs: 300 });
    const run = await started.exited;
    expect(run).to.include({ exitCode: null, signal: 'SIGTERM', timedOut: true });
  });

  it('start: a program that does not exist → rejects, naming it', async () => {
    const error = await workspace.start('no-such-program-here', []).then(
      () => expect.fail('expected a rejection'),
      (e: Error) => e,
    );
    expect(error.message).to.contain('could not start no-such-program-here');
  });

  it('start: a cwd outside the workspace → WORKSPACE_PATH_ESCAPE, nothing started', async () => {
    const error = await workspace.start('node', ['-e', ''], { cwd: '../..' }).then(
      () => expect.fail('expected a rejection'),
      (e: Error & { code: string }) => e,
    );
    expect(error.code).to.equal('WORKSPACE_PATH_ESCAPE');
  });
});
