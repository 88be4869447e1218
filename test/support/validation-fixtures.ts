// Fixture projects for the validation agent's tests, written to a temporary folder with
// node_modules linked to this repository's (typescript, eslint and mocha without a network).
import { execFile } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_NODE_MODULES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'node_modules');

export async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
}

export const linkNodeModules = (root: string) => symlink(REPO_NODE_MODULES, join(root, 'node_modules'));

const TSCONFIG = JSON.stringify({
  compilerOptions: {
    allowJs: true,
    checkJs: true,
    noEmit: true,
    strict: true,
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    target: 'ES2022',
    types: [],
  },
  include: ['src'],
});
const ESLINT_CONFIG = "export default [{ files: ['**/*.js'], rules: { 'no-unused-vars': 'error', 'prefer-const': 'warn' } }];\n";
const PACKAGE = (extra: object) =>
  JSON.stringify({
    name: 'fixture',
    version: '1.0.0',
    private: true,
    type: 'module',
    devDependencies: { typescript: '*', eslint: '*' },
    ...extra,
  });

/** tsc + ESLint + `node --test`, with one type error, one lint error (and a warning), one failing test and low coverage. */
export const BROKEN_NODE_PROJECT: Record<string, string> = {
  'package.json': PACKAGE({ scripts: { test: 'node --test' } }),
  'tsconfig.json': TSCONFIG,
  'eslint.config.js': ESLINT_CONFIG,
  'src/math.js': `/**
 * @param {number} a
 * @param {number} b
 */
export function add(a, b) {
  return a + b;
}

/** @type {number} */
export const answer = 'forty-two';

export function unused() {
  const leftover = 1;
  let two = 2;
  return two;
}

/**
 * @param {number} a
 * @param {number} b
 */
export function distance(a, b) {
  if (a > b) {
    return a - b;
  }
  return b - a;
}
`,
  'test/math.test.js': `import test from 'node:test';
import assert from 'node:assert/strict';
import { add } from '../src/math.js';

test('adds', () => assert.equal(add(1, 2), 3));
test('adds negatives', () => assert.equal(add(-1, -2), -3));
test('adds wrongly', () => assert.equal(add(2, 2), 5));
`,
};

/** The same tools on a project with nothing wrong. */
export const CLEAN_NODE_PROJECT: Record<string, string> = {
  'package.json': PACKAGE({ scripts: { test: 'node --test' } }),
  'tsconfig.json': TSCONFIG,
  'eslint.config.js': ESLINT_CONFIG,
  'src/math.js': `/**
 * @param {number} a
 * @param {number} b
 */
export function add(a, b) {
  return a + b;
}
`,
  'test/math.test.js': `import test from 'node:test';
import assert from 'node:assert/strict';
import { add } from '../src/math.js';

test('adds', () => assert.equal(add(1, 2), 3));
`,
};

/** mocha from devDependencies (no coverage tool), three passing, one failing, one pending; no tsconfig or ESLint config. */
export const MOCHA_PROJECT: Record<string, string> = {
  'package.json': JSON.stringify({
    name: 'fixture',
    version: '1.0.0',
    private: true,
    scripts: { test: "mocha 'test/*.spec.cjs'" },
    devDependencies: { mocha: '*' },
  }),
  'test/a.spec.cjs': `const assert = require('node:assert');
describe('a', () => {
  it('one', () => assert.ok(true));
  it('two', () => assert.ok(true));
  it('three', () => assert.ok(true));
  it('four', () => assert.equal(1, 2));
  it('later');
});
`,
};

export interface Ran {
  code: number;
  output: string;
}

/** Runs a program in `cwd` as the project's developer would, output combined. */
export function runHere(cwd: string, command: string, args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' }, maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === 'number' ? error.code : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}
