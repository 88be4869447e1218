// AGENT_MODULES through the real entry processes: a module that cannot be loaded stops the boot
// with one line naming it (before anything is connected), and the docs/agents.md example, written
// out as a reader would, is served by `npm start`'s process: listed by the API and run by a stage.
import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/chaos/free-port.js';
import { writeDocExampleProject, type DocExampleProject } from '../support/agents-doc-example.js';
import { request, type Loose } from '../support/http.js';
import { startEntry, waitForOutput } from '../support/processes.js';

/** Polls the pipeline, with `auth`, until it is terminal. */
async function finished(baseUrl: string, id: string, auth: Record<string, string>, output: () => string): Promise<Loose> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { body } = await request(baseUrl, 'GET', `/api/v1/pipelines/${id}`, undefined, auth);
    if (['succeeded', 'failed', 'cancelled'].includes(body.status as string)) return body;
    if (Date.now() > deadline) throw new Error(`pipeline ${id} still ${body.status}:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('AGENT_MODULES in the entry processes (e2e)', function () {
  this.timeout(120_000);
  let example: DocExampleProject;

  before(async () => {
    example = await writeDocExampleProject();
  });

  after(async () => {
    if (example) await rm(example.root, { recursive: true, force: true });
  });

  it('worker with a module that does not exist: exits 1 with one line naming it, no stack', async () => {
    const started = startEntry('src/worker.ts', { AGENT_MODULES: 'my-agents/missing.agent.ts' });

    const code = await started.exited;

    expect(code, started.output()).to.equal(1);
    expect(started.output()).to.include('AGENT_MODULES: module "my-agents/missing.agent.ts": not found');
    expect(started.output(), 'no stack trace').not.to.match(/^\s+at /m);
  });

  it('npm start with the docs example: GET /agents lists hello, a worker serves it and its stage succeeds with the greeting', async () => {
    const keyDir = await mkdtemp(join(tmpdir(), 'agent-modules-key-'));
    const port = await freePort();
    const started = startEntry('src/main.ts', {
      NODE_ENV: 'development',
      DATABASE_URL: process.env.TEST_DATABASE_URL!,
      DEV_ADMIN_KEY_FILE: join(keyDir, 'admin-key'),
      HOST: '127.0.0.1',
      PORT: String(port),
      AGENT_MODULES: join(example.root, example.path),
    });
    try {
      await waitForOutput(started, /agentic-sdlc is up/);
      const baseUrl = `http://127.0.0.1:${port}`;
      const auth = { authorization: `Bearer ${(await readFile(join(keyDir, 'admin-key'), 'utf8')).trim()}` };

      const agents = await request(baseUrl, 'GET', '/api/v1/agents', undefined, auth);
      const created = await request(
        baseUrl,
        'POST',
        '/api/v1/pipelines',
        { name: 'greet', stages: [{ key: 'greet', agent: 'hello', input: { name: 'Ada' } }] },
        auth,
      );
      expect(created.status, JSON.stringify(created.body)).to.equal(202);
      const rejected = await request(
        baseUrl,
        'POST',
        '/api/v1/pipelines',
        { name: 'bad', stages: [{ key: 'g', agent: 'hello', input: {} }] },
        auth,
      );
      const done = await finished(baseUrl, created.body.id as string, auth, started.output);

      const hello = (agents.body.items as { type: string; version: string; workersOnline: number }[]).find((a) => a.type === 'hello');
      expect(hello, JSON.stringify(agents.body)).to.include({ version: '1.0.0' });
      expect(rejected.status, "the API validates with the module's input schema").to.equal(400);
      expect(JSON.stringify(rejected.body)).to.include('stages[0].input.name');
      expect(done.status, JSON.stringify(done)).to.equal('succeeded');
      expect(done.stages[0].output).to.deep.equal({ greeting: 'Hello, Ada!' });
    } finally {
      expect(await started.stop(), started.output()).to.equal(0);
      await rm(keyDir, { recursive: true, force: true });
    }
  });
});
