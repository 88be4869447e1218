// The complete custom-agent example of docs/agents.md, as a reader would use it: written exactly as
// the doc shows it into a project of its own (a temporary folder with the platform installed as
// its `agentic-sdlc` dependency), type-checked with tsc under the platform's compiler options,
// loaded through AGENT_MODULES' loader and run.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { MetricValue } from '../../src/agents/define-agent.js';
import { BUILT_IN_AGENTS } from '../../src/agents/catalog.js';
import { loadAgentModules } from '../../src/composition/agent-modules.js';
import { isUnrecoverable } from '../../src/domain/errors.js';
import { testRunContext } from '../support/agent-context.js';
import { PLATFORM_ROOT as ROOT, writeDocExampleProject, type DocExampleProject } from '../support/agents-doc-example.js';

describe('docs/agents.md: the custom agent example (written out, type-checked, loaded, run)', function () {
  this.timeout(120_000);
  let project: string;
  let example: DocExampleProject;

  before(async () => {
    example = await writeDocExampleProject();
    project = example.root;
  });

  after(async () => {
    if (project) await rm(project, { recursive: true, force: true });
  });

  it('type-checks with tsc under the platform tsconfig.json compiler options', async () => {
    const { compilerOptions } = JSON.parse(await readFile(join(ROOT, 'tsconfig.json'), 'utf8')) as { compilerOptions: object };
    const tsconfig = { compilerOptions: { ...compilerOptions, types: ['node'] }, include: [example.path] };
    await writeFile(join(project, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));

    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await promisify(execFile)(process.execPath, [tsc, '-p', project], { cwd: project }).then(
      () => ({ code: 0, output: '' }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code, output: `${error.stdout}${error.stderr}` }),
    );

    expect(result, result.output).to.deep.equal({ code: 0, output: '' });
  });

  it('loads through AGENT_MODULES as written (the path the doc gives, from the project folder) and runs', async () => {
    const [agent, ...others] = await loadAgentModules([example.path], { cwd: project, builtIns: BUILT_IN_AGENTS });
    expect(others).to.deep.equal([]);
    expect(agent).to.include({ type: 'hello', version: '1.0.0', description: 'Greets someone by name.' });

    const reported: Record<string, MetricValue>[] = [];
    const output = await agent!.execute({ name: ' Ada ' }, testRunContext({ reportMetrics: (m) => void reported.push(m) }));

    expect(output).to.deep.equal({ greeting: 'Hello, Ada!' });
    expect(reported).to.deep.equal([{ greetingLength: 11 }]);
    expect(await agent!.execute({ name: 'Ada', shout: true }, testRunContext())).to.deep.equal({ greeting: 'HELLO, ADA!' });
  });

  it('its contract holds: an unknown input key is refused at submission, an empty name fails unrecoverably', async () => {
    const [agent] = await loadAgentModules([example.path], { cwd: project, builtIns: BUILT_IN_AGENTS });

    const refused = agent!.validateInput({ name: 'Ada', colour: 'red' });
    expect(refused.ok).to.equal(false);

    const error = await agent!.execute({ name: '  ' }, testRunContext()).catch((e: unknown) => e);
    // By name, as the stage runner recognises it: mocha loads this file as CommonJS, the module came
    // in through import(), so the two hold different copies of the class.
    expect(isUnrecoverable(error), String(error)).to.equal(true);
    expect(error).to.include({ name: 'UnrecoverableStageError', code: 'HELLO_NO_NAME' });
  });
});
