// The library's public API: a small typed function to start from.

export interface SlugifyOptions {
  /** Joins the words (default '-'). */
  separator?: string;
  /** Longest result, cut at a word boundary when possible (default unlimited). */
  maxLength?: number;
}

/** Turns `text` into a lowercase, URL-safe slug: accents dropped, words joined by the separator. */
export function slugify(text: string, { separator = '-', maxLength = Infinity }: SlugifyOptions = {}): string {
  const words = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  let slug = '';
  for (const word of words) {
    const next = slug ? `${slug}${separator}${word}` : word;
    if (next.length > maxLength) return slug || word.slice(0, maxLength);
    slug = next;
  }
  return slug;
}
