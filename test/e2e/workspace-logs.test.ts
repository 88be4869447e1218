// Workspaces and stage logs end to end: a pipeline naming a repository (a real bare repository
// made with git) gets it cloned once, its workspace stages share it, and what they write through
// ctx.workspace is readable at GET /pipelines/:id/stages/:key/logs, per attempt and capped.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { z } from 'zod';
import { BUILT_IN_AGENTS } from '../../src/agents/catalog.js';
import { defineAgent } from '../../src/agents/define-agent.js';
import { AgentError } from '../../src/domain/errors.js';
import { startHarness, type Harness } from '../support/harness.js';
import { expectError, request, waitForPipeline, type Loose } from '../support/http.js';
import { makeGitFixture, type GitFixture } from '../support/git-fixture.js';

const PIPELINES = '/api/v1/pipelines';
const MAX_LOG = 4096;

/** Writes a file into the workspace, runs git there, logs lines; fails its first attempt when asked. */
const writer = defineAgent({
  type: 'ws_writer',
  version: '1.0.0',
  workspace: true,
  input: z.object({ failFirst: z.boolean().default(false), lines: z.number().int().default(3) }),
  output: z.object({ head: z.string() }),
  async handler(ctx) {
    const ws = ctx.workspace!;
    ws.log(`writer attempt ${ctx.attempt}`);
    if (ctx.input.failFirst && ctx.attempt === 1) throw new AgentError('AGENT_ERROR', 'first attempt fails on purpose');
    await writeFile(await ws.resolve('made-by-writer.txt'), 'hello\n');
    const git = await ws.run('git', ['log', '--oneline', '-1']);
    for (let i = 0; i < ctx.input.lines; i++) ws.log(`line ${i} ${'x'.repeat(40)}`);
    return { head: git.output.trim() };
  },
});

/** Reads what the writer left in the shared workspace. */
const reader = defineAgent({
  type: 'ws_reader',
  version: '1.0.0',
  workspace: true,
  input: z.object({}),
  output: z.object({ text: z.string(), cloned: z.string() }),
  async handler(ctx) {
    const ws = ctx.workspace!;
    const text = await readFile(await ws.resolve('made-by-writer.txt'), 'utf8');
    const cloned = await readFile(await ws.resolve('a.txt'), 'utf8');
    ws.log(`reader saw ${text.trim()}`);
    return { text, cloned };
  },
});

describe('workspaces and stage logs (e2e)', () => {
  let h: Harness;
  let dir: string;
  let fixture: GitFixture;
  const logs = async (path: string) => {
    const res = await fetch(`${h.baseUrl}${path}`, { headers: { authorization: `Bearer ${h.adminKey}` } });
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'workspace-e2e-'));
    fixture = makeGitFixture(dir);
    h = await startHarness({
      agents: [...BUILT_IN_AGENTS, writer, reader],
      env: { WORKSPACE_ROOT: join(dir, 'workspaces'), STAGE_LOG_MAX_BYTES: String(MAX_LOG) },
    });
  });
  after(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('clones input.repository once, stages share the workspace, each stage log is served with a header per attempt', async () => {
    const submitted = await request(h.baseUrl, 'POST', PIPELINES, {
      name: 'workspace-e2e',
      input: { repository: { url: fixture.bare, ref: 'v1' } },
      stages: [
        {
          key: 'write',
          agent: 'ws_writer',
          input: { failFirst: true },
          retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 20, jitter: 0 } },
        },
        { key: 'read', agent: 'ws_reader', dependsOn: ['write'] },
      ],
    });
    expect(submitted.status, JSON.stringify(submitted.body)).to.equal(202);
    const pipeline = await waitForPipeline(h.baseUrl, submitted.body.id);
    expect(pipeline.status).to.equal('succeeded');
    const read = (pipeline.stages as Loose[]).find((s) => s.key === 'read')!;
    expect(read.output).to.deep.equal({ text: 'hello\n', cloned: 'v1\n' });

    const all = await logs(`${PIPELINES}/${pipeline.id}/stages/write/logs`);
    expect(all.status).to.equal(200);
    expect(all.type).to.match(/^text\/plain/);
    expect(all.text).to.match(/^=== attempt 1 \(run [0-9a-f-]{36}\) ===\n/);
    expect(all.text).to.include('writer attempt 1');
    expect(all.text).to.match(/\n=== attempt 2 \(run [0-9a-f-]{36}\) ===\nwriter attempt 2\n/);
    expect(all.text).to.include('$ git log --oneline -1');
    expect(all.text).to.include('line 2 ');
    // The clone happened once, in the first attempt of the first stage.
    expect(all.text.match(/ clone -- /g)).to.have.length(1);

    const second = await logs(`${PIPELINES}/${pipeline.id}/stages/write/logs?attempt=2`);
    expect(second.text.startsWith('=== attempt 2')).to.equal(true);
    expect(second.text).to.not.include('writer attempt 1');
    const readLog = await logs(`${PIPELINES}/${pipeline.id}/stages/read/logs`);
    expect(readLog.text).to.include('reader saw hello');
    expect(readLog.text).to.not.include(' clone -- ');
  });

  it('a log past STAGE_LOG_MAX_BYTES is cut with one [log truncated] line', async () => {
    const submitted = await request(h.baseUrl, 'POST', PIPELINES, {
      name: 'workspace-e2e-cap',
      stages: [{ key: 'write', agent: 'ws_writer', input: { lines: 500 } }],
    });
    const pipeline = await waitForPipeline(h.baseUrl, submitted.body.id);
    expect(pipeline.status).to.equal('succeeded');
    const { text } = await logs(`${PIPELINES}/${pipeline.id}/stages/write/logs`);
    expect(text.match(/\[log truncated\]/g)).to.have.length(1);
    expect(text.endsWith('[log truncated]\n')).to.equal(true);
    expect(Buffer.byteLength(text)).to.be.at.most(MAX_LOG + 200);
  });

  it('404 PIPELINE_NOT_FOUND and STAGE_NOT_FOUND with JSON bodies; 400 on a bad attempt', async () => {
    expectError(await request(h.baseUrl, 'GET', `${PIPELINES}/${randomUUID()}/stages/write/logs`), 404, 'PIPELINE_NOT_FOUND');
    const submitted = await request(h.baseUrl, 'POST', PIPELINES, {
      name: 'workspace-e2e-404',
      stages: [{ key: 'write', agent: 'ws_writer' }],
    });
    expectError(await request(h.baseUrl, 'GET', `${PIPELINES}/${submitted.body.id}/stages/nope/logs`), 404, 'STAGE_NOT_FOUND');
    expectError(await request(h.baseUrl, 'GET', `${PIPELINES}/${submitted.body.id}/stages/write/logs?attempt=0`), 400, 'VALIDATION_FAILED');
    await waitForPipeline(h.baseUrl, submitted.body.id);
  });

  it('a bad input.repository is refused at submission, naming input.repository.url', async () => {
    const res = await request(h.baseUrl, 'POST', PIPELINES, {
      name: 'workspace-e2e-bad-repo',
      input: { repository: { url: 'ext::sh -c id' } },
      stages: [{ key: 'write', agent: 'ws_writer' }],
    });
    expectError(res, 400, 'VALIDATION_FAILED');
    expect((res.body.error.details as Loose[]).map((d) => d.field)).to.include('input.repository.url');
  });
});
