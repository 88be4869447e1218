// Pause and resume (docs/pipeline-operations.md, "Pause and resume"): `sdlc pause <id>`,
// `sdlc resume <id>` for a pipeline (its submitter or an operator), and `sdlc agents pause|resume
// <type>` for an agent type's queue (operators). Each prints one line for people, or the API's
// JSON with --json; a refusal exits 1 with the API's error.
import type { Command } from 'commander';
import { agentPauseSchema, pipelineResumedSchema } from '../../http/contract/pause.schema.js';
import { pipelineSchema } from '../../http/contract/pipelines.schema.js';
import type { CommandContext } from '../context.js';
import { JSON_OPTION } from '../option-parsers.js';
import { shortTime } from '../table.js';
import { tty } from '../terminal-text.js';

/** `--reason` text: what the API takes (1 to 500 characters after trimming). */
const REASON_OPTION = ['--reason <text>', 'why (an incident, a freeze): shown with the pause, in its event and audit record'] as const;

const pausedLine = (pause: { at: string; by: string; reason: string | null }): string =>
  `since ${shortTime(pause.at)} by ${pause.by}${pause.reason ? `: ${pause.reason}` : ''}`;

/** `sdlc pause <id>` and `sdlc resume <id>`. */
export function registerPauseCommands(program: Command, ctx: CommandContext): void {
  program
    .command('pause')
    .description('pause a pipeline: running stages finish, no new stage starts until `sdlc resume`')
    .argument('<id>', 'the pipeline id')
    .option(...REASON_OPTION)
    .option(...JSON_OPTION)
    .action(async (id: string, options: { reason?: string; json?: boolean }) => {
      const body = options.reason === undefined ? {} : { reason: options.reason };
      const paused = await ctx.client().request('POST', `/pipelines/${encodeURIComponent(id)}/pause`, pipelineSchema, { body });
      if (options.json) return ctx.output.json(paused.raw);
      const { data } = paused;
      const held = data.stages.filter((s) => s.status === 'paused').map((s) => s.key);
      const running = data.stages.filter((s) => s.status === 'running').map((s) => s.key);
      ctx.output.out(tty`paused: ${data.id}  ${data.name}  ${data.paused ? pausedLine(data.paused) : data.status}`);
      if (held.length > 0) ctx.output.out(tty`held: ${held.join(', ')}`);
      if (running.length > 0) ctx.output.out(tty`still running (they finish): ${running.join(', ')}`);
      ctx.output.out(tty`resume with: sdlc resume ${data.id}`);
    });

  program
    .command('resume')
    .description('resume a paused pipeline: the stages it held are queued and run')
    .argument('<id>', 'the pipeline id')
    .option(...JSON_OPTION)
    .action(async (id: string, options: { json?: boolean }) => {
      const resumed = await ctx
        .client()
        .request('POST', `/pipelines/${encodeURIComponent(id)}/resume`, pipelineResumedSchema, { body: {} });
      if (options.json) return ctx.output.json(resumed.raw);
      // What the resume queued, as the API says: by the time the answer is read a fast stage has
      // moved on, so the stages that read `queued` may be its dependants instead.
      const { data } = resumed;
      const queued = data.resumedStages;
      ctx.output.out(tty`resumed: ${data.id}  ${data.name}  ${data.status}${queued.length > 0 ? `  queued: ${queued.join(', ')}` : ''}`);
    });
}

/** `sdlc agents pause <type>` and `sdlc agents resume <type>`, under the `agents` command. */
export function registerAgentPauseCommands(agents: Command, ctx: CommandContext): void {
  agents
    .command('pause')
    .description("pause an agent type's queue for every worker: its jobs wait (operators)")
    .argument('<type>', 'the agent type (sdlc agents lists them)')
    .option(...REASON_OPTION)
    .option(...JSON_OPTION)
    .action(async (type: string, options: { reason?: string; json?: boolean }) => {
      const body = options.reason === undefined ? {} : { reason: options.reason };
      const paused = await ctx.client().request('POST', `/agents/${encodeURIComponent(type)}/pause`, agentPauseSchema, { body });
      if (options.json) return ctx.output.json(paused.raw);
      const { pause } = paused.data;
      ctx.output.out(tty`paused: agent ${paused.data.type}${pause ? `  ${pausedLine(pause)}` : ''}`);
    });

  agents
    .command('resume')
    .description("resume an agent type's queue, whoever paused it (operators)")
    .argument('<type>', 'the agent type')
    .option(...JSON_OPTION)
    .action(async (type: string, options: { json?: boolean }) => {
      const resumed = await ctx.client().request('POST', `/agents/${encodeURIComponent(type)}/resume`, agentPauseSchema, { body: {} });
      if (options.json) return ctx.output.json(resumed.raw);
      ctx.output.out(tty`resumed: agent ${resumed.data.type}`);
    });
}
