// Where a command writes: stdout for results, stderr for diagnostics and prompts. Commands take an
// Output so that what they print is decided in one place per command, text or `--json`. Human
// text is escaped on its way out (src/cli/terminal-text.ts) as a backstop: a server string that
// reached a line without its own escaping still cannot send a terminal escape sequence.
import { printableLines } from './terminal-text.js';

export interface Output {
  /** Lines for people on stdout: control characters other than LF are shown escaped. */
  out(text: string): void;
  /** Lines for people on stderr, escaped as `out`. */
  err(text: string): void;
  /** One JSON document on stdout, indented for people who pipe it to less. */
  json(value: unknown): void;
  /** A terminal control sequence of the CLI's own (a redraw's cursor move, a colour), on stdout as is. */
  control(sequence: string): void;
}

export const processOutput: Output = {
  out: (text) => void process.stdout.write(`${printableLines(text)}\n`),
  err: (text) => void process.stderr.write(`${printableLines(text)}\n`),
  json: (value) => void process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
  control: (sequence) => void process.stdout.write(sequence),
};
