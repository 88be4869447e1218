// The validation agent on fixture projects in temporary folders, with the real tsc, ESLint, mocha
// and `node --test`: its numbers are compared with what the same tools print when run directly.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createValidationAgent } from '../../src/agents/sdlc/validation.agent.js';
import type { MetricValue } from '../../src/domain/gates.js';
import { createLocalWorkspace } from '../../src/infra/workspaces/local-workspace.js';
import { testRunContext } from '../support/agent-context.js';
import {
  BROKEN_NODE_PROJECT,
  CLEAN_NODE_PROJECT,
  MOCHA_PROJECT,
  linkNodeModules,
  runHere,
  writeFiles,
} from '../support/validation-fixtures.js';

interface Check {
  status: string;
  reason: string;
  command?: string[];
  exitCode?: number | null;
  counts?: Record<string, number>;
  coverage?: { lines: number };
  coverageNote?: string;
  logExcerpt?: string;
}
interface Output {
  summary: string;
  install: { status: string; reason: string; command?: string[] };
  checks: { typecheck: Check; lint: Check; test: Check };
  metrics: Record<string, number>;
}

const agent = createValidationAgent();
const number = (output: string, pattern: RegExp) => Number(pattern.exec(output)?.[1] ?? 0);

/** What the project's own tools print, run the way a developer would (human-readable formats). */
async function measuredByHand(root: string) {
  const tsc = await runHere(root, 'node_modules/.bin/tsc', ['--noEmit', '--pretty']);
  const eslint = await runHere(root, 'node_modules/.bin/eslint', ['.']);
  const tests = await runHere(root, 'node', ['--test', '--experimental-test-coverage', '--test-reporter=spec']);
  return {
    typeErrors: number(tsc.output, /Found (\d+) errors?/),
    lintErrors: number(eslint.output, /\((\d+) errors?,/),
    lintWarnings: number(eslint.output, /, (\d+) warnings?\)/),
    testsPassed: number(tests.output, /^ℹ pass (\d+)$/m),
    testsFailed: number(tests.output, /^ℹ fail (\d+)$/m),
    coverage: Number(/^ℹ all files\s*\|\s*([\d.]+)/m.exec(tests.output)?.[1]),
  };
}

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

describe('validation agent (real tools on fixture projects)', () => {
  const roots: string[] = [];
  async function project(files: Record<string, string>, { link = true } = {}): Promise<string> {
    const root = await mkdtemp(join(tmpdir(), 'validation-agent-'));
    roots.push(root);
    await writeFiles(root, files);
    if (link) await linkNodeModules(root);
    return root;
  }
  async function validate(root: string, input: Record<string, unknown> = {}) {
    const metrics: Record<string, MetricValue> = {};
    const workspace = await createLocalWorkspace({ root });
    const output = (await agent.execute(
      input as never,
      testRunContext({ workspace, reportMetrics: (m) => Object.assign(metrics, m) }),
    )) as unknown as Output;
    return { output, metrics };
  }
  after(async () => {
    for (const root of roots) await rm(root, { recursive: true, force: true });
  });

  it('reports the injected type error, lint error, failing test and low coverage exactly as the tools print them', async () => {
    const root = await project(BROKEN_NODE_PROJECT);
    const { output, metrics } = await validate(root);
    const byHand = await measuredByHand(root);

    expect(byHand).to.include({ typeErrors: 1, lintErrors: 1, lintWarnings: 1, testsPassed: 2, testsFailed: 1 });
    expect(byHand.coverage).to.be.within(1, 79.99);
    expect(metrics).to.deep.equal({ ...byHand, testsSkipped: 0 });
    expect(output.metrics).to.deep.equal(metrics);
    const { typecheck, lint, test } = output.checks;
    expect(typecheck).to.include({ status: 'failed', exitCode: 2 });
    expect(typecheck.command).to.deep.equal(['node_modules/.bin/tsc', '--noEmit', '--pretty', 'false']);
    expect(typecheck.logExcerpt).to.match(/src\/math\.js\(10,14\): error TS2322/);
    expect(lint).to.include({ status: 'failed', exitCode: 1, reason: 'eslint.config.js' });
    expect(lint.logExcerpt).to.include("src/math.js:13:9 error 'leftover' is assigned a value but never used. (no-unused-vars)");
    expect(test).to.include({ status: 'failed', exitCode: 1, reason: 'scripts.test runs node' });
    expect(test.coverage?.lines).to.equal(byHand.coverage);
    expect(test.logExcerpt).to.include('# fail 1');
    expect(output.install).to.deep.equal({ status: 'skipped', reason: 'node_modules is up to date' });
    expect((await readdir(root)).filter((name) => name.startsWith('.validation-reports'))).to.deep.equal([]);
  });

  it('reports zeros and the measured coverage on a clean project', async () => {
    const root = await project(CLEAN_NODE_PROJECT);
    const { output, metrics } = await validate(root);
    const byHand = await measuredByHand(root);

    expect(byHand).to.include({ typeErrors: 0, lintErrors: 0, testsPassed: 1, testsFailed: 0 });
    expect(metrics).to.deep.equal({ ...byHand, testsSkipped: 0 });
    expect(metrics.coverage).to.equal(100);
    expect(Object.values(output.checks).map((c) => c.status)).to.deep.equal(['passed', 'passed', 'passed']);
    expect(output.summary).to.equal(
      'typecheck passed, lint passed, test passed (typeErrors 0, lintErrors 0, lintWarnings 0, testsPassed 1, testsFailed 0, testsSkipped 0, coverage 100)',
    );
  });

  it('counts mocha results from its JSON reporter, and leaves checks it cannot find skipped with no metric', async () => {
    const root = await project(MOCHA_PROJECT);
    const { output, metrics } = await validate(root);
    const byHand = await runHere(root, 'node_modules/.bin/mocha', ['test/*.spec.cjs']);

    expect(byHand.output)
      .to.match(/3 passing/)
      .and.match(/1 failing/)
      .and.match(/1 pending/);
    expect(metrics).to.deep.equal({ testsPassed: 3, testsFailed: 1, testsSkipped: 1 });
    expect(output.checks.test).to.include({ status: 'failed', exitCode: 1, reason: 'scripts.test runs mocha' });
    expect(output.checks.test.command?.slice(0, 2)).to.deep.equal(['node_modules/.bin/mocha', 'test/*.spec.cjs']);
    expect(output.checks.test.coverageNote).to.equal('no coverage tool for mocha (c8 or nyc in node_modules/.bin)');
    expect(output.checks.typecheck).to.deep.equal({ status: 'skipped', reason: 'no tsconfig.json' });
    expect(output.checks.lint).to.deep.equal({ status: 'skipped', reason: 'no ESLint configuration' });
  });

  it('runs commands from the input as argument arrays and reads their human summaries', async () => {
    const root = await project(BROKEN_NODE_PROJECT);
    const { output, metrics } = await validate(root, {
      commands: {
        lint: ['node_modules/.bin/eslint', 'src'],
        test: ['node', '--test', '--experimental-test-coverage', 'test/math.test.js'],
      },
    });
    const byHand = await measuredByHand(root);

    expect(output.checks.lint).to.include({ reason: 'input.commands.lint', status: 'failed' });
    expect(output.checks.lint.counts).to.deep.equal({ errors: 1, warnings: 1 });
    expect(output.checks.test.command).to.deep.equal(['node', '--test', '--experimental-test-coverage', 'test/math.test.js']);
    expect(metrics).to.deep.equal({ ...byHand, testsSkipped: 0 });
  });

  it('installs dependencies with npm when node_modules is missing, and not again when it is up to date', async () => {
    const root = await project(
      {
        'package.json': JSON.stringify({ name: 'app', version: '1.0.0', private: true, dependencies: { 'local-lib': 'file:./local-lib' } }),
        'local-lib/package.json': JSON.stringify({ name: 'local-lib', version: '1.0.0' }),
      },
      { link: false },
    );
    const first = await validate(root);
    expect(first.output.install).to.include({ status: 'ran', reason: 'no node_modules' });
    expect(first.output.install.command).to.deep.equal(['npm', 'install', '--no-audit', '--no-fund']);
    expect(existsSync(join(root, 'node_modules', 'local-lib', 'package.json'))).to.equal(true);
    expect(first.metrics).to.deep.equal({});
    expect(Object.values(first.output.checks).map((c) => c.status)).to.deep.equal(['skipped', 'skipped', 'skipped']);

    const second = await validate(root);
    expect(second.output.install).to.deep.equal({ status: 'skipped', reason: 'node_modules is up to date' });
    const skippedOnRequest = await validate(root, { install: false });
    expect(skippedOnRequest.output.install).to.deep.equal({ status: 'skipped', reason: 'input.install is false' });
  });

  it('fails unrecoverably when a tool crashes without results, and refuses a path outside the workspace', async () => {
    const root = await project({ ...CLEAN_NODE_PROJECT, 'eslint.config.js': "throw new Error('broken config');\n" });
    const crashed = await rejection(validate(root));
    expect(crashed.code).to.equal('VALIDATION_TOOL_FAILED');
    expect(crashed.message)
      .to.match(/^lint: node_modules\/\.bin\/eslint --format json \. exited with 2 without ESLint results/)
      .and.include('broken config');

    const escaped = await rejection(validate(root, { path: '../' }));
    expect(escaped.code).to.equal('WORKSPACE_PATH_ESCAPE');
    const shell = await rejection(validate(root, { commands: { test: ['npm test'] } }));
    expect(shell.code).to.equal('AGENT_INPUT_INVALID');
  });
});
