// Text from the server made safe to print on a terminal: the one home of the CLI's escaping.
// Pipeline names, labels, stage errors, outputs and messages are whatever a client or an agent
// wrote; printed raw, an ESC starts a terminal escape sequence (colours, cursor moves, a changed
// window title, a hyperlink), and a CR or LF draws a line the server never sent (a fake table row
// or log line). Every control character becomes a visible escape instead: C0 (U+0000-U+001F,
// ESC, CR and LF included), DEL, C1 (U+0080-U+009F, which 8-bit terminals read as ESC [ and the
// like), and the bidirectional overrides and isolates that reorder what a line shows (U+202A-U+202E,
// U+2066-U+2069). The CLI's own escape sequences do not pass through here (Output.control).

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
// Only LF is kept, by printableLines: the other controls are escaped as in one line.
// eslint-disable-next-line no-control-regex
const CONTROL_BUT_LF = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeControl(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `text` on one line with every control character shown as an escape (`\n`, `\r`, `\t`, `\x1b`, `\u202e`). */
export function printable(text: string): string {
  return text.replace(CONTROL, escapeControl);
}

/** Like printable, but LF stays a line break: for text made of lines (a message, a help page). */
export function printableLines(text: string): string {
  return text.replace(CONTROL_BUT_LF, escapeControl);
}

/**
 * A template tag for a line of human output: every interpolated value goes through printable
 * (non-strings through String first), the literal text, which is the CLI's own, is kept as is.
 * `` tty`submitted ${p.id}  ${p.name}` ``
 */
export function tty(literals: TemplateStringsArray, ...values: readonly unknown[]): string {
  let out = literals[0]!;
  for (let i = 0; i < values.length; i++) out += printable(String(values[i])) + literals[i + 1]!;
  return out;
}
