// Operator commands for webhook deliveries (the `operator` role): the failed ones, and their
// redelivery (BullMQ's retry of the failed job, through /api/v1/webhooks/failed).
import type { Command } from 'commander';
import {
  failedDeliveryPageSchema,
  failedDeliverySchema,
  REDELIVER_ALL_MAX,
  redeliverAllReportSchema,
} from '../../http/contract/webhooks.schema.js';
import type { CommandContext } from '../context.js';
import { intArgument, JSON_OPTION } from '../option-parsers.js';
import { usageError } from '../exit-codes.js';
import { formatTable } from '../table.js';
import { tty } from '../terminal-text.js';

/** Deliveries `sdlc webhooks failed` lists, and `redeliver --all` takes, when --limit is not given (the API's default). */
const WEBHOOKS_LIMIT_DEFAULT = 100;

export function registerWebhookCommands(program: Command, ctx: CommandContext): void {
  const webhooks = program.command('webhooks').description('webhook deliveries: the failed ones, and their redelivery');

  webhooks
    .command('failed')
    .description('deliveries that failed for good, newest first')
    .option('--limit <n>', `at most n (1-${REDELIVER_ALL_MAX}, default ${WEBHOOKS_LIMIT_DEFAULT})`, intArgument(1, REDELIVER_ALL_MAX))
    .option(...JSON_OPTION)
    .action(async (options: { limit?: number; json?: boolean }) => {
      const limit = options.limit ?? WEBHOOKS_LIMIT_DEFAULT;
      const page = await ctx.client().request('GET', `/webhooks/failed?limit=${limit}`, failedDeliveryPageSchema);
      if (options.json) return ctx.output.json(page.raw);
      const { total, items } = page.data;
      ctx.output.out(tty`${total} failed deliver${total === 1 ? 'y' : 'ies'}`);
      if (total === 0) return;
      ctx.output.out(
        formatTable(
          items,
          [
            { header: 'DELIVERY', value: (d) => d.jobId },
            { header: 'EVENT', value: (d) => d.eventId ?? '-' },
            { header: 'RECEIVER', value: (d) => d.receiver ?? (d.urlIndex === null ? '-' : `#${d.urlIndex}`) },
            { header: 'ATTEMPTS', value: (d) => String(d.attemptsMade), right: true },
            { header: 'FAILED AT', value: (d) => d.failedAt },
            { header: 'REASON', value: (d) => d.failedReason },
          ],
          'no deliveries on this page',
        ),
      );
      if (items.length < total) ctx.output.out(tty`showing the newest ${items.length}; see --limit`);
    });

  webhooks
    .command('redeliver')
    .description('send failed deliveries again: one, or the oldest --limit with --all')
    .argument('[delivery-id]', 'a delivery id, as sdlc webhooks failed lists it')
    .option('--all', 'the failed deliveries, oldest first (at most --limit)')
    .option(
      '--limit <n>',
      `with --all: at most n (1-${REDELIVER_ALL_MAX}, default ${WEBHOOKS_LIMIT_DEFAULT})`,
      intArgument(1, REDELIVER_ALL_MAX),
    )
    .option(...JSON_OPTION)
    .action(async (jobId: string | undefined, options: { all?: boolean; limit?: number; json?: boolean }) => {
      if ((jobId === undefined) === (options.all !== true)) throw usageError('webhooks redeliver: give a delivery id or --all');
      if (jobId !== undefined && options.limit !== undefined) throw usageError('webhooks redeliver: --limit goes with --all');
      if (jobId !== undefined) {
        const receipt = await ctx
          .client()
          .request('POST', `/webhooks/failed/${encodeURIComponent(jobId)}/retry`, failedDeliverySchema, { body: {} });
        if (options.json) return ctx.output.json(receipt.raw);
        return ctx.output.out(tty`redelivered ${receipt.data.jobId} (event ${receipt.data.eventId ?? '?'})`);
      }
      const limit = options.limit ?? WEBHOOKS_LIMIT_DEFAULT;
      const report = await ctx.client().request('POST', '/webhooks/failed/retry', redeliverAllReportSchema, { body: { limit } });
      if (options.json) return ctx.output.json(report.raw);
      const r = report.data;
      ctx.output.out(tty`matched ${r.matched}, redelivered ${r.redelivered.length}, skipped ${r.skipped.length}`);
      for (const s of r.skipped) ctx.output.out(tty`  skipped ${s.jobId}: ${s.reason}`);
      if (r.matched >= limit) ctx.output.out(tty`limit ${limit} reached: more failed deliveries may wait; run it again`);
    });
}
