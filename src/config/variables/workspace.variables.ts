// Pipeline workspaces (the folders stages share, cloned from `input.repository`), the free space
// their disk should keep, how long they outlive their pipeline, and the cap on each stage's log
// kept in Postgres.
import { durationSchemaUpTo } from '../../domain/duration.js';
import { repositoryAllowListProblem } from '../../domain/repository-allow.js';
import { commaList, int, text } from '../field-types.js';
import { defineGroup } from '../variable.js';

const DAYS_90_MS = 90 * 86_400_000;

export const workspaceVariables = defineGroup('Workspaces and stage logs', {
  WORKSPACE_ROOT: {
    ...text(1),
    default: {
      development: '.agentic-sdlc/workspaces',
      test: '/tmp/agentic-sdlc/test-workspaces',
      production: '/var/lib/agentic-sdlc/workspaces',
    },
    description:
      'Folder under which each pipeline gets its workspace, `<WORKSPACE_ROOT>/<pipeline id>` (a clone of `input.repository`, or an empty folder), on each worker machine. Created when missing; relative paths are from the working directory. The worker process must be able to write it. See [workspaces.md](workspaces.md).',
  },
  WORKSPACE_REPOSITORY_ALLOW: {
    schema: commaList().schema.superRefine((entries, ctx) => {
      const problem = repositoryAllowListProblem(entries);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
    type: 'comma-separated URL prefixes, or `*`',
    // Development and tests clone local fixture paths and the README's examples; a production
    // deployment clones nothing until its operator names the sources it builds.
    default: { development: '*', test: '*', production: '' },
    description:
      "Repositories a pipeline's `input.repository.url` may name, as URL prefixes (e.g. `https://github.com/acme/,git@github.com:acme/`), compared with the URL as written, case included. A prefix matches at a path boundary: it ends in `/` (or is an scp-like `host:`), or the URL goes on with `/` after it, so `https://github.com/acme` allows `https://github.com/acme/app` but not `https://github.com/acme-evil/app`. Unless the list is `*`, a URL with a `.` or `..` segment, an empty segment, percent-encoding or a backslash, or an `@` after the matched prefix is refused. Another URL is refused at submission with a 400 naming `input.repository.url`, and on the worker before the workspace is cloned or reused with `REPOSITORY_NOT_ALLOWED`. `*` (alone) allows any URL, local paths on the worker included; empty: every pipeline with an `input.repository` is refused. Give the API and the workers the same list. A listed repository's install scripts and tests still run on the worker: see [workspaces.md](workspaces.md#which-repositories-are-cloned) and [security.md](security.md#which-repositories-are-cloned-workspace_repository_allow).",
  },
  WORKSPACE_DISK_MIN_FREE_MB: {
    ...int(0, 100_000_000),
    default: { development: '1024', test: '1', production: '2048' },
    description:
      "Free space (MB, for an unprivileged process) below which the filesystem holding `WORKSPACE_ROOT` counts as low: `workspaceDisk.ok` is false in `/health/ready`, `/health/detailed` (whose `status` turns `degraded`) and a worker's `/health`. Readiness stays 200 whatever the disk says. `0` never counts it low. See [health-checks.md](health-checks.md#workspace-disk).",
  },
  WORKSPACE_RETENTION: {
    schema: durationSchemaUpTo(DAYS_90_MS, '90d'),
    type: 'duration (`30m`, `24h`, `7d`) up to 90d',
    default: { development: '24h', test: '1h', production: '7d' },
    description:
      "How long a pipeline's workspace is kept after the pipeline finished. Each worker process sweeps its machine's `WORKSPACE_ROOT` every few minutes and deletes the workspaces of pipelines finished longer ago (and of pipelines no longer in Postgres).",
  },
  STAGE_LOG_MAX_BYTES: {
    ...int(1024, 64 * 1024 * 1024),
    default: 1024 * 1024,
    description:
      'Bytes of log kept per stage (all its attempts), in Postgres (`stage_logs`), served by `GET /api/v1/pipelines/:id/stages/:key/logs`. Past the cap one `[log truncated]` line is written and the rest is dropped.',
  },
});
