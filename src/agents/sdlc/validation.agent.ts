// The real `validation` agent: installs a workspace project's dependencies when needed, runs its
// typecheck (tsc), lint (ESLint) and tests with coverage (vitest, jest, mocha or node --test)
// with the project's own binaries, and reports what those tools counted as the gates' metrics.
import { randomUUID } from 'node:crypto';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { AgentError, UnrecoverableStageError } from '../../domain/errors.js';
import { describeEnding } from '../agent-workspace.js';
import { defineAgent, type Agent, type MetricValue } from '../define-agent.js';
import { planInstall, planLint, planTypecheck, readProject } from './project-detection.js';
import { planTests } from './test-runner-plan.js';
import { logExcerpt } from './tool-output-parsers.js';
import { runLint, runPretest, runTests, runTypecheck, type CheckResult, type CheckRunner } from './validation-checks.js';

export const VALIDATION_AGENT_VERSION = '2.0.0';
/** Each command's timeout when the input names none; a stage's own `timeoutMs` should be longer. */
export const VALIDATION_COMMAND_TIMEOUT_MS = 15 * 60_000;
const MAX_TIMEOUT_MS = 60 * 60_000;

/** A program and its arguments; the program is a name or path, never a shell line (no shell runs it). */
const argv = z
  .array(z.string().min(1).max(32_768))
  .min(1)
  .max(1000)
  .refine(([program]) => program !== undefined && /^[^\s;&|`$<>(){}[\]*?!~'"\\#]+$/.test(program), {
    error:
      'the first element must be a program name or path without whitespace or shell characters: no shell runs it; put arguments in the next elements',
  });

const inputSchema = z
  .object({
    /** The project folder, relative to the workspace root (default the root). */
    path: z.string().max(4096).default(''),
    /** Install dependencies when needed (default true). */
    install: z.boolean().default(true),
    /** Commands instead of the detected ones, each as an argument array run in the project folder. */
    commands: z
      .object({ install: argv.optional(), typecheck: argv.optional(), lint: argv.optional(), test: argv.optional() })
      .strict()
      .default({}),
    /** With `commands.test`: the json-summary coverage file it writes, relative to the project. */
    coverageSummary: z.string().min(1).max(4096).optional(),
    /** Per command (default 15 minutes). */
    timeoutMs: z.number().int().min(1000).max(MAX_TIMEOUT_MS).default(VALIDATION_COMMAND_TIMEOUT_MS),
  })
  .strict();

const coverageSchema = z.object({
  lines: z.number(),
  statements: z.number().optional(),
  branches: z.number().optional(),
  functions: z.number().optional(),
});

const checkSchema = z.object({
  status: z.enum(['passed', 'failed', 'skipped']),
  reason: z.string(),
  command: z.array(z.string()).optional(),
  exitCode: z.number().int().nullable().optional(),
  durationMs: z.number().optional(),
  counts: z.record(z.string(), z.number()).optional(),
  coverage: coverageSchema.optional(),
  coverageNote: z.string().optional(),
  logExcerpt: z.string().optional(),
});

const outputSchema = z.object({
  summary: z.string(),
  /** The project folder relative to the workspace root ('' for the root). */
  path: z.string(),
  install: z.object({
    status: z.enum(['ran', 'skipped']),
    reason: z.string(),
    command: z.array(z.string()).optional(),
    exitCode: z.number().int().nullable().optional(),
    durationMs: z.number().optional(),
    logExcerpt: z.string().optional(),
  }),
  checks: z.object({ typecheck: checkSchema, lint: checkSchema, test: checkSchema }),
  /** What was reported with reportMetrics; a check that was skipped has no metric. */
  metrics: z.record(z.string(), z.number()),
});

type Output = z.input<typeof outputSchema>;
type Input = z.output<typeof inputSchema>;

async function install(runner: CheckRunner, input: Input, dir: string): Promise<Output['install']> {
  const plan = input.commands.install
    ? { needed: true, reason: 'input.commands.install', argv: input.commands.install }
    : await planInstall(await readProject(dir));
  if (!input.install) return { status: 'skipped', reason: 'input.install is false' };
  if (!plan.needed) return { status: 'skipped', reason: plan.reason };
  const [command, ...args] = plan.argv;
  const tool = await runner.workspace.run(command!, args, { cwd: runner.cwd, timeoutMs: runner.timeoutMs });
  if (tool.exitCode !== 0) {
    throw new AgentError('VALIDATION_INSTALL_FAILED', `${plan.argv.join(' ')} ${describeEnding(tool)}:\n${logExcerpt(tool.output, 2000)}`, {
      retryable: true,
    });
  }
  return {
    status: 'ran',
    reason: plan.reason,
    command: plan.argv,
    exitCode: tool.exitCode,
    durationMs: tool.durationMs,
    logExcerpt: logExcerpt(tool.output),
  };
}

function metricsOf(checks: Record<'typecheck' | 'lint' | 'test', CheckResult>): Record<string, number> {
  const metrics: Record<string, number> = {};
  const { typecheck, lint, test } = checks;
  if (typecheck.counts) metrics.typeErrors = typecheck.counts.errors!;
  if (lint.counts) Object.assign(metrics, { lintErrors: lint.counts.errors!, lintWarnings: lint.counts.warnings! });
  if (test.counts)
    Object.assign(metrics, { testsPassed: test.counts.passed!, testsFailed: test.counts.failed!, testsSkipped: test.counts.skipped! });
  if (test.coverage) metrics.coverage = test.coverage.lines;
  return metrics;
}

function summarize(checks: Record<string, CheckResult>, metrics: Record<string, number>): string {
  const parts = Object.entries(checks).map(([name, check]) => `${name} ${check.status}`);
  const numbers = Object.entries(metrics).map(([name, value]) => `${name} ${value}`);
  return `${parts.join(', ')}${numbers.length ? ` (${numbers.join(', ')})` : ''}`;
}

/** The `validation` agent (type `validation`, version 2.0.0). */
export function createValidationAgent(): Agent {
  return defineAgent({
    type: 'validation',
    version: VALIDATION_AGENT_VERSION,
    description:
      "Installs the workspace project's dependencies when needed and runs its typecheck (tsc), lint (ESLint) and tests with coverage.",
    workspace: true,
    input: inputSchema,
    output: outputSchema,
    handler: async ({ input, workspace, reportMetrics, progress, logger }) => {
      if (!workspace) throw new UnrecoverableStageError('AGENT_UNRECOVERABLE', 'the validation agent runs only with a workspace');
      const dir = await workspace.resolve(input.path);
      const isFolder = await stat(dir).then(
        (s) => s.isDirectory(),
        () => false,
      );
      if (!isFolder)
        throw new UnrecoverableStageError('AGENT_UNRECOVERABLE', `input.path "${input.path}" is not a folder in the workspace`);
      const runner: CheckRunner = { workspace, cwd: input.path, dir, timeoutMs: input.timeoutMs };

      // Installs and builds take the workspace's lock: an e2e_test stage beside this one may be doing the same.
      const installed = await workspace.exclusive('prepare', () => install(runner, input, dir));
      await progress(20);
      const project = await readProject(dir);
      // Reports and coverage go to a folder of our own, removed afterwards, so the checkout is left as found.
      const reportsDir = join(dir, `.validation-reports-${randomUUID().slice(0, 8)}`);
      await mkdir(reportsDir, { recursive: true });
      try {
        const { commands } = input;
        const typecheck = await runTypecheck(
          runner,
          commands.typecheck ? { argv: commands.typecheck, detected: 'input.commands.typecheck' } : planTypecheck(project),
        );
        await progress(40);
        const lint = await runLint(runner, commands.lint ? { argv: commands.lint, detected: 'input.commands.lint' } : planLint(project));
        await progress(60);
        const testPlan = commands.test
          ? {
              argv: commands.test,
              detected: 'input.commands.test',
              ...(input.coverageSummary ? { summaryFile: input.coverageSummary } : {}),
            }
          : planTests(project, reportsDir);
        // A detected runner is run directly, so the `pretest` that `npm test` would run comes first.
        const pretestFailed =
          !commands.test && project.scripts.pretest !== undefined ? await workspace.exclusive('prepare', () => runPretest(runner)) : null;
        const test = pretestFailed ?? (await runTests(runner, testPlan));
        await progress(100);

        const checks = { typecheck, lint, test };
        const metrics = metricsOf(checks);
        reportMetrics(metrics satisfies Record<string, MetricValue>);
        const broken = Object.entries(checks).filter(([, check]) => check.toolError);
        if (broken.length) {
          const lines = broken.map(
            ([name, c]) => `${name}: ${c.command?.join(' ')} ${c.toolError}\n${logExcerpt(c.logExcerpt ?? '', 1500)}`,
          );
          throw new UnrecoverableStageError('VALIDATION_TOOL_FAILED', lines.join('\n\n'));
        }
        const summary = summarize(checks, metrics);
        logger.info('validation finished', { path: input.path, ...metrics });
        const stripped = Object.fromEntries(Object.entries(checks).map(([name, { toolError: _toolError, ...check }]) => [name, check]));
        return { summary, path: input.path, install: installed, checks: stripped as Output['checks'], metrics };
      } finally {
        await rm(reportsDir, { recursive: true, force: true });
      }
    },
  });
}
