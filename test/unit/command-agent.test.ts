// The command agent with real programs in a temporary workspace: the program allow-list, exit codes,
// the timeout that kills the process group, a working directory outside the workspace, and the
// environment allow-list.
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createCommandAgent } from '../../src/agents/command.agent.js';
import type { AgentWorkspace } from '../../src/agents/agent-workspace.js';
import type { MetricValue } from '../../src/domain/gates.js';
import { createLocalWorkspace } from '../../src/infra/workspaces/local-workspace.js';
import { testRunContext } from '../support/agent-context.js';

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; retryable?: boolean; name: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string; retryable?: boolean };
  }
  throw new Error('expected a rejection');
}

/** Whether `pid` has exited (a zombie counts: only its parent's reaping is left), waiting up to 5 s for the kill to land. */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    const state = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
    if (state === null || / Z /.test(state)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

describe('command agent (unit)', () => {
  let root: string;
  let outside: string;
  let workspace: AgentWorkspace;
  // The programs these tests run, and nothing else: `sh`, for one, is refused.
  const PROGRAMS = ['cat', 'echo', 'node', 'false', 'no-such-program-xyz', 'pwd', 'env', './node_modules/.bin/tsc', 'sleep'];
  const agent = createCommandAgent({ allowedPrograms: PROGRAMS, envAllowList: ['GREETING'] });

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'command-agent-'));
    outside = await mkdtemp(join(tmpdir(), 'command-agent-outside-'));
    await mkdir(join(root, 'sub'));
    await writeFile(join(root, 'sub', 'marker.txt'), 'inside\n');
    await symlink(outside, join(root, 'escape'));
    workspace = await createLocalWorkspace({ root });
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  it('refuses a program not in allowedPrograms at submission, naming the field and COMMAND_ALLOWED_PROGRAMS', () => {
    for (const command of ['sh', 'bash', '/bin/cat', 'cat2', 'CAT', './cat']) {
      const verdict = agent.validateInput({ command, args: ['-c', 'id'] });
      expect(verdict.ok, command).to.equal(false);
      const problems = verdict.ok ? [] : verdict.problems;
      expect(
        problems.map((p) => p.field),
        command,
      ).to.deep.equal(['command']);
      expect(problems[0]?.message, command).to.include(command).and.to.include('COMMAND_ALLOWED_PROGRAMS');
    }
    expect(agent.validateInput({ command: 'cat', args: ['marker.txt'] }).ok).to.equal(true);
  });

  it('compares the program exactly as written: a listed path allows that path only, not the bare name', () => {
    const byPath = createCommandAgent({ allowedPrograms: ['/bin/echo'] });
    expect(byPath.validateInput({ command: '/bin/echo' }).ok).to.equal(true);
    expect(byPath.validateInput({ command: 'echo' }).ok).to.equal(false);
  });

  it('with an empty allowedPrograms refuses every program, saying none is allowed', () => {
    const none = createCommandAgent({ allowedPrograms: [] });
    for (const command of ['cat', 'node', 'true', './node_modules/.bin/tsc']) {
      const verdict = none.validateInput({ command });
      expect(verdict.ok, command).to.equal(false);
      expect(verdict.ok ? '' : verdict.problems[0]?.message, command).to.include('allowed: none');
    }
  });

  it('refuses an unlisted program at run time with COMMAND_NOT_ALLOWED before anything starts (a job queued before the list changed)', async () => {
    const marker = join(root, 'not-allowed.txt');
    const error = await rejection(agent.execute({ command: 'sh', args: ['-c', `echo ran > ${marker}`] }, testRunContext({ workspace })));
    expect(error.name).to.equal('UnrecoverableStageError');
    expect(error).to.include({ code: 'COMMAND_NOT_ALLOWED', retryable: false });
    expect(error.message).to.include('program sh').and.to.include('COMMAND_ALLOWED_PROGRAMS');
    expect(await readFile(marker, 'utf8').catch(() => null), 'sh did not run').to.equal(null);
  });

  it('runs a program with its arguments in a sub-folder and reports exit code, output and metrics', async () => {
    const metrics: Record<string, MetricValue> = {};
    const output = await agent.execute(
      { command: 'cat', args: ['marker.txt'], cwd: 'sub' },
      testRunContext({ workspace, reportMetrics: (m) => Object.assign(metrics, m) }),
    );
    expect(output).to.include({ command: 'cat', cwd: 'sub', exitCode: 0, timedOut: false, output: 'inside\n', truncated: false });
    expect(metrics).to.include({ exitCode: 0, timedOut: false });
    expect(metrics.durationMs).to.be.a('number');
  });

  it('passes arguments verbatim: shell syntax in an argument is not interpreted', async () => {
    const output = (await agent.execute({ command: 'echo', args: ['$HOME; rm -rf / && `id`'] }, testRunContext({ workspace }))) as {
      output: string;
    };
    expect(output.output).to.equal('$HOME; rm -rf / && `id`\n');
  });

  it('a non-zero exit fails the stage for good with COMMAND_FAILED, quoting the output', async () => {
    const metrics: Record<string, MetricValue> = {};
    const error = await rejection(
      agent.execute(
        { command: 'node', args: ['-e', 'console.error("broken build"); process.exit(3)'] },
        testRunContext({ workspace, reportMetrics: (m) => Object.assign(metrics, m) }),
      ),
    );
    expect(error.name).to.equal('UnrecoverableStageError');
    expect(error.code).to.equal('COMMAND_FAILED');
    expect(error.message).to.include('exited with 3 (expected 0)').and.to.include('broken build');
    expect(metrics.exitCode).to.equal(3);
  });

  it('expectExitCode accepts the exit code it names, and retryOnFailure makes a failure retryable', async () => {
    const ok = await agent.execute({ command: 'node', args: ['-e', 'process.exit(2)'], expectExitCode: 2 }, testRunContext({ workspace }));
    expect(ok).to.include({ exitCode: 2 });
    const error = await rejection(agent.execute({ command: 'false', retryOnFailure: true }, testRunContext({ workspace })));
    expect(error.name).to.equal('AgentError');
    expect(error).to.include({ code: 'COMMAND_FAILED', retryable: true });
  });

  it('a program that does not exist fails with COMMAND_FAILED saying it could not start', async () => {
    const error = await rejection(agent.execute({ command: 'no-such-program-xyz' }, testRunContext({ workspace })));
    expect(error.code).to.equal('COMMAND_FAILED');
    expect(error.message).to.include('could not start');
  });

  it('kills a command that outlives its timeout, with what it started, and reports COMMAND_TIMEOUT', async () => {
    const pidFile = join(root, 'child.pid');
    // The parent starts a grandchild that would sleep for a minute; both must be gone afterwards.
    const script = `const { spawn } = require('node:child_process'); const c = spawn('sleep', ['60'], { stdio: 'ignore' });
      require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(c.pid)); console.log('started'); setInterval(() => {}, 1000);`;
    const metrics: Record<string, MetricValue> = {};
    const error = await rejection(
      agent.execute(
        { command: 'node', args: ['-e', script], timeoutMs: 1500 },
        testRunContext({ workspace, reportMetrics: (m) => Object.assign(metrics, m) }),
      ),
    );
    expect(error.name).to.equal('UnrecoverableStageError');
    expect(error.code).to.equal('COMMAND_TIMEOUT');
    expect(error.message).to.include('timed out after 1500 ms').and.to.include('started');
    expect(metrics.timedOut).to.equal(true);
    const grandchild = Number(await readFile(pidFile, 'utf8'));
    expect(await gone(grandchild), 'the grandchild was killed with its group').to.equal(true);
  });

  it('a working directory outside the workspace fails with WORKSPACE_PATH_ESCAPE, by .. or by a symlink', async () => {
    for (const cwd of ['..', 'escape', 'sub/../../x']) {
      const error = await rejection(agent.execute({ command: 'pwd', cwd }, testRunContext({ workspace })));
      expect(error.name, cwd).to.equal('UnrecoverableStageError');
      expect(error.code, cwd).to.equal('WORKSPACE_PATH_ESCAPE');
    }
  });

  it('passes allow-listed variables and nothing of the worker environment beyond the minimal set', async () => {
    process.env.COMMAND_AGENT_TEST_SECRET = 'leak';
    try {
      const output = (await agent.execute(
        {
          command: 'node',
          args: ['-e', 'console.log(process.env.GREETING, process.env.COMMAND_AGENT_TEST_SECRET)'],
          env: { GREETING: 'hi' },
        },
        testRunContext({ workspace }),
      )) as { output: string };
      expect(output.output).to.equal('hi undefined\n');
    } finally {
      delete process.env.COMMAND_AGENT_TEST_SECRET;
    }
  });

  it('refuses a variable outside the allow-list at submission and at run time, naming it', async () => {
    const input = { command: 'env', env: { GREETING: 'hi', LD_PRELOAD: '/tmp/x.so' } };
    const verdict = agent.validateInput(input);
    expect(verdict.ok).to.equal(false);
    const problems = verdict.ok ? [] : verdict.problems;
    expect(problems.map((p) => p.field)).to.deep.equal(['env.LD_PRELOAD']);
    expect(problems[0]?.message).to.include('LD_PRELOAD').and.to.include('allowed: GREETING');
    const error = await rejection(agent.execute(input, testRunContext({ workspace })));
    expect(error.code).to.equal('AGENT_INPUT_INVALID');
    expect(error.message).to.include('LD_PRELOAD');
  });

  it('refuses a shell string as the command, and a timeout over an hour', () => {
    for (const command of ['ls -la', 'echo hi; id', 'cat $(x)', 'a|b', '']) {
      expect(agent.validateInput({ command }).ok, command).to.equal(false);
    }
    expect(agent.validateInput({ command: './node_modules/.bin/tsc' }).ok).to.equal(true);
    expect(agent.validateInput({ command: 'sleep', timeoutMs: 3_600_001 }).ok).to.equal(false);
  });

  it('caps the output it keeps, keeping the end', async () => {
    const small = createCommandAgent({ allowedPrograms: ['node'], outputCapBytes: 100 });
    const output = (await small.execute(
      { command: 'node', args: ['-e', 'for (let i = 0; i < 200; i++) console.log("line " + i)'] },
      testRunContext({ workspace }),
    )) as { output: string; truncated: boolean };
    expect(output.truncated).to.equal(true);
    expect(Buffer.byteLength(output.output)).to.be.at.most(100);
    expect(output.output).to.match(/line 199\n$/);
  });
});
