// Pure parsers for what typecheckers, linters and test runners print: machine-readable output
// first (eslint JSON, mocha/jest/vitest JSON, TAP), each tool's own summary line as a fallback.
import { z } from 'zod';

/** Test counts as a runner reports them. */
export interface TestCounts {
  passed: number;
  failed: number;
  skipped: number;
}

/** Line, statement, branch and function coverage in percent, as the report gives them. */
export interface CoverageNumbers {
  lines: number;
  statements?: number;
  branches?: number;
  functions?: number;
}

export interface LintCounts {
  errors: number;
  warnings: number;
  /** `file:line:col severity message (rule)`, one per problem. */
  problems: string[];
}

/** tsc's diagnostics: `file(l,c): error TS1234: …` with `--pretty false`, or a bare `error TS…` for config errors. */
export function countTscErrors(output: string): number {
  return output.match(/^(?:.*\(\d+,\d+\): )?error TS\d+:/gm)?.length ?? 0;
}

/** tsc's own total when it prints one (`Found 3 errors`), for commands run with `--pretty`. */
export function tscFoundLine(output: string): number | null {
  const found = /Found (\d+) errors?\b/.exec(output);
  return found ? Number(found[1]) : null;
}

const eslintResults = z.array(
  z
    .object({
      filePath: z.string(),
      errorCount: z.number(),
      warningCount: z.number(),
      messages: z.array(
        z
          .object({
            line: z.number().optional(),
            column: z.number().optional(),
            severity: z.number(),
            message: z.string(),
            ruleId: z.string().nullable().optional(),
          })
          .loose(),
      ),
    })
    .loose(),
);

/** ESLint's `--format json` output (one line starting with `[`); errorCount includes fatal (parse) errors. */
export function parseEslintJson(output: string, relativeTo = ''): LintCounts | null {
  for (const line of output.split('\n')) {
    if (!line.startsWith('[')) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    const results = eslintResults.safeParse(parsed);
    if (!results.success) continue;
    const problems = results.data.flatMap((file) =>
      file.messages.map((m) => {
        const path = relativeTo && file.filePath.startsWith(`${relativeTo}/`) ? file.filePath.slice(relativeTo.length + 1) : file.filePath;
        return `${path}:${m.line ?? 0}:${m.column ?? 0} ${m.severity === 2 ? 'error' : 'warning'} ${m.message}${m.ruleId ? ` (${m.ruleId})` : ''}`;
      }),
    );
    return {
      errors: results.data.reduce((sum, file) => sum + file.errorCount, 0),
      warnings: results.data.reduce((sum, file) => sum + file.warningCount, 0),
      problems,
    };
  }
  return null;
}

/** ESLint's stylish summary, `✖ 3 problems (2 errors, 1 warning)`, for commands with another format. */
export function parseEslintStylish(output: string): LintCounts | null {
  const summary = /✖ \d+ problems? \((\d+) errors?, (\d+) warnings?\)/.exec(output);
  return summary ? { errors: Number(summary[1]), warnings: Number(summary[2]), problems: [] } : null;
}

const lastNumber = (output: string, pattern: RegExp): number | null => {
  const all = [...output.matchAll(pattern)];
  return all.length ? Number(all[all.length - 1]![1]) : null;
};

/** The summary comments `node --test` prints with the TAP reporter (`# pass 3`, `# fail 1`). */
export function parseTapSummary(output: string): TestCounts | null {
  const passed = lastNumber(output, /^# pass (\d+)$/gm);
  const failed = lastNumber(output, /^# fail (\d+)$/gm);
  if (passed === null || failed === null) return null;
  const skipped = (lastNumber(output, /^# skipped (\d+)$/gm) ?? 0) + (lastNumber(output, /^# todo (\d+)$/gm) ?? 0);
  const cancelled = lastNumber(output, /^# cancelled (\d+)$/gm) ?? 0;
  // A cancelled test (a timeout, a file that crashed) did not pass: count it as failed.
  return { passed, failed: failed + cancelled, skipped };
}

/** Node's `--experimental-test-coverage` table: the `all files` row (line %, branch %, funcs %). */
export function parseNodeCoverage(output: string): CoverageNumbers | null {
  const row = /^(?:#|ℹ) all files\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)/m.exec(output);
  return row ? { lines: Number(row[1]), branches: Number(row[2]), functions: Number(row[3]) } : null;
}

/** Istanbul's `text` reporter (c8, nyc, jest, vitest): `All files | stmts | branch | funcs | lines |`. */
export function parseIstanbulText(output: string): CoverageNumbers | null {
  const row = /^All files\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)/m.exec(output);
  return row ? { statements: Number(row[1]), branches: Number(row[2]), functions: Number(row[3]), lines: Number(row[4]) } : null;
}

const mochaJson = z.object({ stats: z.object({ passes: z.number(), failures: z.number(), pending: z.number() }).loose() }).loose();
const jestJson = z
  .object({ numPassedTests: z.number(), numFailedTests: z.number(), numPendingTests: z.number(), numTodoTests: z.number().optional() })
  .loose();

/** Mocha's `json` reporter file. */
export function parseMochaJson(text: string): TestCounts | null {
  const parsed = mochaJson.safeParse(safeJson(text));
  return parsed.success
    ? { passed: parsed.data.stats.passes, failed: parsed.data.stats.failures, skipped: parsed.data.stats.pending }
    : null;
}

/** Jest's `--json` file; vitest's `json` reporter writes the same shape. */
export function parseJestJson(text: string): TestCounts | null {
  const parsed = jestJson.safeParse(safeJson(text));
  if (!parsed.success) return null;
  const { numPassedTests, numFailedTests, numPendingTests, numTodoTests = 0 } = parsed.data;
  return { passed: numPassedTests, failed: numFailedTests, skipped: numPendingTests + numTodoTests };
}

/** The human summaries of mocha (`3 passing`), jest (`Tests: 1 failed, 2 passed`) and vitest (`Tests  1 failed | 2 passed`). */
export function parseTestSummaryText(output: string): TestCounts | null {
  const plain = output.replace(/\x1b\[[0-9;]*m/g, ''); // eslint-disable-line no-control-regex
  const mochaPassing = lastNumber(plain, /^\s*(\d+) passing\b/gm);
  if (mochaPassing !== null) {
    return {
      passed: mochaPassing,
      failed: lastNumber(plain, /^\s*(\d+) failing\b/gm) ?? 0,
      skipped: lastNumber(plain, /^\s*(\d+) pending\b/gm) ?? 0,
    };
  }
  const jest = /^Tests:\s+(.*\d+ total)$/m.exec(plain);
  const vitest = /^\s*Tests\s+(.*\(\d+\))\s*$/m.exec(plain);
  const line = jest?.[1] ?? vitest?.[1];
  if (!line) return null;
  const count = (word: string) => Number(new RegExp(`(\\d+) ${word}`).exec(line)?.[1] ?? 0);
  return { passed: count('passed'), failed: count('failed'), skipped: count('skipped') + count('todo') };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The end of a tool's output, cut at a line start, at most `max` characters. */
export function logExcerpt(output: string, max = 4000): string {
  const trimmed = output.trimEnd();
  if (trimmed.length <= max) return trimmed;
  const tail = trimmed.slice(-max);
  const newline = tail.indexOf('\n');
  return `…\n${newline >= 0 && newline < max / 2 ? tail.slice(newline + 1) : tail}`;
}
