// Flags of the entry points (worker, demo): a typo or an unknown option answers one line naming
// it, the closest known option and --help, never node's ERR_PARSE_ARGS stack.
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Bad flags: printed as one line (runMain), exit 2 like other command-line usage errors. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

/** The known option nearest to `given` (at most 3 edits away), as `--name`. */
export function closestOption(given: string, known: readonly string[]): string | undefined {
  const bare = given.replace(/^-+/, '').split('=')[0]!;
  let best: { name: string; d: number } | undefined;
  for (const name of known) {
    const d = distance(bare, name);
    if (d <= 3 && (!best || d < best.d)) best = { name, d };
  }
  return best && `--${best.name}`;
}

/**
 * parseArgs with `strict` on and no positionals; its errors become a UsageError whose message is
 * one line: what was wrong, the nearest known option, and where the usage is.
 */
export function parseEntryArgs<T extends Options>(command: string, options: T, args: string[] = process.argv.slice(2)) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const known = Object.keys(options);
    const help = `${command} -- --help lists the options`;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const given = /'([^']+)'/.exec((error as Error).message)?.[1] ?? '';
      const near = closestOption(given, known);
      throw new UsageError(`${command}: unknown option ${given}${near ? ` (did you mean ${near}?)` : ''}; ${help}`);
    }
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      const given = /'([^']+)'/.exec((error as Error).message)?.[1] ?? '';
      throw new UsageError(`${command}: unexpected argument "${given}" (options start with --); ${help}`);
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      // node's own sentence is clear ("Option '--agents <value>' argument missing"), only its stack is not.
      throw new UsageError(`${command}: ${(error as Error).message.split('\n')[0]}; ${help}`);
    }
    throw error;
  }
}
