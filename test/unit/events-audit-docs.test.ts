// The vocabularies a client filters on, as the docs list them: every audit action and target type
// GET /api/v1/audit accepts (docs/api.md), and every event type with its audit and webhook marks
// (docs/events-and-webhooks.md). A filter value missing from the docs is one an integrator never
// learns to ask for; one the API refuses is a 400 they were told would work.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { AUDIT_ACTIONS } from '../../src/services/identity.ports.js';
import { AUDIT_TARGET_TYPES } from '../../src/http/contract/audit.schema.js';
import { AUDIT_EVENT_TYPES, EVENT_TYPES, WEBHOOK_EVENT_TYPES } from '../../src/domain/events.js';

const doc = (name: string) => readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8');
const codesIn = (text: string) => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

/** The backticked values of the `| \`param\` | values | …` row of the GET /api/v1/audit query table. */
function auditParamValues(param: string): string[] {
  const text = doc('api.md');
  const section = text.slice(text.indexOf('### `GET /api/v1/audit`'));
  const row = section.split('\n').find((line) => line.startsWith(`| \`${param}\` |`));
  expect(row, `the ${param} row of the GET /api/v1/audit table`).to.be.a('string');
  // Cells split on `|` not escaped: the values cell separates them with `\|`.
  return codesIn(row!.split(/(?<!\\)\|/)[2]!);
}

describe('events and audit vocabularies in the docs (unit)', () => {
  it('docs/api.md lists every action GET /api/v1/audit filters on, and no other', () => {
    expect(auditParamValues('action')).to.have.members([...AUDIT_ACTIONS]);
  });

  it('docs/api.md lists every targetType GET /api/v1/audit filters on, and no other', () => {
    expect(auditParamValues('targetType')).to.have.members([...AUDIT_TARGET_TYPES]);
  });

  it('docs/events-and-webhooks.md lists every event type, with the audit and webhook marks the code has', () => {
    const rows = doc('events-and-webhooks.md')
      .split('\n')
      .filter((line) => /^\| `[a-z]+\.[a-z_]+` \|/.test(line))
      .map((line) => line.split('|').map((cell) => cell.trim()));
    const types = rows.map((cells) => codesIn(cells[1]!)[0]!);
    expect(types).to.have.members(EVENT_TYPES.filter((t) => t !== 'unknown'));
    const marked = (column: number) => rows.filter((cells) => cells[column] === '✓').map((cells) => codesIn(cells[1]!)[0]!);
    expect(marked(3), 'Audit column').to.have.members([...AUDIT_EVENT_TYPES]);
    expect(marked(4), 'Webhook column').to.have.members([...WEBHOOK_EVENT_TYPES]);
  });
});
