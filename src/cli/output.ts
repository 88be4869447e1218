// Where a command writes: stdout for results, stderr for diagnostics and prompts. Commands take an
// Output so that what they print is decided in one place per command, text or `--json`.

export interface Output {
  out(text: string): void;
  err(text: string): void;
  /** One JSON document on stdout, indented for people who pipe it to less. */
  json(value: unknown): void;
}

export const processOutput: Output = {
  out: (text) => void process.stdout.write(`${text}\n`),
  err: (text) => void process.stderr.write(`${text}\n`),
  json: (value) => void process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
};
