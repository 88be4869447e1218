// Schedule commands: `sdlc schedules list|show|create|pause|resume|delete` (docs/cli.md). A
// schedule runs a template or a definition on a cron (with its time zone) or an interval; see
// docs/pipeline-operations.md, "Schedules".
import { InvalidArgumentError, type Command } from 'commander';
import { z } from 'zod';
import { DURATION_UNITS_MS, formatDuration } from '../../domain/duration.js';
import { OVERLAP_POLICIES } from '../../domain/schedule.js';
import { scheduleDetailSchema, schedulePageSchema, scheduleSchema, type ScheduleBody } from '../../http/contract/schedules.schema.js';
import type { CommandContext } from '../context.js';
import { usageError } from '../exit-codes.js';
import { collectKeyValue, intArgument, jsonObjectArgument, JSON_OPTION, setAssignment } from '../option-parsers.js';
import { formatTable, shortTime } from '../table.js';
import { tty } from '../terminal-text.js';

interface CreateOptions {
  template?: string;
  input?: Record<string, unknown>;
  set: Array<[string, unknown]>;
  label: Array<[string, string]>;
  name?: string;
  cron?: string;
  tz?: string;
  every?: number;
  start?: string;
  end?: string;
  overlap?: string;
  json?: boolean;
}

/** `--every 90s`, `15m`, `1h`, `2d` or plain milliseconds. */
function everyArgument(text: string): number {
  const match = /^(\d{1,12})(ms|s|m|h|d)?$/.exec(text);
  if (!match) throw new InvalidArgumentError('an interval: milliseconds, or a number and a unit (90s, 15m, 1h, 2d)');
  return Number(match[1]) * DURATION_UNITS_MS[(match[2] ?? 'ms') as keyof typeof DURATION_UNITS_MS];
}

/** When a schedule fires, as a person reads it. */
const timingOf = (s: ScheduleBody): string => (s.cron ? `${s.cron} (${s.timezone})` : `every ${formatDuration(s.everyMs ?? 0)}`);

/**
 * The request body: a file (a schedule as POST /schedules takes it, or a pipeline definition,
 * which becomes its `definition`) or --template, with the timing and the other options on top.
 */
async function scheduleRequest(file: string | undefined, options: CreateOptions): Promise<Record<string, unknown>> {
  if (file !== undefined && options.template !== undefined)
    throw usageError('schedules create: give a file or --template <name>, not both');
  let base: Record<string, unknown>;
  if (file !== undefined) {
    let read: unknown;
    try {
      const { readDefinitionFile } = await import('../../infra/templates/template.store.js');
      read = readDefinitionFile(file);
    } catch (error) {
      throw usageError(`schedules create: cannot read ${file}: ${(error as Error).message}`);
    }
    if (typeof read !== 'object' || read === null || Array.isArray(read))
      throw usageError(`schedules create: ${file} does not hold a schedule or a pipeline definition (a YAML or JSON object)`);
    base = 'stages' in read ? { definition: read } : (read as Record<string, unknown>);
  } else if (options.template !== undefined) base = { template: options.template };
  else throw usageError('schedules create: give a schedule or definition file, or --template <name>');
  const given = { ...options.input, ...Object.fromEntries(options.set) };
  const input = Object.keys(given).length > 0 ? { ...(base.input as Record<string, unknown> | undefined), ...given } : base.input;
  const labels =
    options.label.length > 0
      ? { ...(base.labels as Record<string, unknown> | undefined), ...Object.fromEntries(options.label) }
      : base.labels;
  const defined = <T>(key: string, value: T | undefined) => (value === undefined ? {} : { [key]: value });
  return {
    ...base,
    ...defined('name', options.name),
    ...defined('input', input),
    ...defined('labels', labels),
    ...defined('cron', options.cron),
    ...defined('timezone', options.tz),
    ...defined('everyMs', options.every),
    ...defined('startAt', options.start),
    ...defined('endAt', options.end),
    ...defined('overlap', options.overlap),
  };
}

export function registerScheduleCommands(program: Command, ctx: CommandContext): void {
  const schedules = program
    .command('schedules')
    .description('run pipelines on a cron or an interval: list, show, create, pause, resume, delete');
  const path = (id: string) => `/schedules/${encodeURIComponent(id)}`;
  const printOne = (s: ScheduleBody) =>
    ctx.output.out(tty`${s.id}  ${s.name}  ${s.status}  ${timingOf(s)}  overlap ${s.overlap}  next ${shortTime(s.nextFireTimes[0])}`);

  schedules
    .command('list')
    .description('schedules, newest first, with their next fire time')
    .option('--limit <n>', 'how many (1 to 100)', intArgument(1, 100), 50)
    .option(...JSON_OPTION)
    .action(async (options: { limit: number; json?: boolean }) => {
      const page = await ctx.client().request('GET', `/schedules?limit=${options.limit}`, schedulePageSchema);
      if (options.json) return ctx.output.json(page.raw);
      ctx.output.out(
        formatTable(
          page.data.items,
          [
            { header: 'ID', value: (s) => s.id },
            { header: 'NAME', value: (s) => s.name },
            { header: 'STATUS', value: (s) => s.status },
            { header: 'WHEN', value: timingOf },
            { header: 'OVERLAP', value: (s) => s.overlap },
            { header: 'NEXT', value: (s) => shortTime(s.nextFireTimes[0]) },
            { header: 'OWNER', value: (s) => s.owner },
          ],
          'no schedules',
        ),
      );
    });

  schedules
    .command('show')
    .description('one schedule: its next fire times and its latest ticks (runs started, ticks skipped)')
    .argument('<id>', 'the schedule id')
    .option('--next <n>', 'how many next fire times (1 to 50)', intArgument(1, 50), 5)
    .option(...JSON_OPTION)
    .action(async (id: string, options: { next: number; json?: boolean }) => {
      const shown = await ctx.client().request('GET', `${path(id)}?next=${options.next}`, scheduleDetailSchema);
      if (options.json) return ctx.output.json(shown.raw);
      const s = shown.data;
      printOne(s);
      ctx.output.out(tty`owner ${s.owner}  created ${shortTime(s.createdAt)}  start ${shortTime(s.startAt)}  end ${shortTime(s.endAt)}`);
      ctx.output.out(tty`next: ${s.nextFireTimes.length === 0 ? 'none' : s.nextFireTimes.join('  ')}`);
      ctx.output.out('');
      ctx.output.out(
        formatTable(
          s.ticks,
          [
            { header: 'TICK', value: (t) => t.scheduledFor },
            { header: 'OUTCOME', value: (t) => t.outcome },
            { header: 'REASON', value: (t) => t.reason ?? '-' },
            { header: 'PIPELINE', value: (t) => t.pipelineId ?? '-' },
            { header: 'STATUS', value: (t) => t.pipelineStatus ?? '-' },
          ],
          'no ticks yet',
        ),
      );
    });

  schedules
    .command('create')
    .description('create a schedule from a file (a schedule or a pipeline definition, YAML or JSON) or --template')
    .argument('[file]', 'a schedule (as POST /schedules takes it) or a pipeline definition')
    .option('--template <name>', 'run this template (GET /templates lists them)')
    .option('--input <json>', 'the run input, a JSON object', jsonObjectArgument)
    .option(
      '--set <key=value>',
      'one input field (repeatable; key:=json for a non-string)',
      (v: string, prev: Array<[string, unknown]> = []) => [...prev, setAssignment(v)],
    )
    .option('--label <key=value>', 'a label on every run (repeatable)', collectKeyValue)
    .option('--name <name>', "the schedule's name")
    .option('--cron <expression>', 'a cron expression, e.g. "0 2 * * *"')
    .option('--tz <zone>', 'the IANA time zone of --cron (default UTC), e.g. Europe/Paris')
    .option('--every <interval>', 'an interval instead of a cron: 90s, 15m, 1h, 2d or milliseconds', everyArgument)
    .option('--start <iso>', 'no run before this date-time (ISO 8601)')
    .option('--end <iso>', 'no run after this date-time (ISO 8601)')
    .option('--overlap <policy>', `while a run is unfinished: ${OVERLAP_POLICIES.join(', ')} (default skip)`)
    .option(...JSON_OPTION)
    .action(async (file: string | undefined, options: CreateOptions) => {
      const body = await scheduleRequest(file, { ...options, set: options.set ?? [], label: options.label ?? [] });
      const created = await ctx.client().request('POST', '/schedules', scheduleSchema, { body });
      if (options.json) return ctx.output.json(created.raw);
      printOne(created.data);
    });

  for (const [verb, description] of [
    ['pause', 'pause a schedule: no tick runs until it is resumed'],
    ['resume', 'resume a paused schedule (ticks missed while paused are not run)'],
  ] as const) {
    schedules
      .command(verb)
      .description(description)
      .argument('<id>', 'the schedule id')
      .option(...JSON_OPTION)
      .action(async (id: string, options: { json?: boolean }) => {
        const changed = await ctx.client().request('POST', `${path(id)}/${verb}`, scheduleSchema);
        if (options.json) return ctx.output.json(changed.raw);
        printOne(changed.data);
      });
  }

  schedules
    .command('delete')
    .description('delete a schedule (the runs it started stay)')
    .argument('<id>', 'the schedule id')
    .option(...JSON_OPTION)
    .action(async (id: string, options: { json?: boolean }) => {
      await ctx.client().request('DELETE', path(id), z.null());
      if (options.json) return ctx.output.json({ id, deleted: true });
      ctx.output.out(tty`deleted ${id}`);
    });
}
