// `cli pipelines prune …`: old finished pipelines deleted straight in Postgres (DATABASE_URL), like
// `keys`, so it runs with no API and no worker. The actor in the audit trail is `cli:<OS user>`.
// Prints a summary (`--json`: one document); progress per batch goes to stderr.
import { loadConfig } from '../config.js';
import { formatDuration } from '../domain/duration.js';
import { pruneCutoff, PRUNABLE_STATUSES } from '../domain/pipeline-prune.js';
import type { PipelineStatus } from '../domain/status.js';
import { openJsonlArchive } from '../infra/archive/jsonl-archive.js';
import { createDatabase } from '../infra/db/database.js';
import { createPipelinePruneRepository } from '../infra/db/pipeline-prune.repository.js';
import { terminalActor } from '../services/api-key.service.js';
import type { PipelineArchive } from '../services/pipeline-prune.ports.js';
import { createPipelinePruneService, type PruneReport } from '../services/pipeline-prune.service.js';

export interface PruneCliOptions {
  /** `--older-than`, in milliseconds (parsed by the CLI with pruneAgeSchema). */
  olderThan: number;
  /** `--status`; absent: every finished status. */
  status?: PipelineStatus[];
  archive?: string;
  dryRun?: boolean;
  json?: boolean;
}

export interface PruneCliIo {
  out(text: string): void;
  err(text: string): void;
}

const processIo: PruneCliIo = {
  out: (text) => void process.stdout.write(`${text}\n`),
  err: (text) => void process.stderr.write(`${text}\n`),
};

/** What tests change: the database (default: the configuration's DATABASE_URL), the clock, the batch size. */
export interface PruneCliDeps {
  databaseUrl?: string;
  now?: () => Date;
  batchSize?: number;
}

function summary(report: PruneReport, olderThan: string, archive: PipelineArchive | undefined, actor: string): string[] {
  const statuses = report.statuses.map((s) => `${s} ${report.byStatus[s] ?? 0}`).join(', ');
  const rows = Object.entries(report.rows)
    .filter(([table]) => table !== 'pipelines')
    .map(([table, n]) => `${table} ${n}`)
    .join(', ');
  const what = `${report.pipelines} pipeline${report.pipelines === 1 ? '' : 's'} finished before ${report.cutoff.toISOString()} (older than ${olderThan})`;
  if (report.dryRun)
    return [
      `dry run: ${what} would be pruned: ${statuses}`,
      `rows they hold: ${rows}`,
      'nothing was deleted (run again without --dry-run to prune)',
    ];
  return [
    `pruned ${what}: ${statuses}`,
    `rows deleted: ${rows}`,
    ...(report.skipped > 0 ? [`left alone: ${report.skipped} (changed since they were selected: reopened, or a stage not finished)`] : []),
    ...(archive ? [`archived: ${report.archived} line${report.archived === 1 ? '' : 's'} appended to ${archive.location}`] : []),
    `audit: ${report.pipelines} pipeline.pruned event${report.pipelines === 1 ? '' : 's'} as ${actor}`,
  ];
}

export async function runPruneCommand(
  options: PruneCliOptions,
  osUser: string,
  io: PruneCliIo = processIo,
  deps: PruneCliDeps = {},
): Promise<void> {
  const databaseUrl = deps.databaseUrl ?? loadConfig().DATABASE_URL;
  const olderThan = formatDuration(options.olderThan);
  const cutoff = pruneCutoff((deps.now ?? (() => new Date()))(), options.olderThan);
  const statuses = options.status ?? [...PRUNABLE_STATUSES];
  const dryRun = options.dryRun ?? false;
  // Opened before anything is read: a file that cannot be written stops the command at once.
  const archive = options.archive && !dryRun ? await openJsonlArchive(options.archive) : undefined;
  const db = createDatabase(databaseUrl, 2);
  const actor = terminalActor(osUser);
  try {
    const service = createPipelinePruneService({ store: createPipelinePruneRepository(db) });
    const report = await service.prune(
      {
        cutoff,
        statuses,
        dryRun,
        archive,
        batchSize: deps.batchSize,
        auditData: { via: 'cli', olderThan, cutoff: cutoff.toISOString() },
        onBatch: options.json ? undefined : ({ batches, pipelines }) => io.err(`batch ${batches}: ${pipelines} pipelines so far`),
      },
      actor,
    );
    if (options.json) {
      io.out(
        JSON.stringify(
          {
            ...report,
            olderThan,
            cutoff: report.cutoff.toISOString(),
            archive: archive ? { file: archive.location, lines: report.archived } : null,
            actor: actor.identity.id,
          },
          null,
          2,
        ),
      );
      return;
    }
    for (const line of summary(report, olderThan, archive, actor.identity.id)) io.out(line);
  } finally {
    await archive?.close();
    await db.close();
  }
}
