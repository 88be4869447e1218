// Pipeline commands: submit (a definition file or a template), status, watch, list, cancel,
// priority, and the shorthands kept from the first CLI (run <template>, get <id>, wait <id>).
import type { Command } from 'commander';
import { pipelinePageSchema, pipelineSchema } from '../../http/contract/pipelines.schema.js';
import { PIPELINE_STATUSES } from '../../domain/status.js';
import type { CommandContext } from '../context.js';
import { CliError, EXIT, usageError } from '../exit-codes.js';
import {
  collectKeyValue,
  deadlineArgument,
  intArgument,
  jsonObjectArgument,
  priorityArgument,
  setAssignment,
  JSON_OPTION,
} from '../option-parsers.js';
import { PIPELINE_PRIORITIES, type PipelinePriority } from '../../domain/pipeline-priority.js';
import { exitCodeOf, fetchPipeline, formatPipeline, pipelineState } from '../pipeline-view.js';
import { formatTable, shortTime } from '../table.js';
import { watchPipeline } from '../watch.js';
import { tty } from '../terminal-text.js';

interface SubmitOptions {
  template?: string;
  input?: Record<string, unknown>;
  set: Array<[string, unknown]>;
  name?: string;
  label: Array<[string, string]>;
  priority?: PipelinePriority;
  deadline?: { deadline: string } | { deadlineIn: string };
  wait?: boolean;
  untilHuman?: boolean;
  json?: boolean;
}

/** The request body: the file's definition or a template request, with --input/--set/--name/--label on top. */
async function submission(file: string | undefined, options: SubmitOptions): Promise<Record<string, unknown>> {
  if ((file === undefined) === (options.template === undefined))
    throw usageError('submit: give a definition file or --template <name> (one of the two)');
  let base: Record<string, unknown>;
  if (file !== undefined) {
    let definition: unknown;
    try {
      // Loaded here only: the YAML parser is not worth a slower start of every other command.
      const { readDefinitionFile } = await import('../../infra/templates/template.store.js');
      definition = readDefinitionFile(file);
    } catch (error) {
      throw usageError(`submit: cannot read ${file}: ${(error as Error).message}`);
    }
    if (typeof definition !== 'object' || definition === null || Array.isArray(definition))
      throw usageError(`submit: ${file} does not hold a pipeline definition (a YAML or JSON object)`);
    base = definition as Record<string, unknown>;
  } else base = { template: options.template };
  const given = { ...options.input, ...Object.fromEntries(options.set) };
  const input = Object.keys(given).length > 0 ? { ...(base.input as Record<string, unknown> | undefined), ...given } : base.input;
  const labels = options.label.length > 0 ? Object.fromEntries(options.label) : undefined;
  return {
    ...base,
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(input === undefined ? {} : { input }),
    ...(labels === undefined ? {} : { labels: { ...(base.labels as Record<string, unknown> | undefined), ...labels } }),
    ...(options.priority === undefined ? {} : { priority: options.priority }),
    ...options.deadline,
  };
}

/**
 * `--set key=value` sends a string (docs/cli.md): a refusal of such a field because it is a string
 * (a template field that wants a number, a boolean or a list) gets one hint line per field, with
 * the JSON form that would have worked. Any other error is returned as it is.
 */
function withSetHints(error: unknown, set: ReadonlyArray<[string, unknown]>): unknown {
  if (!(error instanceof CliError)) return error;
  const hints = set
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
    .filter(([key]) => error.message.split('\n').some((line) => line.startsWith(`  input.${key}: `) && line.endsWith('received string')))
    .map(([key, value]) => `hint: --set ${key}=… sends a string; send JSON with --set '${key}:=${value}'`);
  return hints.length === 0 ? error : new CliError(`${error.message}\n${hints.join('\n')}`, error.exitCode, error.transient);
}

async function follow(ctx: CommandContext, id: string, untilHuman: boolean, json: boolean): Promise<void> {
  const { pipeline, code } = await watchPipeline(
    ctx.client(),
    id,
    {
      untilHuman,
      redraw: ctx.stdoutIsTty && !json,
      columns: ctx.columns,
      quiet: json,
      intervalMs: ctx.pollMs,
      reconnectMs: ctx.reconnectMs,
    },
    ctx.output,
  );
  if (json) ctx.output.json(pipeline.raw);
  ctx.exit(code);
}

async function status(ctx: CommandContext, id: string, json: boolean): Promise<void> {
  const { data, raw } = await fetchPipeline(ctx.client(), id);
  if (json) ctx.output.json(raw);
  else ctx.output.out(formatPipeline(data));
  ctx.exit(exitCodeOf(pipelineState(data)) ?? EXIT.ok);
}

export function registerPipelineCommands(program: Command, ctx: CommandContext): void {
  const submit = async (file: string | undefined, options: SubmitOptions) => {
    const body = await submission(file, options);
    const created = await ctx
      .client()
      .request('POST', '/pipelines', pipelineSchema, { body })
      .catch((error: unknown) => {
        throw withSetHints(error, options.set);
      });
    if (options.wait || options.untilHuman) {
      if (!options.json) ctx.output.out(tty`submitted ${created.data.id}  ${created.data.name}`);
      return follow(ctx, created.data.id, options.untilHuman ?? false, options.json ?? false);
    }
    if (options.json) return ctx.output.json(created.raw);
    ctx.output.out(tty`submitted ${created.data.id}  ${created.data.name}  ${created.data.status}`);
    ctx.output.out(tty`follow it: sdlc watch ${created.data.id}`);
  };
  const submitOptions = (command: Command) =>
    command
      .option('--input <json>', 'the input as a JSON object (merged over the file’s own input)', jsonObjectArgument)
      .option(
        '--set <key=value>',
        'one input field; repeatable; key:=value takes the value as JSON',
        (v, prev: Array<[string, unknown]>) => [...prev, setAssignment(v)],
        [],
      )
      .option('--name <name>', 'the pipeline’s name (default: the file’s, or the template’s)')
      .option('--label <key=value>', 'a label to find it by (sdlc list --label); repeatable', collectKeyValue, [])
      .option('--priority <level>', `${PIPELINE_PRIORITIES.join(', ')} (default normal; urgent needs the operator role)`, priorityArgument)
      .option(
        '--deadline <when>',
        'cancel it if unfinished then: a duration from now ("4h") or an ISO date-time ("2026-12-24T18:00:00Z")',
        deadlineArgument,
      )
      .option('--wait', 'follow it until it ends; exit 0 succeeded, 1 failed or cancelled')
      .option('--until-human', 'with --wait: stop with exit 3 as soon as it waits on a person')
      .option(...JSON_OPTION);

  submitOptions(
    program
      .command('submit')
      .description('submit a pipeline: a YAML/JSON file, or --template <name>')
      .argument('[file]', 'a pipeline definition (.yaml, .yml or .json)')
      .option('-t, --template <name>', 'run a template (sdlc templates lists them) instead of a file'),
  ).action((file: string | undefined, options: SubmitOptions) => submit(file, options));

  submitOptions(
    program
      .command('run')
      .description('shorthand for submit --template <template>')
      .argument('<template>', 'a template name (sdlc templates)'),
  ).action((template: string, options: SubmitOptions) => submit(undefined, { ...options, template }));

  program
    .command('status')
    .alias('get')
    .description('show a pipeline and its stages (exit 3 when it waits for a person)')
    .argument('<id>', 'the pipeline id')
    .option(...JSON_OPTION)
    .action((id: string, options: { json?: boolean }) => status(ctx, id, options.json ?? false));

  program
    .command('watch')
    .alias('wait')
    .description('follow a pipeline until it ends (live on a terminal)')
    .argument('<id>', 'the pipeline id')
    .option('--until-human', 'stop with exit 3 as soon as it waits on a person (default: keep waiting for the answer)')
    .option('--json', 'print the final pipeline as JSON; progress lines go to stderr')
    .action((id: string, options: { untilHuman?: boolean; json?: boolean }) =>
      follow(ctx, id, options.untilHuman ?? false, options.json ?? false),
    );

  program
    .command('list')
    .description('list pipelines, newest first')
    .option('--status <status>', `one of ${PIPELINE_STATUSES.join(', ')}`)
    .option('--name <text>', 'name contains')
    .option('--submitter <id>', 'submitted by this identity (sdlc whoami shows yours)')
    .option('--label <key=value>', 'has this label; repeatable (all must match)', collectKeyValue, [])
    .option('--priority <level>', `of this priority: ${PIPELINE_PRIORITIES.join(', ')}`, priorityArgument)
    .option('--limit <n>', 'at most n (1-100, default 20)', intArgument(1, 100))
    .option('--cursor <cursor>', 'the next page, as the previous one printed it')
    .option(...JSON_OPTION)
    .action(
      async (options: {
        status?: string;
        name?: string;
        submitter?: string;
        label: Array<[string, string]>;
        priority?: PipelinePriority;
        limit?: number;
        cursor?: string;
        json?: boolean;
      }) => {
        const query = new URLSearchParams();
        if (options.status) query.set('status', options.status);
        if (options.name) query.set('name', options.name);
        if (options.submitter) query.set('submitter', options.submitter);
        for (const [key, value] of options.label) query.append('label', `${key}:${value}`);
        if (options.priority) query.set('priority', options.priority);
        if (options.limit) query.set('limit', String(options.limit));
        if (options.cursor) query.set('cursor', options.cursor);
        const page = await ctx.client().request('GET', `/pipelines?${query}`, pipelinePageSchema);
        if (options.json) return ctx.output.json(page.raw);
        const labelsOf = (i: number) => {
          const labels = ((page.raw as { items: Array<{ labels?: unknown }> }).items[i]?.labels ?? {}) as Record<string, unknown>;
          return Object.entries(labels)
            .map(([k, v]) => `${k}=${String(v)}`)
            .join(',');
        };
        const rows = page.data.items.map((p, i) => ({ ...p, labels: labelsOf(i) }));
        ctx.output.out(
          formatTable(
            rows,
            [
              { header: 'ID', value: (p) => p.id },
              { header: 'STATUS', value: (p) => p.status },
              { header: 'PRIORITY', value: (p) => p.priority },
              { header: 'CREATED', value: (p) => shortTime(p.createdAt) },
              { header: 'SUBMITTER', value: (p) => p.submitter },
              ...(rows.some((p) => p.labels) ? [{ header: 'LABELS', value: (p: (typeof rows)[number]) => p.labels || '-' }] : []),
              { header: 'NAME', value: (p) => p.name },
            ],
            'no pipelines match',
          ),
        );
        if (page.data.nextCursor) ctx.output.out(tty`more: sdlc list --cursor ${page.data.nextCursor} (with the same filters)`);
      },
    );

  program
    .command('cancel')
    .description('cancel a pipeline')
    .argument('<id>', 'the pipeline id')
    .option(...JSON_OPTION)
    .action(async (id: string, options: { json?: boolean }) => {
      const cancelled = await ctx.client().request('POST', `/pipelines/${encodeURIComponent(id)}/cancel`, pipelineSchema);
      if (options.json) return ctx.output.json(cancelled.raw);
      ctx.output.out(tty`cancel requested: ${cancelled.data.id}  ${cancelled.data.name}  ${cancelled.data.status}`);
    });

  program
    .command('priority')
    .description('change an unfinished pipeline’s priority; its waiting stage jobs move too (operators)')
    .argument('<id>', 'the pipeline id')
    .argument('<level>', PIPELINE_PRIORITIES.join(', '), priorityArgument)
    .option(...JSON_OPTION)
    .action(async (id: string, priority: PipelinePriority, options: { json?: boolean }) => {
      const changed = await ctx
        .client()
        .request('POST', `/pipelines/${encodeURIComponent(id)}/priority`, pipelineSchema, { body: { priority } });
      if (options.json) return ctx.output.json(changed.raw);
      ctx.output.out(tty`priority ${changed.data.priority}: ${changed.data.id}  ${changed.data.name}  ${changed.data.status}`);
    });
}
