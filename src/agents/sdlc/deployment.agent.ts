// The real `deployment` agent: builds the workspace project, copies it into a new release folder,
// switches `current` to it atomically, starts it (or calls a deploy hook), health-checks it, and
// on a failed check switches back to the previous release and restarts it. The failed check is
// reported (`healthCheck: 'failed'`), not thrown, so the `healthCheck == "ok"` gate is the failure.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { UnrecoverableStageError } from '../../domain/errors.js';
import { boundByDeadline } from '../../domain/stage-deadline.js';
import { describeEnding } from '../agent-workspace.js';
import { defineAgent, type Agent, type AgentWorkspace } from '../define-agent.js';
import { postJson } from './json-request.client.js';
import type { ReleaseProcess, ReleaseProcesses } from './release-processes.port.js';
import { APP_NAME, openReleaseStore } from './release-store.js';

/** Waits for the lock at `path` (or the signal), takes it, and resolves with its release. */
export type DeploymentLock = (path: string, signal?: AbortSignal) => Promise<() => Promise<void>>;

export interface DeploymentAgentOptions {
  /** The folder releases go under (`<root>/<app>/releases/…`, `<root>/<app>/current`); from config. */
  releasesRoot: string;
  /**
   * The lock one app's deployments take in turn (`<root>/<app>/.deploy.lock`), held from reading
   * `current` to the end of the health check or rollback; the workspace lock, across the processes
   * of a machine.
   */
  lockApp: DeploymentLock;
  /** Called with `{ app, release, path }` instead of starting the release here. */
  deployHook?: { url: string; token?: string; timeoutMs?: number };
  /** Starts release processes (needed unless a deploy hook is configured). */
  processes?: ReleaseProcesses;
  /** Releases kept per app, besides the current and the previous one (default 5). */
  keepReleases?: number;
  /** The host the started service is reached on (default 127.0.0.1). */
  host?: string;
  /** Pause between health probes (default 250 ms). */
  healthIntervalMs?: number;
}

const inputSchema = z
  .object({
    /** The app's folder name (default: package.json `name`, made folder-safe, else `app`). */
    app: z.string().regex(APP_NAME).optional(),
    /** The port the service listens on (PORT); default a free one. */
    port: z.number().int().min(1).max(65_535).optional(),
    healthPath: z
      .string()
      .regex(/^\/[\w./~%-]*$/)
      .default('/health'),
    /** How long the health check may take to pass. */
    healthTimeoutMs: z.number().int().min(100).max(600_000).default(30_000),
    /** The service's URL with a deploy hook, when the hook does not answer with one. */
    url: z.url().optional(),
    /** Run `npm run build` when package.json has a build script. */
    build: z.boolean().default(true),
  })
  .strict();

const outputSchema = z.object({
  summary: z.string(),
  app: z.string(),
  release: z.string(),
  path: z.string(),
  previousRelease: z.string().nullable(),
  /** The URL serving now: the new release's, or after a rollback the previous one's. */
  url: z.string().nullable(),
  healthCheck: z.enum(['ok', 'failed']),
  rolledBack: z.boolean(),
  /** After a rollback, whether the restored release answered its health check. */
  rollbackHealthCheck: z.enum(['ok', 'failed']).nullable(),
  metrics: z.object({ healthCheck: z.enum(['ok', 'failed']) }),
});

interface Running {
  release: string;
  port: number;
  process: ReleaseProcess;
}

const packageSchema = z
  .object({
    name: z.string().optional(),
    scripts: z.record(z.string(), z.string()).optional(),
    dependencies: z.record(z.string(), z.unknown()).optional(),
    devDependencies: z.record(z.string(), z.unknown()).optional(),
  })
  .loose();

async function readPackage(workspace: AgentWorkspace): Promise<z.output<typeof packageSchema>> {
  try {
    return packageSchema.parse(JSON.parse(await readFile(await workspace.resolve('package.json'), 'utf8')));
  } catch {
    return {};
  }
}

const appNameOf = (name: string | undefined) =>
  (name ?? '')
    .replace(/^@[^/]*\//, '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 63) || 'app';

/** Installs dependencies when some are declared but none installed, then runs `npm run build`. */
async function build(workspace: AgentWorkspace, declaresDependencies: boolean): Promise<void> {
  const present = (path: string) =>
    workspace
      .resolve(path)
      .then(stat)
      .then(
        () => true,
        () => false,
      );
  const steps: string[][] = [];
  if (declaresDependencies && !(await present('node_modules'))) steps.push((await present('package-lock.json')) ? ['ci'] : ['install']);
  steps.push(['run', 'build']);
  for (const args of steps) {
    const run = await workspace.run('npm', args, { timeoutMs: 15 * 60_000 });
    if (run.exitCode !== 0) {
      throw new UnrecoverableStageError(
        'DEPLOY_BUILD_FAILED',
        `npm ${args.join(' ')} ${describeEnding(run)}: ${run.output.trim().slice(-1500)}`,
      );
    }
  }
}

/** Probes `url` until it answers 2xx or `timeoutMs` passes. */
async function healthy(url: string, timeoutMs: number, intervalMs: number, signal: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(Math.min(5000, timeoutMs))]) });
      await response.arrayBuffer();
      if (response.ok) return true;
    } catch {
      // not listening yet, or not answering: probe again
    }
    signal.throwIfAborted();
    if (Date.now() + intervalMs > deadline) return false;
    await delay(intervalMs, undefined, { signal });
  }
}

/** Creates the `deployment` agent (version 2.0.0). */
export function createDeploymentAgent(options: DeploymentAgentOptions): Agent {
  const { releasesRoot, lockApp, deployHook, processes, keepReleases = 5, host = '127.0.0.1', healthIntervalMs = 250 } = options;
  /** What this worker started, by app: the process to stop once its successor is healthy. */
  const running = new Map<string, Running>();

  return defineAgent({
    type: 'deployment',
    version: '2.0.0',
    description:
      'Releases the workspace build with an atomic switch, starts it (or calls a deploy hook), health-checks it and rolls back on failure.',
    workspace: true,
    input: inputSchema,
    output: outputSchema,
    handler: async ({ input, workspace, pipelineId, reportMetrics, signal, logger, deadline }) => {
      if (!workspace) throw new UnrecoverableStageError('AGENT_UNRECOVERABLE', 'the deployment agent needs the pipeline workspace');
      if (!deployHook && !processes)
        throw new UnrecoverableStageError('AGENT_UNRECOVERABLE', 'deployment has neither a deploy hook nor a process starter configured');
      const pkg = await readPackage(workspace);
      const app = input.app ?? appNameOf(pkg.name);
      if (input.build && pkg.scripts?.build) {
        await build(workspace, Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).length > 0);
      }

      const store = await openReleaseStore(releasesRoot, app);
      // Two deployments of one app at once would both take the same `current` as their previous
      // release, and the one finishing last would stop the other's process while `current` pointed
      // at it: one at a time, from reading `current` to the last health check.
      const unlock = await lockApp(join(store.appDir, '.deploy.lock'), signal);
      try {
        const previous = await store.current();
        const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').replace(/\..*$/, '');
        const release = await store.create(
          workspace.root,
          `${stamp}-${pipelineId
            .replace(/[^a-z0-9]/gi, '')
            .slice(0, 8)
            .toLowerCase()}`,
        );
        await store.switchTo(release);
        workspace.log(`release ${release} is current (previous: ${previous ?? 'none'})`);

        /** Makes `which` serve; resolves with its URL and, when started here, its process. */
        const launch = async (which: string): Promise<{ url: string; started?: Running }> => {
          if (deployHook) {
            const answer = await postJson({
              url: deployHook.url,
              body: { app, release: which, path: store.pathOf(which) },
              headers: deployHook.token ? { authorization: `Bearer ${deployHook.token}` } : {},
              timeoutMs: deployHook.timeoutMs,
              signal,
              codes: { rejected: 'DEPLOY_HOOK_REJECTED', unavailable: 'DEPLOY_HOOK_UNAVAILABLE' },
              service: 'the deploy hook',
            });
            // The hook's answer wins: it is the operator's system, while input.url is the submitter's
            // (a fallback only, for a hook that answers no url), so a stage cannot aim the probe elsewhere.
            const url = z.object({ url: z.url() }).safeParse(answer).data?.url ?? input.url;
            if (!url) throw new UnrecoverableStageError('DEPLOY_HOOK_REJECTED', 'the deploy hook gave no url, and input.url is not set');
            return { url };
          }
          const starter = processes!;
          const old = running.get(app);
          const port = input.port ?? (await starter.freePort());
          if (old && old.port === port) {
            // The old release holds the port: it must stop first (no overlap, so a rollback restarts it).
            await old.process.stop();
            running.delete(app);
          }
          const process = await starter.start(store.pathOf(which), 'npm', ['start'], { PORT: String(port), NODE_ENV: 'production' });
          return { url: `http://${host}:${port}`, started: { release: which, port, process } };
        };

        const { url, started } = await launch(release);
        // Bounded by the stage's deadline, keeping half of what it leaves for a rollback: a stage
        // timeout during the check would leave the failing release current, with nothing rolled back.
        const checkUntil = deadline && previous ? deadline - (deadline - Date.now()) / 2 : deadline;
        const firstCheckMs = boundByDeadline(input.healthTimeoutMs, checkUntil).timeoutMs;
        if (await healthy(`${url}${input.healthPath}`, firstCheckMs, healthIntervalMs, signal)) {
          if (started) {
            // The old release served until now (blue/green); it stops once its successor is healthy.
            const old = running.get(app);
            running.set(app, started);
            await old?.process.stop();
          }
          const pruned = await store.prune(keepReleases, [release, previous]);
          if (pruned.length) workspace.log(`pruned releases ${pruned.join(', ')}`);
          reportMetrics({ healthCheck: 'ok', rolledBack: false });
          return {
            summary: `deployed ${app} ${release} at ${url}`,
            app,
            release,
            path: store.pathOf(release),
            previousRelease: previous,
            url,
            healthCheck: 'ok' as const,
            rolledBack: false,
            rollbackHealthCheck: null,
            metrics: { healthCheck: 'ok' as const },
          };
        }

        logger.warn('health check failed; rolling back', { app, release, previous });
        workspace.log(`health check of ${url}${input.healthPath} failed (no 2xx within ${firstCheckMs} ms)`);
        await started?.process.stop();
        let servingUrl: string | null = null;
        let rollbackHealthCheck: 'ok' | 'failed' | null = null;
        if (previous) {
          await store.switchTo(previous);
          const old = running.get(app);
          if (old && !deployHook) {
            servingUrl = `http://${host}:${old.port}`; // never stopped (blue/green): it still serves
          } else {
            const restarted = await launch(previous);
            if (restarted.started) running.set(app, restarted.started);
            servingUrl = restarted.url;
          }
          // Waits for the restored release, so `url` answers when the stage ends.
          const rollbackCheckMs = boundByDeadline(input.healthTimeoutMs, deadline).timeoutMs;
          rollbackHealthCheck = (await healthy(`${servingUrl}${input.healthPath}`, rollbackCheckMs, healthIntervalMs, signal))
            ? 'ok'
            : 'failed';
          workspace.log(`rolled back to ${previous} (health check ${rollbackHealthCheck})`);
        }
        reportMetrics({ healthCheck: 'failed', rolledBack: previous !== null });
        return {
          summary: previous
            ? `${release} failed its health check; rolled back to ${previous}`
            : `${release} failed its health check; no previous release to roll back to`,
          app,
          release,
          path: store.pathOf(release),
          previousRelease: previous,
          url: servingUrl,
          healthCheck: 'failed' as const,
          rolledBack: previous !== null,
          rollbackHealthCheck,
          metrics: { healthCheck: 'failed' as const },
        };
      } finally {
        await unlock();
      }
    },
  });
}
