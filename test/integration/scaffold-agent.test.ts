// The real `scaffold` agent in temporary workspaces: both shipped templates laid out, named,
// described and committed with git (the library's own tests then pass with `npm test`); a
// non-empty target refused; the writeCode hook's files written, one escaping the project refused.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import type { MetricValue } from '../../src/agents/define-agent.js';
import { createScaffoldAgent, type ScaffoldCodeRequest } from '../../src/agents/sdlc/scaffold.agent.js';
import { createLocalWorkspace } from '../../src/infra/workspaces/local-workspace.js';
import { configuredAgents } from '../../src/composition/configured-agents.js';
import { classifyError } from '../../src/domain/errors.js';
import { testRunContext } from '../support/agent-context.js';

const run = promisify(execFile);
const PLATFORM_MODULES = join(process.cwd(), 'node_modules');

interface Scaffolded {
  name: string;
  description: string;
  files: string[];
  codeFiles: string[];
  commit: string | null;
  metrics: { filesCreated: number };
}

describe('scaffold agent (real templates and git)', () => {
  let root: string;
  let metrics: Record<string, MetricValue>;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'scaffold-agent-'));
    metrics = {};
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const execute = async (input: Record<string, string | boolean>, agent = createScaffoldAgent(), pipelineInput = {}) =>
    (await agent.execute(
      input,
      testRunContext({
        workspace: await createLocalWorkspace({ root }),
        pipelineInput,
        reportMetrics: (m) => Object.assign(metrics, m),
      }),
    )) as unknown as Scaffolded;
  const git = async (cwd: string, ...args: string[]) => (await run('git', args, { cwd })).stdout.trim();

  it('scaffold: ts-http-service from the pipeline requirements → named, described, one commit by the agent', async () => {
    const out = await execute({ template: 'ts-http-service', name: '@acme/orders-api' }, undefined, {
      requirements: 'An "orders" API: it\'s `fast`.\nMore detail here.',
    });

    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
    expect(pkg.name).to.equal('@acme/orders-api');
    expect(pkg.description).to.equal('An "orders" API: it\'s `fast`.');
    expect(Object.keys(pkg.devDependencies).sort()).to.deep.equal([
      '@eslint/js',
      '@types/node',
      'eslint',
      'typescript',
      'typescript-eslint',
    ]);
    expect(out.files).to.include.members([
      '.gitignore',
      'e2e-checks.json',
      'package.json',
      'src/index.ts',
      'src/server.ts',
      'test/server.test.ts',
    ]);
    expect(out.files).not.to.include('gitignore');
    expect(await readFile(join(root, 'src', 'index.ts'), 'utf8')).to.contain('@acme/orders-api listening');
    expect(await readFile(join(root, 'README.md'), 'utf8')).to.match(/^# @acme\/orders-api\n\nAn "orders" API/);
    expect(out.metrics.filesCreated).to.equal(out.files.length);
    expect(metrics.filesCreated).to.equal(out.files.length);

    expect(out.commit).to.match(/^[0-9a-f]{40}$/);
    expect(await git(root, 'rev-parse', 'HEAD')).to.equal(out.commit);
    expect(await git(root, 'log', '--format=%an <%ae>|%s')).to.equal(
      'agentic-sdlc <agents@agentic-sdlc.local>|Scaffold @acme/orders-api from the ts-http-service template',
    );
    expect(await git(root, 'status', '--porcelain')).to.equal('');
  });

  it('scaffold: ts-library into a sub-folder → its own tests pass with npm test', async function () {
    this.timeout(60_000);
    const out = await execute({ template: 'ts-library', name: 'slugs', description: 'Slugs for URLs', path: 'packages/slugs' });
    const dir = join(root, 'packages', 'slugs');
    expect(out.files).to.include.members(['src/index.ts', 'test/index.test.ts', 'tsconfig.json']);
    expect(await git(dir, 'log', '--format=%s')).to.equal('Scaffold slugs from the ts-library template');

    // The platform's node_modules has the template's two devDependencies (typescript, @types/node).
    await symlink(PLATFORM_MODULES, join(dir, 'node_modules'));
    const { stdout } = await run('npm', ['test'], { cwd: dir });
    expect(stdout).to.match(/# pass 4\b/);
    expect(stdout).to.match(/# fail 0\b/);
  });

  it('scaffold: a folder that already holds files → SCAFFOLD_TARGET_NOT_EMPTY, unless overwrite', async () => {
    await writeFile(join(root, 'notes.txt'), 'mine');
    let error: unknown;
    await execute({ name: 'svc' }).catch((e: unknown) => (error = e));
    expect(error).to.include({ code: 'SCAFFOLD_TARGET_NOT_EMPTY' });

    const out = await execute({ name: 'svc', overwrite: true });
    expect(out.commit).to.match(/^[0-9a-f]{40}$/);
    expect(await readFile(join(root, 'notes.txt'), 'utf8')).to.equal('mine');
  });

  it('scaffold: an invalid package name or an unknown template → refused before anything is written', async () => {
    let error: unknown;
    await execute({ name: 'Not A Name' }).catch((e: unknown) => (error = e));
    expect(error).to.include({ code: 'AGENT_INPUT_INVALID' });
    await execute({ template: 'cobol-mainframe' }).catch((e: unknown) => (error = e));
    expect(error).to.include({ code: 'SCAFFOLD_TEMPLATE_NOT_FOUND' });
    expect((error as Error).message).to.contain('ts-http-service, ts-library');
  });

  it('scaffold: with a writeCode hook → its files are added to the first commit; a path leaving the project is refused', async () => {
    const asked: ScaffoldCodeRequest[] = [];
    const agent = createScaffoldAgent({
      writeCode: async (request) => {
        asked.push(request);
        return { files: [{ path: 'src/orders.ts', content: 'export const orders: string[] = [];\n' }] };
      },
    });
    const out = await execute({ name: 'orders', requirements: 'Keep a list of orders.' }, agent);
    expect(asked).to.have.length(1);
    expect(asked[0]).to.include({ template: 'ts-http-service', name: 'orders', requirements: 'Keep a list of orders.' });
    expect(asked[0]!.files.map((f) => f.path)).to.include('src/server.ts');
    expect(out.codeFiles).to.deep.equal(['src/orders.ts']);
    expect(await git(root, 'show', '--name-only', '--format=', 'HEAD')).to.contain('src/orders.ts');

    await mkdir(join(root, 'other'));
    const escaping = createScaffoldAgent({ writeCode: async () => ({ files: [{ path: '../escaped.ts', content: '' }] }) });
    let error: unknown;
    await execute({ name: 'x', path: 'other', requirements: 'anything' }, escaping).catch((e: unknown) => (error = e));
    expect(error).to.include({ code: 'WORKSPACE_PATH_ESCAPE' });
  });

  describe('with an LLM endpoint configured (configuredAgents, a local OpenAI-compatible server)', () => {
    let server: Server;
    let answer: string;
    let asked: { model: string; messages: { role: string; content: string }[]; response_format?: unknown }[];

    before(async () => {
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => {
          asked.push(JSON.parse(body));
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ choices: [{ message: { content: answer } }], usage: { prompt_tokens: 900, completion_tokens: 60 } }));
        });
      });
      await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
    });
    after(() => server.close());
    beforeEach(() => {
      asked = [];
    });

    const scaffoldWithLlm = () => {
      const { port } = server.address() as AddressInfo;
      const agents = configuredAgents({
        LLM_BASE_URL: `http://127.0.0.1:${port}/v1`,
        LLM_MODEL: 'coder',
        LLM_API_KEY: '',
        LLM_TIMEOUT_MS: 5000,
        RELEASES_ROOT: join(root, 'releases'),
        DEPLOY_HOOK_URL: '',
        DEPLOY_HOOK_TOKEN: '',
        GITHUB_TOKEN: '',
        GITHUB_API_URL: 'https://api.github.com',
        COMMAND_ALLOWED_PROGRAMS: [],
        COMMAND_ENV_ALLOW_LIST: [],
        HTTP_AGENT_ALLOWED_HOSTS: [],
      });
      return agents.find((agent) => agent.type === 'scaffold')!;
    };

    it('scaffold: the model is sent the requirements and the template, and the files it answers are in the first commit', async () => {
      answer = JSON.stringify({ files: [{ path: 'src/orders.ts', content: 'export const orders: string[] = [];\n' }] });
      const out = await execute({ name: 'orders', requirements: 'Keep a list of orders.' }, scaffoldWithLlm());

      expect(asked).to.have.length(1);
      expect(asked[0]).to.include({ model: 'coder' });
      expect(asked[0]!.response_format).to.deep.equal({ type: 'json_object' });
      const prompt = asked[0]!.messages.map((m) => m.content).join('\n');
      expect(prompt).to.contain('Keep a list of orders.').and.to.contain('--- src/server.ts');
      expect(out.codeFiles).to.deep.equal(['src/orders.ts']);
      expect(await readFile(join(root, 'src/orders.ts'), 'utf8')).to.equal('export const orders: string[] = [];\n');
      expect(await git(root, 'show', '--name-only', '--format=', 'HEAD')).to.contain('src/orders.ts');
    });

    it('scaffold: an answer that is not the JSON asked for → retryable LLM_RESPONSE_INVALID, nothing committed', async () => {
      answer = 'Sure! Here is your code: export const orders = [];';
      const error = await execute({ name: 'orders', requirements: 'Keep a list of orders.' }, scaffoldWithLlm()).catch((e: unknown) => e);
      expect(classifyError(error)).to.include({ code: 'LLM_RESPONSE_INVALID', retryable: true });
      answer = JSON.stringify({ files: [{ path: 'src/a.ts' }] });
      const missing = await execute({ name: 'orders', requirements: 'x', overwrite: true }, scaffoldWithLlm()).catch((e: unknown) => e);
      expect((missing as Error).message).to.contain('files.0.content');
      expect(await git(root, 'rev-parse', '--is-inside-work-tree').catch(() => 'no repository')).to.equal('no repository');
    });
  });
});
