// The fenced blocks of a Markdown file, each classified by the `<!-- readme-examples: … -->`
// marker on the line right before it (test/e2e/readme-examples.test.ts runs them), and the
// comparison of a JSON block shown as a command's output with what the command printed.

/**
 * `shell`: an sh/bash block without a marker, run as printed; `output`: what the block above
 * prints; `processes`: one long-running process per line; `pipeline`: a definition to submit;
 * `excluded`: `not run: <reason>`; `unmarked`: anything else (another language without a marker,
 * an unknown marker, or `not run:` without a reason).
 */
export type Kind = 'shell' | 'output' | 'processes' | 'pipeline' | 'excluded' | 'unmarked';

export interface Block {
  /** The `##` heading it sits under (a `###` belongs to its `##`). */
  section: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  text: string;
  kind: Kind;
  /** The marker comment's text after `readme-examples:`, if any. */
  marker?: string;
}

const MARKER = /^<!--\s*readme-examples:\s*(.*?)\s*-->$/;

/** The fenced blocks of a Markdown text, in order. */
export function readFencedBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  let section = '(top)';
  for (let i = 0; i < lines.length; i++) {
    const heading = /^## (.+)$/.exec(lines[i]!);
    if (heading) section = heading[1]!.trim();
    const open = /^\s*```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !/^\s*```\s*$/.test(lines[j]!)) body.push(lines[j++]!);
    const marker = MARKER.exec((lines[i - 1] ?? '').trim())?.[1];
    const lang = open[1]!.toLowerCase();
    blocks.push({ section, line: i + 1, lang, text: body.join('\n'), kind: classify(lang, marker), marker });
    i = j;
  }
  return blocks;
}

function classify(lang: string, marker: string | undefined): Kind {
  if (marker === undefined) return ['sh', 'bash', 'shell'].includes(lang) ? 'shell' : 'unmarked';
  if (/^not run:\s*\S/.test(marker)) return 'excluded';
  if (/^output\b/.test(marker)) return 'output';
  if (/^processes\b/.test(marker)) return 'processes';
  if (/^pipeline definition\b/.test(marker)) return 'pipeline';
  return 'unmarked';
}

/** `shown` (the README's JSON, "…" standing for any text) against `actual`: the differences, by path. */
export function diffShownOutput(shown: unknown, actual: unknown, path = '$'): string[] {
  if (typeof shown === 'string' && shown.includes('…')) {
    const pattern = new RegExp(
      `^${shown
        .split('…')
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('[\\s\\S]*')}$`,
    );
    return typeof actual === 'string' && pattern.test(actual)
      ? []
      : [`${path}: shown ${JSON.stringify(shown)}, got ${JSON.stringify(actual)}`];
  }
  if (Array.isArray(shown)) {
    if (!Array.isArray(actual) || actual.length !== shown.length)
      return [`${path}: shown ${shown.length} item(s), got ${JSON.stringify(actual)}`];
    return shown.flatMap((item, i) => diffShownOutput(item, actual[i], `${path}[${i}]`));
  }
  if (shown !== null && typeof shown === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual))
      return [`${path}: shown an object, got ${JSON.stringify(actual)}`];
    const keys = new Set([...Object.keys(shown), ...Object.keys(actual)]);
    return [...keys].flatMap((key) =>
      key in shown && key in actual
        ? diffShownOutput((shown as Record<string, unknown>)[key], (actual as Record<string, unknown>)[key], `${path}.${key}`)
        : [`${path}.${key}: ${key in shown ? 'shown but not printed' : 'printed but not shown'}`],
    );
  }
  return shown === actual ? [] : [`${path}: shown ${JSON.stringify(shown)}, got ${JSON.stringify(actual)}`];
}
