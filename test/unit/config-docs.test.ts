// The generated configuration docs are never stale: the variable tables of docs/configuration.md
// and the whole .env.production.example are rendered again in memory from the registry and
// compared with the files; a difference names the command that rewrites them.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { BEGIN_MARK, CONFIG_DOC_FILE, END_MARK, withVariableTables } from '../../src/config/config-tables.js';
import { ENV_EXAMPLE_FILE, renderEnvExample } from '../../src/config/env-example.js';
import { VARIABLES } from '../../src/config/registry.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(`${ROOT}${path}`, 'utf8');
const STALE = 'is out of date: run `npm run config:docs` (after changing src/config/variables/*.ts) and commit the result';

describe('generated configuration docs (unit)', () => {
  it(`${CONFIG_DOC_FILE}: the variable tables are what the registry renders`, () => {
    const doc = read(CONFIG_DOC_FILE);
    expect(doc, 'the markers are there').to.contain(BEGIN_MARK).and.contain(END_MARK);
    expect(doc === withVariableTables(doc), `${CONFIG_DOC_FILE} ${STALE}`).to.equal(true);
    for (const spec of VARIABLES) expect(doc, spec.name).to.contain(`| \`${spec.name}\` |`);
  });

  it(`${ENV_EXAMPLE_FILE}: the whole file is what the registry renders, every variable in it`, () => {
    const example = read(ENV_EXAMPLE_FILE);
    expect(example === renderEnvExample(), `${ENV_EXAMPLE_FILE} ${STALE}`).to.equal(true);
    for (const spec of VARIABLES) expect(example, spec.name).to.match(new RegExp(`^(# )?${spec.name}=`, 'm'));
  });

  it('the guide keeps its "Encrypted values" section and names the production refusals', () => {
    const doc = read(CONFIG_DOC_FILE);
    expect(doc).to.match(/^## Encrypted values$/m);
    expect(doc).to.match(/^## Production refusals$/m);
  });
});
