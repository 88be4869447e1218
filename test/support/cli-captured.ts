// Runs the `sdlc` CLI in this process (runCli), its output captured: what a test of one command
// reads back, with no terminal (stdout is not a TTY, no width) and the given environment only.
import { runCli, type CliIo } from '../../src/cli/program.js';

export interface CapturedRun {
  code: number;
  /** stdout's lines, joined. */
  out: string;
  /** stderr's lines, joined. */
  err: string;
  /** Both in the order written, stderr's lines prefixed `stderr: `. */
  all: string;
}

export async function runCliCaptured(args: string[], env: Record<string, string> = {}): Promise<CapturedRun> {
  const out: string[] = [];
  const err: string[] = [];
  const all: string[] = [];
  const io: CliIo = {
    output: {
      out: (text) => void (out.push(text), all.push(text)),
      err: (text) => void (err.push(text), all.push(`stderr: ${text}`)),
      json: () => undefined,
      control: () => undefined,
    },
    stdin: process.stdin,
    stdoutIsTty: false,
    columns: undefined,
    env,
  };
  const code = await runCli(args, io);
  return { code, out: out.join('\n'), err: err.join('\n'), all: all.join('\n') };
}
