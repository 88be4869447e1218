// `pipelines prune`: deletes (and optionally archives) old finished pipelines straight in Postgres,
// with no API, like `keys`. The work is in src/composition/prune-cli.ts, loaded only when it runs
// (Prisma would add a second to every other command's start). docs/retention.md describes it.
import { userInfo } from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import type { z } from 'zod';
import type { PruneCliOptions } from '../../composition/prune-cli.js';
import { pruneAgeSchema, pruneStatusesSchema, PRUNABLE_STATUSES } from '../../domain/pipeline-prune.js';

/** A commander parser from a zod schema: a bad value is a usage error (exit 2) naming the option. */
const parsedBy =
  <T>(schema: z.ZodType<T, string>) =>
  (text: string): T => {
    const parsed = schema.safeParse(text);
    if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues[0]?.message ?? 'invalid');
    return parsed.data;
  };

export function registerRetentionCommands(program: Command): void {
  const pipelines = program.command('pipelines').description('pipeline history in the Postgres of DATABASE_URL (no API needed)');
  pipelines
    .command('prune')
    .description('delete finished pipelines older than a given age, with all their rows; audit events stay')
    .requiredOption('--older-than <duration>', 'finished at least this long ago, e.g. 90d or 2160h (at least 1d)', parsedBy(pruneAgeSchema))
    .option(
      '--status <statuses>',
      `comma-separated finished statuses (default: ${PRUNABLE_STATUSES.join(',')})`,
      parsedBy(pruneStatusesSchema),
    )
    .option('--archive <file.jsonl>', 'append each pipeline to this file as one JSON line before deleting it')
    .option('--dry-run', 'count what would be deleted; change nothing')
    .option('--json', 'print the report as one JSON document (for scripts)')
    .action(async (options: PruneCliOptions) => {
      const { runPruneCommand } = await import('../../composition/prune-cli.js');
      await runPruneCommand(options, userInfo().username);
    });
}
