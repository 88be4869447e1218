// What waits for a person: decisions (approve, reject) and clarifications (questions, answer).
// Who votes or answers is the key's identity; there is no --as.
import type { Command } from 'commander';
import { clarificationPageSchema, clarificationSchema } from '../../http/contract/clarifications.schema.js';
import { decisionPageSchema, decisionSchema } from '../../http/contract/decisions.schema.js';
import { CLARIFICATION_STATUSES, DECISION_STATUSES } from '../../domain/status.js';
import { collectAnswers } from '../answers.js';
import type { CommandContext } from '../context.js';
import { CliError } from '../exit-codes.js';
import { intArgument, jsonObjectArgument, JSON_OPTION } from '../option-parsers.js';
import { formatTable, shortTime } from '../table.js';
import { tty } from '../terminal-text.js';

export function registerPeopleCommands(program: Command, ctx: CommandContext): void {
  program
    .command('decisions')
    .description('list decisions (approvals stages wait for)')
    .option('--status <status>', `one of ${DECISION_STATUSES.join(', ')} (default: all)`)
    .option('--pipeline <id>', 'of this pipeline only')
    .option('--limit <n>', 'at most n (1-100, default 20)', intArgument(1, 100))
    .option(...JSON_OPTION)
    .action(async (options: { status?: string; pipeline?: string; limit?: number; json?: boolean }) => {
      const query = new URLSearchParams();
      if (options.status) query.set('status', options.status);
      if (options.pipeline) query.set('pipelineId', options.pipeline);
      if (options.limit) query.set('limit', String(options.limit));
      const page = await ctx.client().request('GET', `/decisions?${query}`, decisionPageSchema);
      if (options.json) return ctx.output.json(page.raw);
      ctx.output.out(
        formatTable(
          page.data.items,
          [
            { header: 'ID', value: (d) => d.id },
            { header: 'STATUS', value: (d) => d.status },
            { header: 'CATEGORY', value: (d) => d.category },
            { header: 'STAGE', value: (d) => d.stageKey },
            { header: 'DUE', value: (d) => shortTime(d.deadlineAt) },
            { header: 'PIPELINE', value: (d) => d.pipelineId },
          ],
          options.status ? `no ${options.status} decisions` : 'no decisions',
        ),
      );
    });

  const vote = (verdict: 'approve' | 'reject') => async (id: string, options: { comment?: string; json?: boolean }) => {
    const body = options.comment === undefined ? {} : { comment: options.comment };
    const decision = await ctx.client().request('POST', `/decisions/${encodeURIComponent(id)}/${verdict}`, decisionSchema, { body });
    if (options.json) return ctx.output.json(decision.raw);
    ctx.output.out(
      tty`${decision.data.id}  ${decision.data.status}  (stage ${decision.data.stageKey} of pipeline ${decision.data.pipelineId})`,
    );
  };
  program
    .command('approve')
    .description('approve a decision')
    .argument('<decision-id>', 'DEC-YYYY-NNNNN, as sdlc decisions lists it')
    .option('--comment <text>', 'why, for the audit trail')
    .option(...JSON_OPTION)
    .action(vote('approve'));
  program
    .command('reject')
    .description('reject a decision: its stage fails')
    .argument('<decision-id>', 'DEC-YYYY-NNNNN, as sdlc decisions lists it')
    .requiredOption('--comment <text>', 'why (required)')
    .option(...JSON_OPTION)
    .action(vote('reject'));

  program
    .command('questions')
    .description('list open clarifications and their questions')
    .option('--status <status>', `one of ${CLARIFICATION_STATUSES.join(', ')}`, 'open')
    .option('--pipeline <id>', 'of this pipeline only')
    .option(...JSON_OPTION)
    .action(async (options: { status: string; pipeline?: string; json?: boolean }) => {
      const query = new URLSearchParams({ status: options.status, limit: '100' });
      if (options.pipeline) query.set('pipelineId', options.pipeline);
      const page = await ctx.client().request('GET', `/clarifications?${query}`, clarificationPageSchema);
      if (options.json) return ctx.output.json(page.raw);
      if (page.data.items.length === 0) return ctx.output.out(tty`no ${options.status} clarifications`);
      for (const c of page.data.items) {
        ctx.output.out(tty`${c.id}  ${c.status}  pipeline ${c.pipelineId}  ${c.stageKey ? `stage ${c.stageKey}` : 'at submission'}`);
        for (const q of c.questions) ctx.output.out(tty`  ${q.id}: ${q.question}`);
      }
    });

  program
    .command('answer')
    .description('answer a clarification (prompts on a terminal)')
    .argument('<clarification-id>', 'as sdlc questions lists it')
    .option('--answers <json>', 'all answers at once: {"<question id>": "answer", …}', jsonObjectArgument)
    .option(...JSON_OPTION)
    .action(async (id: string, options: { answers?: Record<string, unknown>; json?: boolean }) => {
      const path = `/clarifications/${encodeURIComponent(id)}`;
      const clarification = await ctx.client().request('GET', path, clarificationSchema);
      if (clarification.data.status !== 'open') throw new CliError(`${id} is ${clarification.data.status}: nothing to answer`);
      const answers = await collectAnswers(clarification.data.questions, options.answers, ctx.stdin, ctx.output);
      const answered = await ctx.client().request('POST', `${path}/answer`, clarificationSchema, { body: { answers } });
      if (options.json) return ctx.output.json(answered.raw);
      ctx.output.out(tty`${answered.data.id}  ${answered.data.status}  (${Object.keys(answers).length} answer(s))`);
    });
}
