// The real `e2e_test` agent: installs and builds the workspace project, starts it on a free port,
// waits until it answers, runs HTTP checks (stage input, or the project's e2e-checks.json) and
// reports `passed`/`failed` with each failure's request and response. What it started is always
// stopped (process group killed), on success, failure, abort and timeout alike.
import { readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, posix } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { UnrecoverableStageError } from '../../domain/errors.js';
import { boundByDeadline } from '../../domain/stage-deadline.js';
import { describeEnding } from '../agent-workspace.js';
import { defineAgent, type Agent, type AgentWorkspace, type StartedProcess } from '../define-agent.js';
import { checkSchema, readChecksFile, runCheck, type Check, type CheckResult } from './e2e-checks.js';
import { planInstall, readProject, type Project } from './project-detection.js';

const MAX_FAILURES_REPORTED = 50;
const PROBE_INTERVAL_MS = 200;

const inputSchema = z
  .object({
    /** The project folder, relative to the workspace root (default the root). */
    path: z.string().max(500).default(''),
    /** The checks to run (default: the project's e2e-checks.json). */
    checks: z.array(checkSchema).min(1).max(200).optional(),
    /** Install dependencies when node_modules is missing or older than the lockfile. */
    install: z.boolean().default(true),
    /** Run `npm run build` when package.json has a build script. */
    build: z.boolean().default(true),
    /** The port the service gets as PORT (default a free one). */
    port: z.number().int().min(1).max(65_535).optional(),
    /** Probed until the service answers (any status counts). */
    readyPath: z
      .string()
      .regex(/^\/[^\s]*$/)
      .default('/'),
    /** How long the service may take to answer before the stage fails. */
    startTimeoutMs: z.number().int().min(100).max(600_000).default(30_000),
    /** Per check. */
    requestTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
  })
  .strict();

const failureSchema = z.object({
  name: z.string(),
  request: z.object({ method: z.string(), path: z.string(), body: z.string().optional() }),
  response: z.object({ status: z.number().nullable(), bodyExcerpt: z.string(), error: z.string().optional() }),
  problems: z.array(z.string()),
});

const outputSchema = z.object({
  summary: z.string(),
  url: z.string(),
  command: z.array(z.string()),
  passed: z.number().int(),
  failed: z.number().int(),
  checks: z.array(z.object({ name: z.string(), ok: z.boolean(), status: z.number().nullable(), durationMs: z.number() })),
  /** The first 50 failures, each with its request and the response (status, body excerpt). */
  failures: z.array(failureSchema),
  metrics: z.object({ passed: z.number().int(), failed: z.number().int() }),
});

/** A TCP port on the loopback interface that is free now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/** Installs dependencies when needed and runs the build script; a failure is E2E_BUILD_FAILED. */
async function prepare(workspace: AgentWorkspace, project: Project, cwd: string, input: z.output<typeof inputSchema>): Promise<void> {
  const steps: string[][] = [];
  if (input.install) {
    const plan = await planInstall(project);
    workspace.log(`dependencies: ${plan.reason}`);
    if (plan.needed) steps.push(plan.argv);
  }
  if (input.build && project.scripts.build) steps.push(['npm', 'run', 'build']);
  for (const [command, ...args] of steps) {
    const run = await workspace.run(command!, args, { cwd, timeoutMs: 15 * 60_000 });
    if (run.exitCode !== 0) {
      throw new UnrecoverableStageError(
        'E2E_BUILD_FAILED',
        `${command} ${args.join(' ')} ${describeEnding(run)}: ${run.output.trim().slice(-1500)}`,
      );
    }
  }
}

/** package.json `main`, when it names one. */
async function packageMain(dir: string): Promise<string | undefined> {
  try {
    return z
      .object({ main: z.string().optional() })
      .loose()
      .safeParse(JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'))).data?.main;
  } catch {
    return undefined;
  }
}

/** How to start the project: its start script, else node on its package.json main, else dist/index.js. */
async function startCommand(workspace: AgentWorkspace, project: Project, cwd: string): Promise<string[]> {
  if (project.scripts.start) return ['npm', 'start'];
  for (const candidate of [await packageMain(project.dir), 'dist/index.js']) {
    if (candidate && (await exists(await workspace.resolve(posix.join(cwd, candidate))))) return ['node', candidate];
  }
  throw new UnrecoverableStageError(
    'E2E_START_FAILED',
    'the project has no start script, no package.json main and no dist/index.js to start',
  );
}

/** Probes `url` until it answers (any status), the process exits, or `timeoutMs` passes. */
async function waitUntilAnswering(url: string, started: StartedProcess, timeoutMs: number, signal: AbortSignal) {
  let exited = false;
  void started.exited.then(() => (exited = true));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) return 'exited';
    try {
      const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.any([signal, AbortSignal.timeout(2000)]) });
      await response.arrayBuffer();
      return 'ready';
    } catch {
      signal.throwIfAborted(); // else not listening yet: probe again
    }
    if (Date.now() + PROBE_INTERVAL_MS > deadline) return 'timeout';
    // timers/promises rejects with a generic AbortError; the stage's own reason says why.
    await delay(PROBE_INTERVAL_MS, undefined, { signal }).catch((error: unknown) => {
      signal.throwIfAborted();
      throw error;
    });
  }
}

/** Creates the `e2e_test` agent (version 2.0.0). */
export function createE2eTestAgent(): Agent {
  return defineAgent({
    type: 'e2e_test',
    version: '2.0.0',
    description: 'Builds and starts the workspace service on a free port, runs HTTP checks against it and reports passed/failed.',
    workspace: true,
    input: inputSchema,
    output: outputSchema,
    handler: async ({ input, workspace, reportMetrics, progress, signal, deadline }) => {
      if (!workspace) throw new UnrecoverableStageError('AGENT_UNRECOVERABLE', 'the e2e_test agent needs the pipeline workspace');
      const dir = await workspace.resolve(input.path);
      const project = await readProject(dir);
      let checks: Check[] | null;
      try {
        checks = input.checks ?? (await readChecksFile(await workspace.resolve(posix.join(input.path, 'e2e-checks.json'))));
      } catch (error) {
        throw new UnrecoverableStageError('E2E_NO_CHECKS', (error as Error).message);
      }
      if (!checks) throw new UnrecoverableStageError('E2E_NO_CHECKS', 'no checks in the input and no e2e-checks.json in the project');

      // Under the workspace's lock: a validation stage beside this one may be installing or building.
      await workspace.exclusive('prepare', async () => prepare(workspace, await readProject(dir), input.path, input));
      await progress(30);
      const [command, ...args] = await startCommand(workspace, project, input.path);
      const port = input.port ?? (await freePort());
      const origin = `http://127.0.0.1:${port}`;
      let started: StartedProcess;
      try {
        started = await workspace.start(command!, args, { cwd: input.path, env: { PORT: String(port), NODE_ENV: 'production' } });
      } catch (error) {
        throw new UnrecoverableStageError('E2E_START_FAILED', (error as Error).message);
      }

      const results: CheckResult[] = [];
      let notServing: string | null = null;
      try {
        // Bounded by the stage's deadline, so a slow start is reported as one, not as a STAGE_TIMEOUT.
        const wait = boundByDeadline(input.startTimeoutMs, deadline);
        const state = await waitUntilAnswering(`${origin}${input.readyPath}`, started, wait.timeoutMs, signal);
        if (state === 'exited') notServing = `${[command, ...args].join(' ')} exited before answering on port ${port}`;
        if (state === 'timeout')
          notServing = `${[command, ...args].join(' ')} did not answer on port ${port} within ${wait.timeoutMs} ms${
            wait.bounded ? " (all that was left of the stage's timeoutMs)" : ''
          }`;
        if (!notServing) {
          await progress(50);
          for (const check of checks) {
            const result = await runCheck(origin, check, input.requestTimeoutMs, signal);
            workspace.log(`${result.ok ? 'PASS' : 'FAIL'} ${result.name}${result.ok ? '' : `: ${result.problems.join('; ')}`}`);
            results.push(result);
          }
        }
      } finally {
        await started.stop();
      }
      if (notServing) {
        const { output } = await started.exited;
        throw new UnrecoverableStageError('E2E_START_FAILED', `${notServing}: ${output.trim().slice(-1500) || '(no output)'}`);
      }
      await progress(100);

      const failures = results.filter((result) => !result.ok);
      const passed = results.length - failures.length;
      reportMetrics({ passed, failed: failures.length });
      return {
        // Names the failing checks and why: GATE_FAILED quotes the summary (gateFailureMessage).
        summary: `${passed} of ${results.length} checks passed against ${[command, ...args].join(' ')}${
          failures.length
            ? `; failing: ${failures
                .slice(0, 3)
                .map((f) => `${f.name} (${f.problems.join('; ')})`)
                .join(', ')}${failures.length > 3 ? `, and ${failures.length - 3} more` : ''}`
            : ''
        }`,
        url: origin,
        command: [command!, ...args],
        passed,
        failed: failures.length,
        checks: results.map(({ name, ok, response, durationMs }) => ({ name, ok, status: response.status, durationMs })),
        failures: failures
          .slice(0, MAX_FAILURES_REPORTED)
          .map(({ name, request, response, problems }) => ({ name, request, response, problems })),
        metrics: { passed, failed: failures.length },
      };
    },
  });
}
