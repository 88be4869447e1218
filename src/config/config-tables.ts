// The generated part of docs/configuration.md: a table per group of variables (name, type,
// default per profile, secret, production bounds, description), between two marker comments that
// `npm run config:docs` rewrites. Pure.
import { describeBounds } from './bounds.js';
import { PROFILES } from './profile.js';
import { GROUPS, VARIABLES } from './registry.js';
import { defaultFor, hasProfileDefaults, type VariableSpec } from './variable.js';

export const CONFIG_DOC_FILE = 'docs/configuration.md';
export const BEGIN_MARK = '<!-- BEGIN GENERATED: variable tables. Edit src/config/variables/*.ts, then run `npm run config:docs`. -->';
export const END_MARK = '<!-- END GENERATED: variable tables -->';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function code(value: string | undefined): string {
  if (value === undefined) return '*(unset)*';
  return value === '' ? '*(empty)*' : `\`${value}\``;
}

function defaultCell(spec: VariableSpec): string {
  if (!hasProfileDefaults(spec)) return code(defaultFor(spec, 'production'));
  return PROFILES.map((profile) => `${profile}: ${code(defaultFor(spec, profile))}`).join('<br>');
}

function row(spec: VariableSpec): string {
  const cells = [
    `\`${spec.name}\``,
    spec.type,
    defaultCell(spec),
    spec.secret ? 'yes' : 'no',
    describeBounds(spec) ?? '',
    spec.description,
  ];
  return `| ${cells.map(cell).join(' | ')} |`;
}

/** The tables, markers included. */
export function renderVariableTables(): string {
  const sections = GROUPS.map((group) =>
    [
      `### ${group}`,
      '',
      '| Variable | Type | Default | Secret | Production bounds | Description |',
      '|---|---|---|---|---|---|',
      ...VARIABLES.filter((spec) => spec.group === group).map(row),
    ].join('\n'),
  );
  return [BEGIN_MARK, '', sections.join('\n\n'), '', END_MARK].join('\n');
}

/** `document` with the text between the markers (markers included) replaced by freshly rendered tables. */
export function withVariableTables(document: string): string {
  const begin = document.indexOf(BEGIN_MARK);
  const end = document.indexOf(END_MARK);
  if (begin === -1 || end < begin)
    throw new Error(`${CONFIG_DOC_FILE} has lost its generated-section markers (${BEGIN_MARK} … ${END_MARK})`);
  return document.slice(0, begin) + renderVariableTables() + document.slice(end + END_MARK.length);
}
