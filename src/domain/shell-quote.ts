// Words the platform prints for people to paste into a POSIX shell (the `Try it` line of
// `npm start`, the demo's approve and stop commands): a path such as a checkout under
// "My Projects" must reach the command as one word, whatever it holds.

/** Characters a word may hold and still be one shell word, unquoted, with no expansion. */
const PLAIN_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * `word` as one POSIX shell word: unchanged when it holds only characters the shell leaves alone,
 * else in single quotes, each `'` written as `'\''`. Safe inside `$(…)` and in a double-quoted string.
 */
export function shellQuote(word: string): string {
  if (PLAIN_WORD.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
