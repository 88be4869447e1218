// The `sdlc` program: commander's parser with the global options, every command registered, and
// runCli(), which turns whatever happens into one exit code (src/cli/exit-codes.ts) and prints
// failures as one clear line on stderr, never a stack.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { loadEnvironment } from '../config/env-file.js';
import { createApiClient, type ApiClient } from './api-client.js';
import { registerAdminCommands } from './commands/admin.commands.js';
import { registerCatalogCommands } from './commands/catalog.commands.js';
import { registerOperationsCommands } from './commands/operations.commands.js';
import { registerPeopleCommands } from './commands/people.commands.js';
import { registerPipelineCommands } from './commands/pipelines.commands.js';
import { registerPauseCommands } from './commands/pause.commands.js';
import { registerRerunCommands } from './commands/rerun.commands.js';
import { registerRetentionCommands } from './commands/retention.commands.js';
import { registerScheduleCommands } from './commands/schedules.commands.js';
import { registerWebhookCommands } from './commands/webhooks.commands.js';
import { resolveConnection, type ConnectionFlags } from './connection.js';
import type { CliStdin, CommandContext } from './context.js';
import { CliError, EXIT, type ExitCode } from './exit-codes.js';
import { processOutput, type Output } from './output.js';
import { tty } from './terminal-text.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const HELP_AFTER = `
Server and key: --server/--key, else SDLC_API_URL (or API_URL; default http://127.0.0.1:$PORT, PORT 3000)
and SDLC_API_KEY, else the development key file (DEV_ADMIN_KEY_FILE, default .agentic-sdlc/admin-key);
each variable from the environment, else from the env file (.env, or ENV_FILE).

Exit codes: 0 done (pipeline succeeded)  1 failed (pipeline failed or cancelled, API error)
            2 usage error  3 waiting for a person  4 server unreachable or key missing/refused

Every command takes --help. Docs: docs/cli.md`;

export interface CliIo {
  output: Output;
  stdin: CliStdin;
  stdoutIsTty: boolean;
  columns: number | undefined;
  env: Record<string, string | undefined>;
}

export const processIo = (): CliIo => ({
  output: processOutput,
  stdin: process.stdin,
  stdoutIsTty: process.stdout.isTTY === true,
  columns: process.stdout.columns,
  env: process.env,
});

/** The program, its commands wired to `ctx`; `exitCode.value` is where actions leave their code. */
export function createProgram(io: CliIo, exitCode: { value: ExitCode }): Command {
  const program = new Command('sdlc');
  let client: ApiClient | undefined;
  const ctx: CommandContext = {
    // The real environment over the env file (.env), as the platform reads its own: a PORT set
    // there for `npm start` points the CLI at the same API.
    client: () => (client ??= createApiClient(resolveConnection(program.opts<ConnectionFlags>(), loadEnvironment(io.env).env))),
    output: io.output,
    stdin: io.stdin,
    stdoutIsTty: io.stdoutIsTty,
    columns: io.columns,
    pollMs: Number(io.env.SDLC_POLL_MS) > 0 ? Number(io.env.SDLC_POLL_MS) : 1000,
    // Unset, empty or not a number: the default (WATCH_RECONNECT_MS); 0 gives up at once.
    reconnectMs:
      io.env.SDLC_WATCH_RECONNECT_MS && Number(io.env.SDLC_WATCH_RECONNECT_MS) >= 0 ? Number(io.env.SDLC_WATCH_RECONNECT_MS) : undefined,
    exit: (code) => void (exitCode.value = code),
  };
  program
    .description('agentic-sdlc from the terminal: submit and follow pipelines, answer what waits for you, operate the platform')
    .version(VERSION, '-V, --version')
    .option('--server <url>', 'the API (default: SDLC_API_URL, API_URL, or http://127.0.0.1:$PORT)')
    .option('--key <key>', 'the API key (default: SDLC_API_KEY, or the development key file)')
    // Refused with its own message (below) rather than as an unknown option: the first CLI had it.
    .addOption(new Option('--as <identity>').hideHelp())
    .hook('preAction', () => {
      if (program.opts().as !== undefined)
        throw new CliError('--as is not accepted: the actor is the identity of your API key (--key / SDLC_API_KEY)', EXIT.usage);
    })
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .configureOutput({
      writeOut: (text) => io.output.out(text.trimEnd()),
      writeErr: (text) => io.output.err(text.trimEnd()),
    })
    .showHelpAfterError('(sdlc --help for usage)')
    .exitOverride()
    .addHelpText('after', HELP_AFTER);
  registerPipelineCommands(program, ctx);
  registerPauseCommands(program, ctx);
  registerRerunCommands(program, ctx);
  registerPeopleCommands(program, ctx);
  registerOperationsCommands(program, ctx);
  registerWebhookCommands(program, ctx);
  registerCatalogCommands(program, ctx);
  registerScheduleCommands(program, ctx);
  registerAdminCommands(program);
  registerRetentionCommands(program);
  return program;
}

/**
 * A failure of a command that runs a service in this process (`keys`): an error with a stable
 * `code` and `details` (the domain's AppError) as `CODE: message` and one `  field: message` line
 * per detail, the shape of an API error; anything else by its message.
 */
function describeLocalError(error: unknown): string {
  const e = error as { message?: unknown; code?: unknown; details?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(error);
  // Node's system errors have a code too (ENOENT) but no details, and already name it.
  if (typeof e?.code !== 'string' || !/^[A-Z][A-Z0-9_]+$/.test(e.code) || !Array.isArray(e.details)) return message;
  // A message of several lines (CONFIG_INVALID's) lists its details itself; its line breaks are
  // the platform's own and stay (Output.err escapes every other control character).
  if (message.includes('\n')) return `${e.code}: ${message}`;
  const details = e.details as { field?: unknown; message?: unknown }[];
  return [
    tty`${e.code}: ${message}`,
    ...details.filter((d) => typeof d?.message === 'string').map((d) => tty`  ${String(d.field ?? '(request)')}: ${String(d.message)}`),
  ].join('\n');
}

/** Runs one command line (argv without node and the script) and answers its exit code. */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<ExitCode> {
  const exitCode: { value: ExitCode } = { value: EXIT.ok };
  const program = createProgram(io, exitCode);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode.value;
  } catch (error) {
    // Commander has printed its own message (and the usage hint) already.
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (error instanceof CliError) {
      io.output.err(error.exitCode === EXIT.usage ? `error: ${error.message}\n(sdlc --help for usage)` : `error: ${error.message}`);
      return error.exitCode;
    }
    // keys/config/prune report their failures as plain errors with a message meant for people,
    // or as the service's own error (a code and details), printed as an API error is.
    io.output.err(`error: ${describeLocalError(error)}`);
    if (io.env.SDLC_DEBUG) io.output.err((error as Error).stack ?? '');
    return EXIT.failed;
  }
}
