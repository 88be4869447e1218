// What can be run and who you are: templates, agents, whoami.
import type { Command } from 'commander';
import { whoamiSchema } from '../../http/contract/audit.schema.js';
import { agentListSchema, templateListSchema } from '../../http/contract/catalog.schema.js';
import type { CommandContext } from '../context.js';
import { JSON_OPTION } from '../option-parsers.js';
import { formatTable, shortTime } from '../table.js';
import { registerAgentPauseCommands } from './pause.commands.js';
import { tty } from '../terminal-text.js';

export function registerCatalogCommands(program: Command, ctx: CommandContext): void {
  program
    .command('templates')
    .description('the templates submit --template runs')
    .option(...JSON_OPTION)
    .action(async (options: { json?: boolean }) => {
      const list = await ctx.client().request('GET', '/templates', templateListSchema);
      if (options.json) return ctx.output.json(list.raw);
      ctx.output.out(
        formatTable(
          list.data.items,
          [
            { header: 'TEMPLATE', value: (t) => t.name },
            { header: 'STAGES', value: (t) => t.stages.join(',') },
            { header: 'INPUT', value: (t) => t.inputFields.join(',') || '-' },
            { header: 'INPUT EXAMPLE', value: (t) => (t.inputExample ? JSON.stringify(t.inputExample) : '-') },
            { header: 'DESCRIPTION', value: (t) => t.description },
          ],
          'no templates',
        ),
      );
    });

  const agents = program
    .command('agents')
    .description('the agent types, their workers online and whether they are paused (`agents pause|resume <type>`)')
    .option(...JSON_OPTION)
    .action(async (options: { json?: boolean }) => {
      const list = await ctx.client().request('GET', '/agents', agentListSchema);
      if (options.json) return ctx.output.json(list.raw);
      ctx.output.out(
        formatTable(
          list.data.items,
          [
            { header: 'AGENT', value: (a) => a.type },
            { header: 'VERSION', value: (a) => (a.nextVersion ? `${a.version} (next ${a.nextVersion})` : a.version) },
            { header: 'WORKERS', value: (a) => String(a.workersOnline), right: true },
            { header: 'PAUSED', value: (a) => (a.paused ? (a.pause ? `since ${shortTime(a.pause.at)} by ${a.pause.by}` : 'yes') : '-') },
            { header: 'DESCRIPTION', value: (a) => a.description },
          ],
          'no agents',
        ),
      );
    });
  registerAgentPauseCommands(agents, ctx);

  program
    .command('whoami')
    .description('who your key stands for, and its roles')
    .option(...JSON_OPTION)
    .action(async (options: { json?: boolean }) => {
      const me = await ctx.client().request('GET', '/whoami', whoamiSchema);
      if (options.json) return ctx.output.json(me.raw);
      const { name, kind, via, roles } = me.data;
      ctx.output.out(tty`${name}  (${kind}, via ${via})  roles: ${roles.join(', ') || 'none'}`);
    });
}
