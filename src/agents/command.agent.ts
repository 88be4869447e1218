// The `command` agent: runs one program the deployment allows with an argument array in the
// pipeline's workspace (never a shell string), with a timeout, a working directory inside the
// workspace, an environment allow-list and capped output; its exit code decides the stage.
import { z } from 'zod';
import { AgentError, UnrecoverableStageError } from '../domain/errors.js';
import { describeEnding } from './agent-workspace.js';
import { defineAgent, type Agent } from './define-agent.js';

/** The longest a stage may let a command run: a stage that needs more should be split. */
export const MAX_COMMAND_TIMEOUT_MS = 60 * 60_000;
const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const DEFAULT_OUTPUT_CAP_BYTES = 64 * 1024;
/** How much of the output an error message quotes (the whole capped output is in the stage log). */
const MESSAGE_EXCERPT_CHARS = 2000;
/**
 * A program name or path: no whitespace, quotes or shell metacharacters. No shell ever parses it,
 * so these could only come from someone who expected one; refusing says so at submission.
 */
const PROGRAM = /^[^\s;&|`$<>(){}[\]*?!~'"\\#]+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface CommandAgentOptions {
  /**
   * The programs a stage may run, compared exactly with `input.command` as written (`npm`,
   * `/usr/bin/git`; PATH is not resolved). Required; empty: every `command` stage is refused.
   */
  allowedPrograms: readonly string[];
  /** The environment variables a stage may set (`input.env`); any other name is refused at submission. Default none. */
  envAllowList?: readonly string[];
  /** The timeout of a stage that sets none (default 10 minutes, at most 1 hour). */
  defaultTimeoutMs?: number;
  /** Kept bytes of combined output (default 64 KiB; the end is kept, the whole output goes to the stage log). */
  outputCapBytes?: number;
}

const outputSchema = z.object({
  command: z.string(),
  args: z.array(z.string()),
  /** The working directory, relative to the workspace root ('' for the root). */
  cwd: z.string(),
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  timedOut: z.boolean(),
  durationMs: z.number(),
  /** The end of the combined stdout and stderr, cut to the agent's output cap. */
  output: z.string(),
  truncated: z.boolean(),
});

/** Why `command` may not run, naming the variable that would allow it; undefined when it is allowed. */
function refusal(command: string, allowedPrograms: ReadonlySet<string>): string | undefined {
  if (allowedPrograms.has(command)) return undefined;
  const allowed = allowedPrograms.size ? [...allowedPrograms].join(', ') : 'none';
  return `program ${command} is not in the command agent's COMMAND_ALLOWED_PROGRAMS (allowed: ${allowed}); ask the operator to list it`;
}

function inputSchema(envAllowList: ReadonlySet<string>, allowedPrograms: ReadonlySet<string>) {
  return z
    .object({
      command: z
        .string()
        .min(1)
        .max(4096)
        .regex(PROGRAM, {
          error:
            'must be a program name or path without whitespace, quotes or shell metacharacters: no shell runs it; put arguments in `args`',
        })
        // Any program is the worker's whole host (sh -c, node -e, cat of a secret): only the listed ones run.
        .refine((command) => refusal(command, allowedPrograms) === undefined, {
          error: (issue) => refusal(String(issue.input), allowedPrograms),
        }),
      args: z.array(z.string().max(32_768)).max(1000).default([]),
      /** A folder relative to the workspace root; one resolving outside it fails with WORKSPACE_PATH_ESCAPE. */
      cwd: z.string().max(4096).optional(),
      timeoutMs: z.number().int().min(1).max(MAX_COMMAND_TIMEOUT_MS).optional(),
      env: z.record(z.string().regex(ENV_NAME), z.string().max(32_768)).default({}),
      expectExitCode: z.number().int().min(0).max(255).default(0),
      /** Make a failed or timed-out command a retryable failure (the stage's retry policy applies). */
      retryOnFailure: z.boolean().default(false),
    })
    .strict()
    .superRefine((input, ctx) => {
      for (const name of Object.keys(input.env)) {
        if (envAllowList.has(name)) continue;
        const allowed = envAllowList.size ? [...envAllowList].join(', ') : 'none';
        ctx.addIssue({
          code: 'custom',
          path: ['env', name],
          message: `environment variable ${name} is not in the command agent's allow-list (allowed: ${allowed})`,
        });
      }
    });
}

const excerpt = (output: string) => (output.length > MESSAGE_EXCERPT_CHARS ? `…${output.slice(-MESSAGE_EXCERPT_CHARS)}` : output);

/** The `command` agent; `allowedPrograms` and `envAllowList` come from the deployment, never from a stage. */
export function createCommandAgent(options: CommandAgentOptions): Agent {
  const { defaultTimeoutMs = DEFAULT_TIMEOUT_MS, outputCapBytes = DEFAULT_OUTPUT_CAP_BYTES } = options;
  if (defaultTimeoutMs < 1 || defaultTimeoutMs > MAX_COMMAND_TIMEOUT_MS) {
    throw new Error(`command agent: defaultTimeoutMs must be between 1 and ${MAX_COMMAND_TIMEOUT_MS}`);
  }
  const envAllowList = new Set(options.envAllowList ?? []);
  const allowedPrograms = new Set(options.allowedPrograms);
  const agent = defineAgent({
    type: 'command',
    version: '1.0.0',
    description:
      'Runs one program listed in COMMAND_ALLOWED_PROGRAMS with an argument array in the pipeline workspace (no shell) and fails unless it exits as expected.',
    workspace: true,
    input: inputSchema(envAllowList, allowedPrograms),
    output: outputSchema,
    handler: async ({ input, workspace, reportMetrics, logger }) => {
      if (!workspace) throw new UnrecoverableStageError('AGENT_UNRECOVERABLE', 'the command agent runs only with a workspace');
      const timeoutMs = input.timeoutMs ?? defaultTimeoutMs;
      const run = await workspace.run(input.command, input.args, { cwd: input.cwd, timeoutMs, env: input.env, outputCapBytes });
      reportMetrics({ durationMs: run.durationMs, timedOut: run.timedOut, ...(run.exitCode === null ? {} : { exitCode: run.exitCode }) });
      const result = { ...run, args: [...run.args] };
      const retryable = input.retryOnFailure;
      const named = [input.command, ...input.args].join(' ').slice(0, 200);
      if (run.timedOut) {
        logger.warn('command timed out', { command: input.command, timeoutMs });
        const message = `${named} was killed: it ${describeEnding(run)}; output:\n${excerpt(run.output)}`;
        throw retryable
          ? new AgentError('COMMAND_TIMEOUT', message, { retryable: true })
          : new UnrecoverableStageError('COMMAND_TIMEOUT', message);
      }
      if (run.exitCode !== input.expectExitCode) {
        const message = `${named} ${describeEnding(run)} (expected ${input.expectExitCode}); output:\n${excerpt(run.output)}`;
        throw retryable
          ? new AgentError('COMMAND_FAILED', message, { retryable: true })
          : new UnrecoverableStageError('COMMAND_FAILED', message);
      }
      return result;
    },
  });
  return {
    ...agent,
    // Defence in depth for a job queued before the list changed: execute() parses the input with
    // the schema above before the handler runs, so the refusal is made here, first, under its own
    // code rather than as a generic AGENT_INPUT_INVALID.
    execute: async (input, ctx, version) => {
      const why = typeof input.command === 'string' ? refusal(input.command, allowedPrograms) : undefined;
      if (why) throw new UnrecoverableStageError('COMMAND_NOT_ALLOWED', why);
      return agent.execute(input, ctx, version);
    },
  };
}
