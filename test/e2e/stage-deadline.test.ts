// A stage's deadline reaches its agent (ctx.deadline) and bounds the programs it runs: an e2e_test
// stage whose build hangs under a stage timeoutMs shorter than the build's own 15-minute timeout
// fails with E2E_BUILD_FAILED naming the build and why it was cut, not with a bare STAGE_TIMEOUT.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { z } from 'zod';
import { defineAgent } from '../../src/agents/define-agent.js';
import { startHarness, type Harness } from '../support/harness.js';
import { request, waitForPipeline, type Loose } from '../support/http.js';

const PIPELINES = '/api/v1/pipelines';
const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e.x', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e.x' };

/** Returns how long it has before its stage's deadline (null without one). */
const probe = defineAgent({
  type: 'deadline_probe',
  version: '1.0.0',
  input: z.object({}),
  output: z.object({ leftMs: z.number().nullable() }),
  handler: async ({ deadline }) => ({ leftMs: deadline ? deadline - Date.now() : null }),
});

describe('stage deadline (e2e)', () => {
  let h: Harness;
  let dir: string;
  let repo: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stage-deadline-'));
    // A project whose build never ends (no dependencies, so nothing is installed).
    repo = join(dir, 'project');
    mkdirSync(repo);
    const scripts = {
      build: 'node -e "setInterval(() => {}, 1000)"',
      start: 'node -e "require(\'http\').createServer((q, r) => r.end()).listen(process.env.PORT)"',
    };
    writeFileSync(join(repo, 'package.json'), JSON.stringify({ name: 'hangs', version: '1.0.0', scripts }));
    writeFileSync(join(repo, 'e2e-checks.json'), JSON.stringify([{ name: 'root', path: '/' }]));
    for (const args of [
      ['init', '-q', '-b', 'main'],
      ['add', '.'],
      ['commit', '-qm', 'one'],
    ]) {
      execFileSync('git', args, { cwd: repo, env: GIT_ENV });
    }
    h = await startHarness({ agents: [probe], env: { WORKSPACE_ROOT: join(dir, 'workspaces') } });
  });
  after(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ctx.deadline is the attempt start plus the stage timeoutMs', async () => {
    const submitted = await request(h.baseUrl, 'POST', PIPELINES, {
      name: 'deadline-probe',
      stages: [{ key: 'probe', agent: 'deadline_probe', timeoutMs: 600_000 }],
    });
    expect(submitted.status, JSON.stringify(submitted.body)).to.equal(202);
    const pipeline = await waitForPipeline(h.baseUrl, submitted.body.id);
    expect(pipeline.status).to.equal('succeeded');
    const { leftMs } = (pipeline.stages as Loose[])[0]!.output as { leftMs: number };
    expect(leftMs).to.be.greaterThan(0).and.at.most(600_000);
  });

  it('a build that would outlast the stage is killed by its own bounded timeout: E2E_BUILD_FAILED says why', async () => {
    const submitted = await request(h.baseUrl, 'POST', PIPELINES, {
      name: 'deadline-build',
      input: { repository: { url: repo } },
      stages: [{ key: 'e2e', agent: 'e2e_test', timeoutMs: 10_000, retry: { attempts: 1 } }],
    });
    expect(submitted.status, JSON.stringify(submitted.body)).to.equal(202);
    const pipeline = await waitForPipeline(h.baseUrl, submitted.body.id, 60_000);
    expect(pipeline.status).to.equal('failed');
    const stage = (pipeline.stages as Loose[])[0]!;
    expect(stage.error.code, JSON.stringify(stage.error)).to.equal('E2E_BUILD_FAILED');
    expect(stage.error.message).to.match(/^npm run build timed out after \d+ ms \(all that was left of the stage's timeoutMs\)/);
    const logs = await fetch(`${h.baseUrl}${PIPELINES}/${pipeline.id}/stages/e2e/logs`, {
      headers: { authorization: `Bearer ${h.adminKey}` },
    });
    expect(await logs.text()).to.match(/\(killed after \d+ ms, all that the stage's timeoutMs left\)/);
  });
});
