// Reads istanbul's `json-summary` report (coverage-summary.json, written by c8, nyc, jest and
// vitest's coverage providers): the `total` entry's percentages, as the tools round them.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { CoverageNumbers } from './tool-output-parsers.js';

// `pct` is "Unknown" when a project has no lines to cover.
const metric = z.object({ pct: z.union([z.number(), z.string()]) }).loose();
const summarySchema = z
  .object({
    total: z.object({ lines: metric, statements: metric.optional(), branches: metric.optional(), functions: metric.optional() }).loose(),
  })
  .loose();

const pct = (entry: { pct: number | string } | undefined) => (entry && typeof entry.pct === 'number' ? entry.pct : undefined);

/** The totals of a coverage-summary.json, or null when the file is missing, unreadable or has no line percentage. */
export async function readCoverageSummary(path: string): Promise<CoverageNumbers | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return null;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = summarySchema.safeParse(json);
  if (!parsed.success) return null;
  const { total } = parsed.data;
  const lines = pct(total.lines);
  if (lines === undefined) return null;
  const numbers: CoverageNumbers = { lines };
  const statements = pct(total.statements);
  const branches = pct(total.branches);
  const functions = pct(total.functions);
  if (statements !== undefined) numbers.statements = statements;
  if (branches !== undefined) numbers.branches = branches;
  if (functions !== undefined) numbers.functions = functions;
  return numbers;
}
