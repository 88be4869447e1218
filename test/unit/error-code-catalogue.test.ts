// Every UPPER_SNAKE string in the source (TypeScript and SQL) is one of ours in the catalogue (ERROR_CODES), a code
// the network classifier reads, an environment variable, or one of the few codes Node and our
// libraries give us. A new code in a response, a stage error record, a replay guard or a metric
// label therefore fails here until it has a catalogue entry (and a row in
// docs/error-handling.md, which errors.test.ts checks). The classes of src/domain/errors.ts
// already refuse a code outside the catalogue at compile time; this also covers codes written
// as plain data.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { ERROR_CODES } from '../../src/domain/error-codes.js';
import { NETWORK_ERROR_CODES } from '../../src/domain/network-errors.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SOURCE_DIRS = ['src', 'workers', 'dashboard'];
const SKIPPED = new Set(['generated', 'node_modules']);

/** Codes that Node and our libraries put on their errors, which we read but never send. */
const FOREIGN_CODES = new Set([
  'HPE_HEADER_OVERFLOW', // Node's HTTP parser: headers over maxHeaderSize
  'ERR_HTTP_REQUEST_TIMEOUT', // Node's http server: requestTimeout/headersTimeout elapsed
  'ERR_ERL_', // express-rate-limit's validation warnings (a prefix)
  'ERR_MODULE_NOT_FOUND', // Node's ESM loader: an AGENT_MODULES entry that is not there
  'ERR_UNSUPPORTED_DIR_IMPORT', // Node's ESM loader: an AGENT_MODULES entry naming a folder
  'ERR_UNKNOWN_FILE_EXTENSION', // Node's ESM loader: a .ts module outside tsx
  'ERR_PARSE_ARGS_UNKNOWN_OPTION', // Node's util.parseArgs: a worker flag typo (src/lifecycle/entry-args.ts)
  'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL', // Node's util.parseArgs: a stray word
  'ERR_PARSE_ARGS_INVALID_OPTION_VALUE', // Node's util.parseArgs: a flag without its value
]);

/**
 * What the clients read or make up on their side, never sent by the API: the sdlc CLI's own
 * environment (docs/cli.md), and the dashboard's codes for an answer that is not the API's JSON
 * error (a proxy's HTML 502, say) and for no answer at all (the API unreachable).
 */
const CLIENT_SIDE = new Set(['SDLC_API_KEY', 'SDLC_API_URL', 'SDLC_POLL_MS', 'SDLC_DEBUG', 'HTTP_ERROR', 'NETWORK_ERROR']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (SKIPPED.has(name)) return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(tsx?|sql)$/.test(name) ? [path] : [];
  });
}

const ENV_EXAMPLE = readFileSync(join(ROOT, '.env.production.example'), 'utf8');
const isEnvVariable = (name: string) => new RegExp(`^#?\\s*${name}=`, 'm').test(ENV_EXAMPLE);

/** The UPPER_SNAKE literals of `text` and, of those, the ones none of the lists knows. */
function scan(text: string): { seen: number; unknown: string[] } {
  const literals = [...text.matchAll(/'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+_?)'/g)].map((match) => match[1]!);
  const known = (literal: string) =>
    Object.hasOwn(ERROR_CODES, literal) ||
    Object.hasOwn(NETWORK_ERROR_CODES, literal) ||
    isEnvVariable(literal) ||
    FOREIGN_CODES.has(literal) ||
    CLIENT_SIDE.has(literal);
  return { seen: literals.length, unknown: literals.filter((literal) => !known(literal)) };
}

describe('error code catalogue (unit)', () => {
  it('every UPPER_SNAKE literal in the source is catalogued, a network code, an env variable or a foreign code', () => {
    const files = SOURCE_DIRS.map((dir) => join(ROOT, dir))
      .filter(existsSync)
      .flatMap(sourceFiles);
    expect(files.length, 'source files scanned').to.be.greaterThan(50);
    const unknown: string[] = [];
    let seen = 0;
    for (const file of files) {
      const found = scan(readFileSync(file, 'utf8'));
      seen += found.seen;
      unknown.push(...found.unknown.map((literal) => `${file.slice(ROOT.length)}: ${literal}`));
    }
    expect(seen, 'literals found').to.be.greaterThan(100);
    expect(unknown, 'add them to ERROR_CODES (src/domain/error-codes.ts) and docs/error-handling.md').to.deep.equal([]);
  });

  it('the scan flags a code outside the catalogue (the INTERNAL_ERROR metric label it replaced) and passes the others', () => {
    const sample = `metrics.stageRun({ failureCode: 'INTERNAL_ERROR' });
      throw new NotFoundError('PIPELINE_NOT_FOUND', 'no');
      if (error.code === 'ECONNREFUSED' || error.code === 'HPE_HEADER_OVERFLOW') read('WEBHOOK_SECRET');`;
    expect(scan(sample)).to.deep.equal({ seen: 4, unknown: ['INTERNAL_ERROR'] });
  });
});
