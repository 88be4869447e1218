// `.env.production.example`, rendered from the registry (`npm run config:docs` writes it): every
// variable with its description as a comment, secrets as recognisable `change-me-…` placeholders
// that production refuses. Pure.
import { parseEnv } from 'node:util';
import { describeBounds } from './bounds.js';
import { GROUPS, VARIABLES } from './registry.js';
import { urlPassword } from './secret-values.js';
import { defaultFor, type VariableSpec } from './variable.js';

export const ENV_EXAMPLE_FILE = '.env.production.example';
/** What every placeholder contains; production refuses a secret that does. */
export const PLACEHOLDER_MARK = 'change-me';

const WIDTH = 100;

/** The markdown of a description as plain text for a comment: links keep their target, code marks go. */
export function plainText(markdown: string): string {
  return markdown
    .replace(/\[([^\]]+)\]\(([^)]+)\)/g, (_m, label: string, target: string) => {
      const path = /^https?:/.test(target) ? target : `docs/${target}`;
      // `[security.md](security.md#x)` says the file twice: keep the path alone.
      return target.startsWith(label) ? path : `${label} (${path})`;
    })
    .replace(/\*\*/g, '')
    .replace(/`/g, '');
}

function wrap(text: string, prefix: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && prefix.length + line.length + 1 + word.length > WIDTH) {
      lines.push(prefix + line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(prefix + line);
  return lines;
}

/** The value the example gives a variable: its `example`, a placeholder for a secret, else its production default. */
export function exampleValueOf(spec: VariableSpec): string {
  if (spec.example !== undefined) return spec.example;
  if (spec.secret) return `${PLACEHOLDER_MARK}-${spec.name.toLowerCase().replace(/_/g, '-')}`;
  return defaultFor(spec, 'production') ?? '';
}

/** Secrets without a production default are optional: their line is commented out, so a copy does not turn them on. */
function isCommentedOut(spec: VariableSpec): boolean {
  return spec.secret && spec.example === undefined;
}

function variableLines(spec: VariableSpec): string[] {
  const bounds = describeBounds(spec);
  const facts = [plainText(spec.type), bounds && `production: ${bounds}`, spec.secret && 'secret'].filter(Boolean);
  return [
    ...wrap(`${plainText(spec.description)} [${facts.join('; ')}]`, '# '),
    `${isCommentedOut(spec) ? '# ' : ''}${spec.name}=${exampleValueOf(spec)}`,
  ];
}

/** The whole of `.env.production.example`. */
export function renderEnvExample(): string {
  const header = [
    '# Production environment of agentic-sdlc: every variable the platform reads, with its production',
    '# default. GENERATED from src/config/variables/ by `npm run config:docs`: do not edit by hand.',
    '# Copy it to .env (never commit that file) or give the variables to your orchestrator, then replace',
    `# every ${PLACEHOLDER_MARK}-… placeholder: production refuses to start while one is left. An empty`,
    '# value means "use the default"; a commented-out line is an optional secret.',
    '# Reference: docs/configuration.md.',
  ];
  const groups = GROUPS.flatMap((group) => [
    '',
    `# ── ${group} ${'─'.repeat(Math.max(3, WIDTH - group.length - 6))}`,
    ...VARIABLES.filter((spec) => spec.group === group).flatMap((spec) => ['', ...variableLines(spec)]),
  ]);
  return `${[...header, ...groups].join('\n')}\n`;
}

/**
 * The placeholder values of an example file's text: each value (commented-out lines included)
 * holding the placeholder mark, and the passwords inside its URLs. Production refuses them.
 */
export function placeholdersIn(exampleText: string): Set<string> {
  const uncommented = exampleText.replace(/^#\s*(?=[A-Z][A-Z0-9_]*=)/gm, '');
  const values = Object.values(parseEnv(uncommented)).filter((value): value is string => value !== undefined);
  const found = new Set<string>();
  for (const value of values) {
    if (value.includes(PLACEHOLDER_MARK)) found.add(value);
    const password = urlPassword(value);
    if (password !== undefined) found.add(password);
  }
  return found;
}
