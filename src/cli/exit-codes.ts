// The exit codes of the `sdlc` CLI, the one place they are decided (docs/cli.md, "Exit codes").
// Scripts branch on them, so a code keeps its meaning once published.

export const EXIT = {
  /** The command did what was asked; for a pipeline: it succeeded. */
  ok: 0,
  /** The pipeline failed or was cancelled, or the API refused the request. */
  failed: 1,
  /** The command line was wrong: unknown command or option, missing argument, bad value. */
  usage: 2,
  /** The pipeline waits on a person: an open decision or clarification. */
  waitingForPerson: 3,
  /** No answer from the server, or the key was missing or refused (401). */
  unreachable: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An expected failure: its message is printed alone (no stack) and the process exits with `exitCode`. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.failed,
    /** The API could not be reached, or answered 502/503/504: worth asking again a moment later. */
    readonly transient = false,
  ) {
    super(message);
  }
}

/** A wrong command line, answered like commander's own usage errors. */
export const usageError = (message: string): CliError => new CliError(message, EXIT.usage);
