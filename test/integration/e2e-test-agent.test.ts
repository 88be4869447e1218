// The real `e2e_test` agent on real projects in temporary workspaces: the scaffolded
// ts-http-service is built, started and passes its shipped checks; a failing check is reported
// with its request and response; a service that never answers, one that exits, and an aborted
// stage all fail cleanly, and in every case the process group it started is gone afterwards.
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { AgentWorkspace, MetricValue } from '../../src/agents/define-agent.js';
import { createE2eTestAgent } from '../../src/agents/sdlc/e2e-test.agent.js';
import { createScaffoldAgent } from '../../src/agents/sdlc/scaffold.agent.js';
import { createLocalWorkspace } from '../../src/infra/workspaces/local-workspace.js';
import { testRunContext } from '../support/agent-context.js';

interface E2eOutput {
  summary: string;
  url: string;
  passed: number;
  failed: number;
  checks: { name: string; ok: boolean; status: number | null }[];
  failures: {
    name: string;
    request: { method: string; path: string };
    response: { status: number | null; bodyExcerpt: string };
    problems: string[];
  }[];
}

/**
 * True while a process of group `pgid` runs. Zombies do not count: they hold nothing, and where
 * PID 1 reaps no orphans (a container without an init, like this test machine) they stay listed.
 */
const groupAlive = (pgid: number) => {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so split after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') return true;
  }
  return false;
};

describe('e2e_test agent (real builds and processes)', () => {
  let root: string;
  let metrics: Record<string, MetricValue>;
  let pids: number[];

  /** The local workspace, recording the pid of everything started through it. */
  const workspaceAt = async (signal?: AbortSignal): Promise<AgentWorkspace> => {
    const workspace = await createLocalWorkspace({ root, signal });
    return {
      ...workspace,
      start: async (command, args, options) => {
        const started = await workspace.start(command, args, options);
        pids.push(started.pid);
        return started;
      },
    };
  };
  const execute = async (input: Record<string, unknown>, controller = new AbortController()) =>
    (await createE2eTestAgent().execute(
      input as never,
      testRunContext({
        workspace: await workspaceAt(controller.signal),
        signal: controller.signal,
        reportMetrics: (m) => Object.assign(metrics, m),
      }),
    )) as unknown as E2eOutput;
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => expect.fail('expected a failure'),
      (error: unknown) => error as Error & { code: string },
    );
  /** A project whose `npm start` runs `script` (no build, no dependencies). */
  const writeProject = async (script: string) => {
    await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'p', private: true, scripts: { start: 'node main.js' } }));
    await writeFile(join(root, 'main.js'), script);
  };

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'e2e-agent-'));
    metrics = {};
    pids = [];
  });
  afterEach(async () => {
    for (const pid of pids) {
      try {
        process.kill(-pid, 'SIGKILL'); // only if a test failed to see it stopped
      } catch {
        // gone, as it should be
      }
    }
    await rm(root, { recursive: true, force: true });
  });

  describe('on the scaffolded ts-http-service', () => {
    beforeEach(async function () {
      this.timeout(30_000);
      await createScaffoldAgent().execute({ name: 'health-service' }, testRunContext({ workspace: await createLocalWorkspace({ root }) }));
      // Offline and fast: the platform's node_modules has the template's typescript and @types/node.
      await symlink(join(process.cwd(), 'node_modules'), join(root, 'node_modules'));
    });

    it('e2e_test: default checks from e2e-checks.json → built, started, 2 passed, 0 failed; the service is stopped', async function () {
      this.timeout(60_000);
      const out = await execute({});
      expect(out).to.include({ passed: 2, failed: 0 });
      expect(out.checks.map((c) => [c.name, c.ok, c.status])).to.deep.equal([
        ['health', true, 200],
        ['unknown route', true, 404],
      ]);
      expect(metrics).to.include({ passed: 2, failed: 0 });
      expect(pids).to.have.length(1);
      expect(groupAlive(pids[0]!)).to.equal(false);
      const stillAnswers = await fetch(`${out.url}/health`).then(
        () => true,
        () => false,
      );
      expect(stillAnswers).to.equal(false);
    });

    it('e2e_test: a check that fails → reported with its request and the response, the service stopped', async function () {
      this.timeout(60_000);
      const out = await execute({
        checks: [
          { path: '/health', json: { status: 'ok' } },
          { name: 'wants 201', method: 'GET', path: '/health', expectStatus: 201, bodyContains: 'healthy', json: { status: 'down' } },
        ],
      });
      expect(out).to.include({ passed: 1, failed: 1 });
      expect(metrics).to.include({ passed: 1, failed: 1 });
      expect(out.failures).to.have.length(1);
      const [failed] = out.failures;
      expect(failed!.name).to.equal('wants 201');
      expect(failed!.request).to.deep.equal({ method: 'GET', path: '/health' });
      expect(failed!.response.status).to.equal(200);
      expect(JSON.parse(failed!.response.bodyExcerpt)).to.deep.equal({ status: 'ok' });
      expect(failed!.problems).to.deep.equal([
        'status 200, expected 201',
        'body does not contain "healthy"',
        'JSON body does not contain {"status":"down"}',
      ]);
      // The summary (quoted by a GATE_FAILED message) names the failing check and why.
      expect(out.summary).to.match(
        /^1 of 2 checks passed against .*; failing: wants 201 \(status 200, expected 201; body does not contain "healthy"; JSON body does not contain \{"status":"down"\}\)$/,
      );
      expect(groupAlive(pids[0]!)).to.equal(false);
    });
  });

  it('e2e_test: a service that never answers → E2E_START_FAILED after startTimeoutMs, its process group killed', async () => {
    await writeProject("process.stdout.write('booting forever\\n'); setInterval(() => {}, 1000);\n");
    const error = await failure(execute({ startTimeoutMs: 1500, checks: [{ path: '/health' }] }));
    expect(error.code).to.equal('E2E_START_FAILED');
    expect(error.message).to.contain('did not answer').and.contain('booting forever');
    expect(groupAlive(pids[0]!)).to.equal(false);
  });

  it('e2e_test: a service that exits at once → E2E_START_FAILED with its output', async () => {
    await writeProject("console.error('missing DATABASE_URL'); process.exit(3);\n");
    const error = await failure(execute({ checks: [{ path: '/health' }] }));
    expect(error.code).to.equal('E2E_START_FAILED');
    expect(error.message).to.contain('exited before answering').and.contain('missing DATABASE_URL');
  });

  it('e2e_test: the stage aborted while it waits → rejects with the reason, and the service and its children are gone', async () => {
    // The service forks a child into its group: stopping must take both.
    await writeProject("require('child_process').spawn('sleep', ['60'], { stdio: 'inherit' }); setInterval(() => {}, 1000);\n");
    const controller = new AbortController();
    const running = execute({ startTimeoutMs: 30_000, checks: [{ path: '/health' }] }, controller);
    while (pids.length === 0) await new Promise((r) => setTimeout(r, 50));
    setTimeout(() => controller.abort(new Error('pipeline-cancelled')), 300);
    const error = await failure(running);
    expect(error.message).to.equal('pipeline-cancelled');
    expect(groupAlive(pids[0]!)).to.equal(false);
  });

  it('e2e_test: no checks in the input and no e2e-checks.json → E2E_NO_CHECKS, nothing started', async () => {
    await writeProject('');
    const error = await failure(execute({}));
    expect(error.code).to.equal('E2E_NO_CHECKS');
    expect(pids).to.deep.equal([]);
  });
});
