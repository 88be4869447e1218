// The `sdlc` template on the real agents, end to end with real tools in temporary folders: the
// requirements pass, scaffold lays out the TypeScript HTTP service and commits it, validation
// installs it and reports what tsc, ESLint and node --test print, e2e_test starts it and checks it
// over HTTP, integration merges the pipeline's branch, and deployment waits for an engineering
// manager; once approved, it releases the service, which answers its health check at the URL the
// stage reports. Every stage's log is readable over the API.
import { execFile } from 'node:child_process';
import { mkdtemp, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import type { Agent } from '../../src/agents/define-agent.js';
import { createDeploymentAgent } from '../../src/agents/sdlc/deployment.agent.js';
import type { ReleaseProcess } from '../../src/agents/sdlc/release-processes.port.js';
import { builtInAgents } from '../../src/composition/configured-agents.js';
import { createReleaseProcesses } from '../../src/infra/workspaces/release-processes.js';
import { acquireLock } from '../../src/infra/workspaces/workspace-lock.js';
import { startHarness, testConfig, type Harness } from '../support/harness.js';
import { bearer, request, waitForPipeline, waitUntil, type Loose } from '../support/http.js';

const git = promisify(execFile);

describe('the sdlc template on the real agents (e2e, real git, npm, tsc, ESLint and processes)', function () {
  // npm installs the scaffolded service's dev dependencies from the registry (about 15 s here).
  this.timeout(600_000);
  let h: Harness;
  let dir: string;
  const started: ReleaseProcess[] = [];
  let pipeline: Loose;
  let decision: Loose;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sdlc-e2e-'));
    const env = { WORKSPACE_ROOT: join(dir, 'workspaces'), RELEASES_ROOT: join(dir, 'releases') };
    const config = testConfig(env);
    // The catalog `npm start` builds, with the deployment's processes recorded so the test stops them.
    const processes = createReleaseProcesses();
    const recording = {
      ...processes,
      start: async (...args: Parameters<typeof processes.start>) => {
        const process = await processes.start(...args);
        started.push(process);
        return process;
      },
    };
    const agents: Agent[] = builtInAgents(config).map((agent) =>
      agent.type === 'deployment'
        ? createDeploymentAgent({ releasesRoot: config.RELEASES_ROOT, processes: recording, lockApp: acquireLock })
        : agent,
    );
    h = await startHarness({ agents, env });
  });

  after(async () => {
    await Promise.all(started.map((p) => p.stop()));
    await h?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs every stage up to the deployment, which waits for an engineering manager', async () => {
    const submitter = await h.createKey('sdlc-submitter', ['submitter']);
    const created = await request(
      h.baseUrl,
      'POST',
      '/api/v1/pipelines',
      {
        template: 'sdlc',
        input: {
          name: 'orders-service',
          requirements: 'An HTTP service that answers GET /health with 200 and {"status":"ok"} as JSON.',
          acceptanceCriteria: ['GET /health answers 200 with {"status":"ok"}', 'an unknown route answers 404'],
          confidence: 95,
        },
      },
      bearer(submitter.key),
    );
    expect(created.status, JSON.stringify(created.body)).to.equal(202);
    pipeline = await waitUntil(
      h.baseUrl,
      created.body.id,
      (p) => p.status !== 'running' || (p.decisions as Loose[]).some((d) => d.status === 'pending'),
      300_000,
    );
    const stages = Object.fromEntries((pipeline.stages as Loose[]).map((s) => [s.key, s]));
    expect(pipeline.status, JSON.stringify(stages, null, 1).slice(0, 4000)).to.equal('running');
    for (const key of ['requirements', 'scaffold', 'validation', 'e2e_test', 'integration']) {
      expect(stages[key].status, `${key}: ${JSON.stringify(stages[key].error ?? stages[key].output)}`).to.equal('succeeded');
    }
    expect(stages.deployment.status).to.equal('waiting');
    decision = (pipeline.decisions as Loose[]).find((d) => d.status === 'pending')!;
    expect(decision).to.include({ stageKey: 'deployment', category: 'cost_impacting' });
  });

  it("reports the project's own numbers: scaffolded, validated with real tools, checked over HTTP, merged", async () => {
    const stages = Object.fromEntries((pipeline.stages as Loose[]).map((s) => [s.key, s]));
    expect(stages.scaffold.output).to.include({ template: 'ts-http-service', name: 'orders-service' });
    expect(stages.validation.output.metrics).to.deep.include({ typeErrors: 0, lintErrors: 0, testsPassed: 2, testsFailed: 0 });
    expect(stages.validation.output.metrics.coverage).to.be.at.least(80);
    expect(stages.validation.output.checks.test.command).to.include('--experimental-test-coverage');
    expect(stages.e2e_test.output).to.include({ passed: 2, failed: 0 });
    expect(stages.integration.output).to.include({ merged: true, conflicts: 0 });

    // The workspace is a git repository whose target holds the scaffold commit and the merge.
    const workspace = join(dir, 'workspaces', pipeline.id as string);
    const log = (await git('git', ['log', '--format=%s', stages.integration.output.target], { cwd: workspace })).stdout;
    expect(log).to.contain('Scaffold orders-service from the ts-http-service template');

    const logs = await fetch(`${h.baseUrl}/api/v1/pipelines/${pipeline.id}/stages/validation/logs`, { headers: bearer(h.adminKey) });
    expect(logs.status).to.equal(200);
    const text = await logs.text();
    expect(text).to.contain('node_modules/.bin/tsc').and.to.contain('node_modules/.bin/eslint').and.to.contain('# pass 2');
  });

  it('approved by an engineering manager: released, switched to current, and healthy at the reported URL', async () => {
    const manager = await h.createKey('sdlc-manager', ['approver', 'engineering_manager']);
    const approved = await request(h.baseUrl, 'POST', `/api/v1/decisions/${decision.id}/approve`, {}, bearer(manager.key));
    expect(approved.status, JSON.stringify(approved.body)).to.equal(200);

    const done = await waitForPipeline(h.baseUrl, pipeline.id as string, 300_000);
    const deployment = (done.stages as Loose[]).find((s) => s.key === 'deployment')!;
    expect(done.status, JSON.stringify(deployment.error ?? deployment.output)).to.equal('succeeded');
    expect(deployment.output).to.include({ app: 'orders-service', healthCheck: 'ok', rolledBack: false });
    const current = await readlink(join(dir, 'releases', 'orders-service', 'current'));
    expect(current).to.equal(join('releases', deployment.output.release as string));

    const health = await fetch(`${deployment.output.url as string}/health`);
    expect(health.status).to.equal(200);
    expect(await health.json()).to.deep.equal({ status: 'ok' });
  });
});
