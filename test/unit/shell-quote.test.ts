// shellQuote: a path printed for people to paste (npm start's `Try it` line, the demo's approve and
// stop commands) reaches the shell as one word, checked by running real bash on it.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { shellQuote } from '../../src/domain/shell-quote.js';

const run = promisify(execFile);

const WORDS = [
  '/home/ann/My Projects/agentic-sdlc/.agentic-sdlc/admin-key',
  "/Users/o'brien/agentic-sdlc/.agentic-sdlc/admin-key",
  '/tmp/$HOME `id` "x" \\ ; & | * ? ~ ! # ( ) < >',
  'tab\there',
];

describe('shellQuote (unit)', () => {
  it('a plain path is printed unchanged', () => {
    expect(shellQuote('/tmp/nu-clone/.agentic-sdlc/admin-key')).to.equal('/tmp/nu-clone/.agentic-sdlc/admin-key');
    expect(shellQuote('.agentic-sdlc/demo-manager-key')).to.equal('.agentic-sdlc/demo-manager-key');
  });

  it('a word with spaces, quotes or shell characters comes back from bash as that one word', async () => {
    for (const word of WORDS) {
      const { stdout } = await run('bash', ['-c', `printf '%s|' ${shellQuote(word)}`]);
      expect(stdout, word).to.equal(`${word}|`);
    }
  });

  it('inside "$(cat …)", as the Try it line uses it, the file under a folder with a space and a quote is read', async () => {
    const dir = await mkdtemp(join(tmpdir(), "shell quote's-"));
    try {
      const file = join(dir, 'admin-key');
      await writeFile(file, 'sdlc_key\n');
      const { stdout } = await run('bash', ['-c', `printf '%s' "Bearer $(cat ${shellQuote(file)})"`]);
      expect(stdout).to.equal('Bearer sdlc_key');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
