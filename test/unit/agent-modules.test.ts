// AGENT_MODULES' loader (src/composition/agent-modules.ts) on real modules written to a temporary
// folder: TypeScript and JavaScript modules, default and `agents` exports, and every refusal
// naming the module and what is wrong with it.
import { expect } from 'chai';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BUILT_IN_AGENTS } from '../../src/agents/catalog.js';
import { loadAgentModules, moduleSpecifier } from '../../src/composition/agent-modules.js';
import { BootError } from '../../src/domain/boot-error.js';
import { testRunContext } from '../support/agent-context.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** A module of the agent `type` made with the SDK, as TypeScript. */
const tsAgent = (type: string) => `import { defineAgent, z } from 'agentic-sdlc/sdk';
export default defineAgent({
  type: '${type}',
  version: '2.0.0',
  input: z.object({ n: z.number() }),
  output: z.object({ doubled: z.number() }),
  handler: async ({ input }) => ({ doubled: input.n * 2 }),
});
`;

describe('AGENT_MODULES loader', function () {
  this.timeout(30_000);
  let dir: string;
  const load = (...entries: string[]) => loadAgentModules(entries, { cwd: dir, builtIns: BUILT_IN_AGENTS });

  /** The BootError message of a load that must fail. */
  async function refusal(...entries: string[]): Promise<string> {
    const error = await load(...entries).then(
      () => expect.fail('expected the load to be refused'),
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(BootError);
    expect(error).to.include({ code: 'CONFIG_INVALID' });
    return (error as BootError).message;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agent-modules-'));
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'custom-agents', private: true, type: 'module' }));
    await mkdir(join(dir, 'node_modules'));
    await symlink(ROOT, join(dir, 'node_modules', 'agentic-sdlc'), 'dir');
    await mkdir(join(dir, 'agents'));
    await writeFile(join(dir, 'agents', 'double.agent.ts'), tsAgent('double'));
    await writeFile(join(dir, 'agents', 'noop-again.agent.ts'), tsAgent('noop'));
    await writeFile(join(dir, 'agents', 'double-again.agent.ts'), tsAgent('double'));
    await writeFile(
      join(dir, 'agents', 'pair.agent.mjs'),
      `import { defineAgent, z } from 'agentic-sdlc/sdk';
const make = (type) => defineAgent({ type, version: '1.0.0', input: z.object({}).loose(), output: z.object({ type: z.string() }), handler: async () => ({ type }) });
export const agents = [make('js_one'), make('js_two')];
`,
    );
    await writeFile(join(dir, 'agents', 'nothing.mjs'), 'export const helper = 1;\n');
    await writeFile(join(dir, 'agents', 'empty.mjs'), 'export default [];\n');
    await writeFile(join(dir, 'agents', 'fake.mjs'), "export default { type: 'fake', version: '1.0.0', execute() {} };\n");
    await writeFile(join(dir, 'agents', 'broken.mjs'), "import 'no-such-package-anywhere';\nexport default 1;\n");
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('no modules: no agents', async () => {
    expect(await load()).to.deep.equal([]);
  });

  it('a TypeScript module (default export) and a JavaScript one (`agents` array): every agent, in order, runnable', async () => {
    const agents = await load('agents/double.agent.ts', './agents/pair.agent.mjs');

    expect(agents.map((a) => [a.type, a.version])).to.deep.equal([
      ['double', '2.0.0'],
      ['js_one', '1.0.0'],
      ['js_two', '1.0.0'],
    ]);
    expect(await agents[0]!.execute({ n: 21 }, testRunContext())).to.deep.equal({ doubled: 42 });
    expect(await agents[2]!.execute({}, testRunContext())).to.deep.equal({ type: 'js_two' });
  });

  it('an absolute path loads too', async () => {
    const [agent] = await load(join(dir, 'agents', 'double.agent.ts'));
    expect(agent?.type).to.equal('double');
  });

  it('paths and package names: a path becomes a file URL from the working directory, a name stays a name', () => {
    expect(moduleSpecifier('my-agents/hello.agent.ts', '/srv/app')).to.equal('file:///srv/app/my-agents/hello.agent.ts');
    expect(moduleSpecifier('./lib/index.mjs', '/srv/app')).to.equal('file:///srv/app/lib/index.mjs');
    expect(moduleSpecifier('/opt/agents/a.js', '/srv/app')).to.equal('file:///opt/agents/a.js');
    expect(moduleSpecifier('@acme/agents', '/srv/app')).to.equal('@acme/agents');
    expect(moduleSpecifier('acme-agents/sdlc', '/srv/app')).to.equal('acme-agents/sdlc');
  });

  it('a missing file: not found, naming the module and where it looked', async () => {
    const message = await refusal('agents/missing.agent.ts');
    expect(message).to.equal(
      `AGENT_MODULES: module "agents/missing.agent.ts": not found (looked for ${join(dir, 'agents/missing.agent.ts')}).`,
    );
  });

  it('a package that is not installed: not found, naming the package', async () => {
    expect(await refusal('no-such-agents-package'))
      .to.include('module "no-such-agents-package": not found')
      .and.include('package');
  });

  it('a module whose own import fails: failed to load, with the reason', async () => {
    const message = await refusal('agents/broken.mjs');
    expect(message).to.include('module "agents/broken.mjs": failed to load').and.include('no-such-package-anywhere');
  });

  it('no default export and no `agents`: names what it does export', async () => {
    expect(await refusal('agents/nothing.mjs'))
      .to.include('module "agents/nothing.mjs": exports no agent')
      .and.include('it exports helper');
  });

  it('an empty array: refused', async () => {
    expect(await refusal('agents/empty.mjs')).to.include('empty array');
  });

  it('an object that is not an agent made with defineAgent: lists what it lacks', async () => {
    const message = await refusal('agents/fake.mjs');
    expect(message).to.include('module "agents/fake.mjs": its default export is not an agent made with defineAgent');
    expect(message).to.include('no string `description`').and.include('no `validateInput()`');
  });

  it('a type of a built-in agent: refused, naming the type', async () => {
    const message = await refusal('agents/noop-again.agent.ts');
    expect(message).to.include('module "agents/noop-again.agent.ts": declares agent type "noop", which is a built-in agent');
  });

  it('a type another module already declared: refused, naming both modules', async () => {
    const message = await refusal('agents/double.agent.ts', 'agents/double-again.agent.ts');
    expect(message)
      .to.include('module "agents/double-again.agent.ts": declares agent type "double"')
      .and.include('"agents/double.agent.ts"');
  });
});
