// `sdlc rerun <id> [--from key …] [--wait]`: re-run a finished pipeline from stages (POST
// /pipelines/:id/rerun), printing which stages run again and which are reused.
import type { Command } from 'commander';
import { pipelineSchema } from '../../http/contract/pipelines.schema.js';
import type { CommandContext } from '../context.js';
import { collect, JSON_OPTION } from '../option-parsers.js';
import { formatTable } from '../table.js';
import { watchPipeline } from '../watch.js';
import { tty } from '../terminal-text.js';

interface RerunOptions {
  from: string[];
  wait?: boolean;
  untilHuman?: boolean;
  json?: boolean;
}

export function registerRerunCommands(program: Command, ctx: CommandContext): void {
  program
    .command('rerun')
    .description('re-run a finished pipeline from stages: a new linked pipeline reusing the outputs of the others')
    .argument('<id>', 'the pipeline to re-run (succeeded, failed or cancelled)')
    .option(
      '--from <key>',
      'a stage to run again, with everything downstream; repeatable (default: the failed and cancelled ones)',
      collect,
      [],
    )
    .option('--wait', 'follow the new pipeline until it ends; exit 0 succeeded, 1 failed or cancelled')
    .option('--until-human', 'with --wait: stop with exit 3 as soon as it waits on a person')
    .option(...JSON_OPTION)
    .action(async (id: string, options: RerunOptions) => {
      const body = options.from.length > 0 ? { from: options.from } : {};
      const created = await ctx.client().request('POST', `/pipelines/${encodeURIComponent(id)}/rerun`, pipelineSchema, { body });
      const p = created.data;
      if (!options.json) {
        ctx.output.out(tty`re-run of ${id} from ${p.rerunFrom.join(', ')}: ${p.id}  ${p.name}  ${p.status}`);
        ctx.output.out(
          formatTable(
            p.stages,
            [
              { header: 'STAGE', value: (s) => s.key },
              { header: 'ACTION', value: (s) => (s.reused ? 'reused' : 'runs') },
              { header: 'STATUS', value: (s) => s.status },
              { header: 'FROM', value: (s) => s.reused?.fromStage ?? '-' },
            ],
            'no stages',
          ),
        );
      }
      if (options.wait || options.untilHuman) {
        const { pipeline, code } = await watchPipeline(
          ctx.client(),
          p.id,
          {
            untilHuman: options.untilHuman ?? false,
            redraw: ctx.stdoutIsTty && !options.json,
            columns: ctx.columns,
            quiet: options.json ?? false,
            intervalMs: ctx.pollMs,
            reconnectMs: ctx.reconnectMs,
          },
          ctx.output,
        );
        if (options.json) ctx.output.json(pipeline.raw);
        return ctx.exit(code);
      }
      if (options.json) return ctx.output.json(created.raw);
      ctx.output.out(tty`follow it: sdlc watch ${p.id}`);
    });
}
