// The Prefer request header (RFC 7240) of POST /pipelines: `return=minimal` asks for a short
// answer (what a client needs to follow the pipeline) instead of the whole document. The answer
// says it honoured the preference with `Preference-Applied: return=minimal`.
import type { Request, Response } from 'express';

/**
 * True when the request's first `return` preference is `minimal` (RFC 7240 §4.2). Preference
 * names and their values compare without regard to case, a value may be quoted, the header may be
 * sent several times (its values are one list), and a preference given twice counts once: the
 * first (§2). Anything else, `return=representation` and unknown or malformed preferences
 * included, is not understood and ignored, as §2 requires: the whole pipeline is answered.
 */
export function prefersMinimalReturn(req: Request): boolean {
  const values = req.headersDistinct.prefer;
  if (!values) return false;
  for (const value of values) {
    for (const preference of splitOutsideQuotes(value, ',')) {
      // Parameters after `;` (none are defined for `return`) are left out.
      const [head = ''] = splitOutsideQuotes(preference, ';');
      const at = head.indexOf('=');
      const name = (at < 0 ? head : head.slice(0, at)).trim().toLowerCase();
      if (name !== 'return') continue;
      const raw = at < 0 ? '' : head.slice(at + 1).trim();
      const unquoted = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
      return unquoted.toLowerCase() === 'minimal';
    }
  }
  return false;
}

/** Marks an answer that honours `return=minimal`. */
export function applyMinimalReturn(res: Response): void {
  res.setHeader('Preference-Applied', 'return=minimal');
}

/** `text` split on `separator`, except inside double quotes (with `\` escapes). */
function splitOutsideQuotes(text: string, separator: ',' | ';'): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === separator) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}
