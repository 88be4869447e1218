// `npm run config:docs`: writes the variable tables of docs/configuration.md (between its
// markers) and the whole .env.production.example from the registry. test/unit/config-docs.test.ts
// fails when either file differs from what this would write.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONFIG_DOC_FILE, withVariableTables } from './config-tables.js';
import { ENV_EXAMPLE_FILE, renderEnvExample } from './env-example.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function writeIfChanged(path: string, content: string): void {
  const file = `${ROOT}${path}`;
  const before = readFileSync(file, 'utf8');
  if (before === content) return void process.stdout.write(`${path}: up to date\n`);
  writeFileSync(file, content);
  process.stdout.write(`${path}: written\n`);
}

writeIfChanged(CONFIG_DOC_FILE, withVariableTables(readFileSync(`${ROOT}${CONFIG_DOC_FILE}`, 'utf8')));
writeIfChanged(ENV_EXAMPLE_FILE, renderEnvExample());
