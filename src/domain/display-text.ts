// Strings that are shown to people as they are (a pipeline's name, its label values): one line of
// text with no control characters, which would break the line or drive the terminal it is printed
// on (LF, CR, ESC; docs/api.md). Refused at submission rather than rewritten: a stored value is
// what the client sent.

/** C0 controls (tab, CR, LF and ESC among them), DEL and the C1 controls. */
// eslint-disable-next-line no-control-regex
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

export const CONTROL_CHARACTER_MESSAGE = 'control characters (U+0000-U+001F, U+007F-U+009F: tab, line breaks, ESC) are not accepted';

/** True when `text` has no control character. */
export function isDisplayText(text: string): boolean {
  return !CONTROL_CHARACTER.test(text);
}

/**
 * Prose people write for other people (a decision's comment, a clarification's answer): several
 * lines may be, so tab, LF and CR are kept, but not the controls that drive the terminal the CLI
 * prints it on (ESC starts colour and cursor sequences) or that hide text (BEL, backspace, C1).
 */
// eslint-disable-next-line no-control-regex
export const PROSE_CONTROL_CHARACTER = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

export const PROSE_CONTROL_CHARACTER_MESSAGE =
  'control characters other than tab and line breaks (U+0000-U+001F, U+007F-U+009F: ESC, BEL, backspace) are not accepted';

/** True when `text` has no control character but tab, LF and CR. */
export function isProseText(text: string): boolean {
  return !PROSE_CONTROL_CHARACTER.test(text);
}
