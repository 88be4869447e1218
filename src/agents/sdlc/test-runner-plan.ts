// Which test runner a project uses (its `test` script first, then its devDependencies) and the
// command that runs it with a machine-readable reporter and a coverage report in `reportsDir`.
import { join } from 'node:path';
import { hasBin, hasFile, localBin, type Project } from './project-detection.js';

export type TestRunner = 'vitest' | 'jest' | 'mocha' | 'node';

export interface TestPlan {
  runner: TestRunner;
  argv: string[];
  detected: string;
  /** The JSON results file the runner writes (mocha, jest, vitest); `node --test` prints TAP instead. */
  resultsFile?: string;
  /** Where coverage comes from, or why there is none. */
  coverage: { summaryFile: string } | { nodeOutput: true } | { none: string };
}

/** A token a shell would pass through unchanged (quotes aside): scripts with anything else are not re-split. */
const PLAIN_TOKEN = /^(?:[A-Za-z0-9_./:=@,+%*?{}!-]+|'[^'\s]*'|"[^"\s$`\\]*")$/;
const GLOB = /[*?{}]/;

/** Flags the agent sets itself, so the script's own are dropped (with their value when they take one). */
const OWN_FLAGS: Record<TestRunner, { drop: RegExp; takesValue: ReadonlySet<string> }> = {
  mocha: {
    drop: /^(?:--reporter|-R|--reporter-options?|-O|--watch|-w)(?:=|$)/,
    takesValue: new Set(['--reporter', '-R', '--reporter-option', '--reporter-options', '-O']),
  },
  jest: {
    drop: /^(?:--json|--outputFile|--coverage\w*|--watch\w*)(?:=|$)/,
    takesValue: new Set(['--outputFile', '--coverageDirectory', '--coverageReporters']),
  },
  vitest: {
    drop: /^(?:run|watch|--reporter|--outputFile\S*|--coverage\S*|--watch)(?:=|$)/,
    takesValue: new Set(['--reporter', '--outputFile']),
  },
  node: {
    drop: /^(?:--test-reporter\S*|--experimental-test-coverage|--watch)(?:=|$)/,
    takesValue: new Set(['--test-reporter', '--test-reporter-destination']),
  },
};

/** The runner a `test` script calls and the arguments after it, when the script is a plain command line. */
function fromScript(script: string): { runner: TestRunner; args: string[] | null } | null {
  const tokens = script.trim().split(/\s+/);
  const plain = tokens.every((token) => PLAIN_TOKEN.test(token));
  const at = tokens.findIndex(
    (token, i) => ['vitest', 'jest', 'mocha'].includes(token) || (token === 'node' && tokens[i + 1] === '--test'),
  );
  if (at < 0) {
    // Not a plain command line (`tsc && mocha`): the runner it names still tells which one to run.
    const named = /\b(vitest|jest|mocha)\b/.exec(script)?.[1] ?? (/\bnode --test\b/.test(script) ? 'node' : null);
    return named ? { runner: named as TestRunner, args: null } : null;
  }
  const runner = (tokens[at] === 'node' ? 'node' : tokens[at]) as TestRunner;
  const rest = tokens.slice(at + (runner === 'node' ? 2 : 1));
  // Without a shell nothing expands globs; node 20 does not expand them itself, the others do.
  if (!plain || (runner === 'node' && rest.some((token) => GLOB.test(token)))) return { runner, args: null };
  const { drop, takesValue } = OWN_FLAGS[runner];
  const args: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i]!;
    if (drop.test(token)) {
      if (takesValue.has(token)) i++;
      continue;
    }
    args.push(token.replace(/^(['"])(.*)\1$/, '$2'));
  }
  return { runner, args };
}

/** The runner, from `scripts.test` or else the declared devDependencies (vitest, jest, mocha in that order). */
function detectRunner(project: Project): { runner: TestRunner; args: string[]; detected: string } | null {
  const script = project.scripts.test;
  const scripted = script ? fromScript(script) : null;
  if (scripted) {
    const how = scripted.args
      ? `scripts.test runs ${scripted.runner}`
      : `scripts.test names ${scripted.runner} (its arguments are not re-used: not a plain command line)`;
    return { runner: scripted.runner, args: scripted.args ?? [], detected: how };
  }
  const declared = (['vitest', 'jest', 'mocha'] as const).find((name) => project.declared.has(name));
  return declared ? { runner: declared, args: [], detected: `${declared} in package.json` } : null;
}

/** The test command for the project, or why there is none. `reportsDir` is an absolute folder the agent removes afterwards. */
export function planTests(project: Project, reportsDir: string): TestPlan | { skip: string } {
  const found = detectRunner(project);
  if (!found) return { skip: 'no test runner: no vitest, jest or mocha in package.json and no `node --test` in scripts.test' };
  const { runner, args, detected } = found;
  if (runner !== 'node' && !hasBin(project, runner)) return { skip: `${detected}, but node_modules/.bin/${runner} is missing` };
  const resultsFile = join(reportsDir, 'results.json');
  const summaryFile = join(reportsDir, 'coverage-summary.json');
  if (runner === 'node') {
    return {
      runner,
      detected,
      argv: ['node', '--test', '--experimental-test-coverage', '--test-reporter=tap', ...args],
      coverage: { nodeOutput: true },
    };
  }
  if (runner === 'jest') {
    const argv = [
      localBin('jest'),
      ...args,
      '--json',
      `--outputFile=${resultsFile}`,
      '--coverage',
      '--coverageReporters=json-summary',
      '--coverageReporters=text',
    ];
    return { runner, detected, resultsFile, argv: [...argv, `--coverageDirectory=${reportsDir}`], coverage: { summaryFile } };
  }
  if (runner === 'vitest') {
    const argv = [localBin('vitest'), 'run', ...args, '--reporter=default', '--reporter=json', `--outputFile.json=${resultsFile}`];
    const provider = ['@vitest/coverage-v8', '@vitest/coverage-istanbul'].find((name) => hasFile(project, join('node_modules', name)));
    if (!provider)
      return { runner, detected, resultsFile, argv, coverage: { none: 'no @vitest/coverage-v8 or @vitest/coverage-istanbul installed' } };
    const coverage = [
      '--coverage.enabled=true',
      '--coverage.reporter=json-summary',
      '--coverage.reporter=text',
      `--coverage.reportsDirectory=${reportsDir}`,
    ];
    return { runner, detected, resultsFile, argv: [...argv, ...coverage], coverage: { summaryFile } };
  }
  const mocha = [localBin('mocha'), ...args, '--reporter', 'json', '--reporter-option', `output=${resultsFile}`];
  if (hasBin(project, 'c8')) {
    const c8 = [
      localBin('c8'),
      '--reporter=json-summary',
      '--reporter=text',
      `--reports-dir=${reportsDir}`,
      `--temp-directory=${join(reportsDir, 'tmp')}`,
    ];
    return { runner, detected, resultsFile, argv: [...c8, ...mocha], coverage: { summaryFile } };
  }
  if (hasBin(project, 'nyc')) {
    const nyc = [
      localBin('nyc'),
      '--reporter=json-summary',
      '--reporter=text',
      `--report-dir=${reportsDir}`,
      `--temp-dir=${join(reportsDir, 'nyc')}`,
    ];
    return { runner, detected, resultsFile, argv: [...nyc, ...mocha], coverage: { summaryFile } };
  }
  return { runner, detected, resultsFile, argv: mocha, coverage: { none: 'no coverage tool for mocha (c8 or nyc in node_modules/.bin)' } };
}
