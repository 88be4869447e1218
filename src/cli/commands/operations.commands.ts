// Operator commands (the `operator` role): the dead-letter queue (list, replay, discard), and detailed health.
import type { Command } from 'commander';
import { z } from 'zod';
import { BULK_REPLAY_MAX, bulkReplayReportSchema, dlqPageSchema, replayReceiptSchema } from '../../http/contract/dlq.schema.js';
import { detailedHealthSchema } from '../../http/contract/health.schema.js';
import type { CommandContext } from '../context.js';
import { intArgument, JSON_OPTION } from '../option-parsers.js';
import { EXIT, usageError } from '../exit-codes.js';
import { formatTable } from '../table.js';
import { tty } from '../terminal-text.js';

/** Jobs per `sdlc dlq` page when --limit is not given (the API's most). */
const DLQ_PAGE_DEFAULT = 100;
/**
 * Jobs a bulk `sdlc replay` takes when --limit is not given: the API's own default, sent
 * explicitly so that the CLI can tell when the limit was reached.
 */
const BULK_REPLAY_DEFAULT = 100;

export function registerOperationsCommands(program: Command, ctx: CommandContext): void {
  program
    .command('dlq')
    .description('failed jobs (the dead-letter queue), grouped')
    .option('--agent <type>', 'of this agent type only')
    .option('--pipeline <id>', 'of this pipeline only')
    .option('--fingerprint <f>', 'of this group only')
    .option('--limit <n>', `jobs per page (1-100, default ${DLQ_PAGE_DEFAULT})`, intArgument(1, 100))
    .option('--cursor <cursor>', 'the next page, as the previous one printed it')
    .option(...JSON_OPTION)
    .action(
      async (options: { agent?: string; pipeline?: string; fingerprint?: string; limit?: number; cursor?: string; json?: boolean }) => {
        const query = new URLSearchParams({ limit: String(options.limit ?? DLQ_PAGE_DEFAULT) });
        if (options.agent) query.set('agent', options.agent);
        if (options.pipeline) query.set('pipelineId', options.pipeline);
        if (options.fingerprint) query.set('fingerprint', options.fingerprint);
        if (options.cursor) query.set('cursor', options.cursor);
        const page = await ctx.client().request('GET', `/dlq?${query}`, dlqPageSchema);
        if (options.json) return ctx.output.json(page.raw);
        const { total, groups, items } = page.data;
        ctx.output.out(tty`${total} failed job(s)`);
        if (total === 0) return;
        ctx.output.out('');
        ctx.output.out(
          formatTable(
            groups,
            [
              { header: 'GROUP', value: (g) => g.fingerprint },
              { header: 'COUNT', value: (g) => String(g.count), right: true },
              { header: 'AGENT', value: (g) => g.agent },
              { header: 'ERROR', value: (g) => `${g.code}: ${g.message}` },
            ],
            'no groups',
          ),
        );
        ctx.output.out('');
        ctx.output.out(
          formatTable(
            items,
            [
              { header: 'JOB', value: (j) => j.jobId },
              { header: 'AGENT', value: (j) => j.agent },
              { header: 'STAGE', value: (j) => j.stageKey ?? '-' },
              { header: 'PIPELINE', value: (j) => j.pipelineId ?? '-' },
              { header: 'REPLAY', value: (j) => (j.replayable ? 'replayable' : `blocked: ${j.replayBlockedBy}`) },
              { header: 'ERROR', value: (j) => `${j.error.code}: ${j.error.message}` },
            ],
            'no jobs on this page',
          ),
        );
        if (page.data.nextCursor) ctx.output.out(tty`more: sdlc dlq --cursor ${page.data.nextCursor} (with the same filters)`);
      },
    );

  program
    .command('replay')
    .description('replay failed jobs: one, a group, or an agent type')
    .argument('[job-id]', 'a job id, as sdlc dlq lists it')
    .option('--fingerprint <f>', 'the failed jobs of this group, oldest first (at most --limit)')
    .option('--agent <type>', 'the failed jobs of this agent type, oldest first (at most --limit)')
    .option(
      '--limit <n>',
      `with --fingerprint or --agent: at most n jobs (1-${BULK_REPLAY_MAX}, default ${BULK_REPLAY_DEFAULT})`,
      intArgument(1, BULK_REPLAY_MAX),
    )
    .option(...JSON_OPTION)
    .action(async (jobId: string | undefined, options: { fingerprint?: string; agent?: string; limit?: number; json?: boolean }) => {
      const targets = [jobId, options.fingerprint, options.agent].filter((t) => t !== undefined).length;
      if (targets !== 1) throw usageError('replay: give one of <job-id>, --fingerprint F or --agent A');
      if (jobId !== undefined && options.limit !== undefined) throw usageError('replay: --limit goes with --fingerprint or --agent');
      if (jobId !== undefined) {
        const receipt = await ctx.client().request('POST', `/dlq/${encodeURIComponent(jobId)}/retry`, replayReceiptSchema, { body: {} });
        if (options.json) return ctx.output.json(receipt.raw);
        const r = receipt.data;
        return ctx.output.out(tty`${r.jobId}  ${r.mode}  pipeline ${r.pipelineId}  stage ${r.stageKey}`);
      }
      const limit = options.limit ?? BULK_REPLAY_DEFAULT;
      const filter = options.fingerprint ? { fingerprint: options.fingerprint } : { agent: options.agent };
      const report = await ctx.client().request('POST', '/dlq/retry', bulkReplayReportSchema, { body: { ...filter, limit } });
      if (options.json) return ctx.output.json(report.raw);
      const r = report.data;
      ctx.output.out(tty`matched ${r.matched}, replayed ${r.replayed}, skipped ${r.skipped.length}`);
      for (const s of r.skipped) ctx.output.out(tty`  skipped ${s.jobId}: ${s.reason}`);
      // The API takes at most `limit` matching jobs, the oldest: newer ones may still be failed.
      if (r.matched >= limit) {
        const again = options.fingerprint ? `--fingerprint ${options.fingerprint}` : `--agent ${options.agent}`;
        ctx.output.out(tty`limit ${limit} reached: newer failed jobs may match too; see sdlc dlq ${again}, then replay ${again} again`);
      }
    });

  program
    .command('discard')
    .description('remove a failed job from the DLQ: its stage stays failed and can no longer be replayed')
    .argument('<job-id>', 'a job id, as sdlc dlq lists it')
    .option(...JSON_OPTION)
    .action(async (jobId: string, options: { json?: boolean }) => {
      await ctx.client().request('DELETE', `/dlq/${encodeURIComponent(jobId)}`, z.null());
      if (options.json) return ctx.output.json({ jobId, discarded: true });
      ctx.output.out(tty`discarded ${jobId}: its stage stays failed`);
    });

  program
    .command('health')
    .description('components, workers online, workspace disk, breakers, paused and switched-off agents (exit 1 when degraded)')
    .option(...JSON_OPTION)
    .action(async (options: { json?: boolean }) => {
      const health = await ctx.client().request('GET', '/health/detailed', detailedHealthSchema, { root: true });
      if (health.data.status !== 'ok') ctx.exit(EXIT.failed);
      if (options.json) return ctx.output.json(health.raw);
      const h = health.data;
      ctx.output.out(tty`${h.status}  version ${h.version}  up ${Math.round(h.uptimeSeconds)} s`);
      ctx.output.out(
        formatTable(
          h.components,
          [
            { header: 'COMPONENT', value: (c) => c.name },
            { header: 'LATENCY', value: (c) => `${c.latencyMs} ms`, right: true },
            { header: 'STATE', value: (c) => (c.ok ? 'ok' : `FAILING: ${c.error ?? ''}`) },
          ],
          'no components',
        ),
      );
      const workers = h.workers;
      if (workers && !('error' in workers && typeof workers.error === 'string')) {
        const online = Object.entries(workers as Record<string, number>);
        ctx.output.out(tty`workers online: ${online.length === 0 ? 'none' : online.map(([agent, n]) => `${agent}=${n}`).join(' ')}`);
        // Not a reason for `degraded` (the API still takes submissions), but nothing moves without one.
        if ((workers as Record<string, number>).conductor === 0)
          ctx.output.out(
            'warning: no conductor online: pipelines do not advance and decision and pipeline deadlines wait ' +
              '(start a worker without --no-conductor, or npm start)',
          );
      } else if (workers) ctx.output.out(tty`workers online: unknown (${String((workers as { error: string }).error)})`);
      const disk = h.workspaceDisk;
      if (disk && 'ok' in disk) {
        const state = disk.ok ? 'ok' : `LOW (under ${gigabytes(disk.minFreeBytes)})`;
        ctx.output.out(
          tty`workspace disk: ${gigabytes(disk.freeBytes)} free of ${gigabytes(disk.totalBytes)} (${Math.round(disk.freeRatio * 100)}%)  ${state}  ${disk.path}`,
        );
      } else if (disk) ctx.output.out(tty`workspace disk: unknown (${disk.error})`);
      const breakers = h.breakers;
      if ('error' in breakers && typeof breakers.error === 'string') ctx.output.out(tty`breakers: unknown (${breakers.error})`);
      else {
        const entries = Object.entries(breakers);
        ctx.output.out(
          tty`breakers: ${entries.length === 0 ? 'none' : entries.map(([name, state]) => `${name}=${breakerState(state)}`).join(' ')}`,
        );
      }
      // Intended states, never `degraded`; but their stages wait, which is what an operator asks `health` about.
      const paused = h.pausedAgents;
      if (Array.isArray(paused) && paused.length > 0) {
        const who = (p: (typeof paused)[number]) =>
          p.since === null
            ? 'no record: paused outside the platform'
            : `since ${p.since} by ${p.by ?? '?'}${p.reason ? `: ${p.reason}` : ''}`;
        ctx.output.out(tty`paused agents (their stages wait): ${paused.map((p) => `${p.agent} (${who(p)})`).join(', ')}`);
      } else if (paused && !Array.isArray(paused)) ctx.output.out(tty`paused agents: unknown (${paused.error})`);
      const switchedOff = h.flags?.agentsSwitchedOff ?? [];
      if (switchedOff.length > 0) {
        ctx.output.out(tty`switched off (their stages wait): ${switchedOff.map((s) => `${s.agent} (${s.flag})`).join(', ')}`);
      }
    });
}

/** Bytes as GB with one decimal (1024-based, as `df -h` counts). */
const gigabytes = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GB`;

function breakerState(state: unknown): string {
  if (typeof state === 'string') return state;
  if (state && typeof state === 'object' && 'closed' in state) {
    const counts = state as { closed: number; open: number; half_open: number };
    return (
      (['closed', 'open', 'half_open'] as const)
        .filter((name) => counts[name] > 0)
        .map((name) => `${name}:${counts[name]}`)
        .join('/') || 'none'
    );
  }
  return JSON.stringify(state);
}
