// The three checks of the `validation` agent: each runs its command through the workspace and
// turns what the tool wrote into counts, a coverage figure and a log excerpt.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeEnding, type AgentWorkspace, type ToolRun } from '../agent-workspace.js';
import { readCoverageSummary } from './coverage-report.js';
import type { CheckPlan } from './project-detection.js';
import type { TestPlan } from './test-runner-plan.js';
import {
  countTscErrors,
  logExcerpt,
  parseEslintJson,
  parseEslintStylish,
  parseIstanbulText,
  parseJestJson,
  parseMochaJson,
  parseNodeCoverage,
  parseTapSummary,
  parseTestSummaryText,
  tscFoundLine,
  type CoverageNumbers,
  type TestCounts,
} from './tool-output-parsers.js';

/** Machine-readable output can be large (eslint's JSON carries sources): keep plenty, the excerpt is cut later. */
const OUTPUT_CAP_BYTES = 32 * 1024 * 1024;

export interface CheckResult {
  status: 'passed' | 'failed' | 'skipped';
  /** How the check was detected, or why it was skipped. */
  reason: string;
  command?: string[];
  exitCode?: number | null;
  durationMs?: number;
  counts?: Record<string, number>;
  coverage?: CoverageNumbers;
  /** Why there is no coverage figure, when the tests ran without one. */
  coverageNote?: string;
  logExcerpt?: string;
  /** Set when the tool ended without anything countable (crash, timeout): the agent fails the stage. */
  toolError?: string;
}

export interface CheckRunner {
  workspace: AgentWorkspace;
  /** The project folder relative to the workspace root, and absolute. */
  cwd: string;
  dir: string;
  timeoutMs: number;
}

export const skipped = (reason: string): CheckResult => ({ status: 'skipped', reason });

async function run({ workspace, cwd, timeoutMs }: CheckRunner, argv: readonly string[]): Promise<ToolRun> {
  const [command, ...args] = argv;
  // NO_COLOR: summaries are parsed, and escape codes only get in the way of the excerpt.
  return workspace.run(command!, args, { cwd, timeoutMs, env: { NO_COLOR: '1' }, outputCapBytes: OUTPUT_CAP_BYTES });
}

const ended = (tool: ToolRun): Pick<CheckResult, 'command' | 'exitCode' | 'durationMs'> => ({
  command: [tool.command, ...tool.args],
  exitCode: tool.exitCode,
  durationMs: tool.durationMs,
});

/** Why a run produced nothing to count, or null when it ended normally. */
function abnormalEnd(tool: ToolRun): string | null {
  return tool.timedOut || tool.exitCode === null ? describeEnding(tool) : null;
}

export async function runTypecheck(runner: CheckRunner, plan: CheckPlan): Promise<CheckResult> {
  if ('skip' in plan) return skipped(plan.skip);
  const tool = await run(runner, plan.argv);
  const counted = countTscErrors(tool.output);
  const errors = counted || (tscFoundLine(tool.output) ?? 0);
  const base = { reason: plan.detected, ...ended(tool), counts: { errors }, logExcerpt: logExcerpt(tool.output) };
  const abnormal =
    abnormalEnd(tool) ?? (errors === 0 && tool.exitCode !== 0 ? `exited with ${tool.exitCode} and reported no errors` : null);
  if (abnormal) return { ...base, status: 'failed', toolError: abnormal };
  return { ...base, status: errors === 0 ? 'passed' : 'failed' };
}

export async function runLint(runner: CheckRunner, plan: CheckPlan): Promise<CheckResult> {
  if ('skip' in plan) return skipped(plan.skip);
  const tool = await run(runner, plan.argv);
  const counts = parseEslintJson(tool.output, runner.dir) ?? parseEslintStylish(tool.output);
  const abnormal = abnormalEnd(tool);
  const base = { reason: plan.detected, ...ended(tool) };
  if (abnormal || (!counts && tool.exitCode !== 0)) {
    return {
      ...base,
      status: 'failed',
      logExcerpt: logExcerpt(tool.output),
      toolError: abnormal ?? `exited with ${tool.exitCode} without ESLint results`,
    };
  }
  // A command of another format that exits 0 found no errors.
  const { errors, warnings, problems } = counts ?? { errors: 0, warnings: 0, problems: [] };
  const excerpt = problems.length ? logExcerpt(problems.join('\n')) : logExcerpt(tool.output);
  return { ...base, status: errors === 0 ? 'passed' : 'failed', counts: { errors, warnings }, logExcerpt: excerpt };
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return '';
  }
}

/** Test counts: the runner's JSON results file when it has one, else TAP, else its printed summary. */
async function testCounts(plan: Pick<TestPlan, 'runner' | 'resultsFile'> | null, output: string): Promise<TestCounts | null> {
  if (plan?.resultsFile) {
    const text = await readText(plan.resultsFile);
    const fromFile = plan.runner === 'mocha' ? parseMochaJson(text) : parseJestJson(text);
    if (fromFile) return fromFile;
  }
  return parseTapSummary(output) ?? parseTestSummaryText(output);
}

/**
 * Runs the project's `pretest` script, as `npm test` would before the runner (a build, most
 * often, for tests that run on the compiled output). Null when it passed; else the test check, failed.
 */
export async function runPretest(runner: CheckRunner): Promise<CheckResult | null> {
  const tool = await run(runner, ['npm', 'run', 'pretest']);
  if (tool.exitCode === 0 && !tool.timedOut) return null;
  return {
    status: 'failed',
    // Not a tool error: the project's own step failed (a build with a type error, often), which the
    // gates report as tests and coverage missing, beside the typecheck's own count.
    reason: `scripts.pretest, run before the tests as npm test does, ${abnormalEnd(tool) ?? `exited with ${tool.exitCode}`}: the tests did not run`,
    ...ended(tool),
    logExcerpt: logExcerpt(tool.output),
  };
}

/**
 * Runs the tests. `plan` is the detected runner's; an overridden command (`plan` null) is read by
 * its printed summaries and coverage tables, or the coverage summary file the stage names.
 */
export async function runTests(
  runner: CheckRunner,
  plan: TestPlan | { skip: string } | { argv: string[]; detected: string; summaryFile?: string },
): Promise<CheckResult> {
  if ('skip' in plan) return skipped(plan.skip);
  const tool = await run(runner, plan.argv);
  const detectedPlan = 'runner' in plan ? plan : null;
  const counts = await testCounts(detectedPlan, tool.output);
  const base = { reason: plan.detected, ...ended(tool), logExcerpt: logExcerpt(tool.output) };
  const abnormal = abnormalEnd(tool);
  if (abnormal || !counts) {
    return { ...base, status: 'failed', toolError: abnormal ?? `exited with ${tool.exitCode} without a result the agent can count` };
  }
  let coverage: CoverageNumbers | null = null;
  let coverageNote: string | undefined;
  if (detectedPlan) {
    const source = detectedPlan.coverage;
    if ('none' in source) coverageNote = source.none;
    else if ('nodeOutput' in source) coverage = parseNodeCoverage(tool.output);
    else coverage = await readCoverageSummary(source.summaryFile);
  } else {
    const summaryFile = 'summaryFile' in plan ? plan.summaryFile : undefined;
    coverage = summaryFile
      ? await readCoverageSummary(join(runner.dir, summaryFile))
      : (parseNodeCoverage(tool.output) ?? parseIstanbulText(tool.output));
  }
  if (!coverage && !coverageNote) coverageNote = 'the run produced no coverage report';
  return {
    ...base,
    status: tool.exitCode === 0 && counts.failed === 0 ? 'passed' : 'failed',
    counts: { passed: counts.passed, failed: counts.failed, skipped: counts.skipped },
    ...(coverage ? { coverage } : { coverageNote }),
  };
}
