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
