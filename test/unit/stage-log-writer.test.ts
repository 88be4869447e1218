// The stage log writer: lines buffered and stored in chunks (at the size threshold and at close),
// in order, capped per stage across attempts with one "[log truncated]" line; and the
// `input.repository` check that names the field.
import { expect } from 'chai';
import { createStageLogWriter, TRUNCATED_LINE } from '../../src/services/stage-log-writer.js';
import type { StageLogChunk, StageLogStore } from '../../src/services/workspace.ports.js';
import { repositoryProblems } from '../../src/domain/workspace-repository.js';

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

function memoryStore(): StageLogStore & { chunks: StageLogChunk[] } {
  const chunks: StageLogChunk[] = [];
  return {
    chunks,
    async bytesKept(stageId) {
      return chunks.filter((c) => c.stageId === stageId).reduce((sum, c) => sum + Buffer.byteLength(c.text), 0);
    },
    async append(chunk) {
      chunks.push(chunk);
    },
  };
}

describe('stage log writer (unit)', () => {
  it('close stores the buffered lines as one chunk, in order', async () => {
    const store = memoryStore();
    const log = createStageLogWriter({ store, maxBytes: 1 << 20, logger: silent }).open({ stageId: 's1', runId: 'r1', attempt: 1 });
    log.append('one');
    log.append('two');
    await log.close();
    log.append('after close');
    expect(store.chunks).to.deep.equal([{ stageId: 's1', runId: 'r1', attempt: 1, seq: 1, text: 'one\ntwo\n' }]);
  });

  it('a chunk is written once flushBytes wait; seq numbers follow', async () => {
    const store = memoryStore();
    const log = createStageLogWriter({ store, maxBytes: 1 << 20, logger: silent, flushBytes: 8 }).open({
      stageId: 's',
      runId: 'r',
      attempt: 1,
    });
    log.append('12345678');
    log.append('abc');
    await log.close();
    expect(store.chunks.map((c) => [c.seq, c.text])).to.deep.equal([
      [1, '12345678\n'],
      [2, 'abc\n'],
    ]);
  });

  it('past STAGE_LOG_MAX_BYTES: cut at a line, one [log truncated] line, later attempts add nothing', async () => {
    const store = memoryStore();
    const writer = createStageLogWriter({ store, maxBytes: 30, logger: silent });
    const first = writer.open({ stageId: 's', runId: 'r1', attempt: 1 });
    for (let i = 0; i < 10; i++) first.append(`line ${i}`);
    await first.close();
    const second = writer.open({ stageId: 's', runId: 'r2', attempt: 2 });
    second.append('more');
    await second.close();
    expect(store.chunks).to.have.length(1);
    expect(store.chunks[0]!.text).to.equal(`line 0\nline 1\nline 2\nline 3\n${TRUNCATED_LINE}\n`);
  });
});

describe('input.repository check (unit)', () => {
  it('accepts git URLs and absolute paths', () => {
    for (const url of [
      'https://github.com/o/r.git',
      'ssh://git@host/o/r.git',
      'ssh://host:2222/o/r.git',
      'ssh://git@host-1.example.com/o/r.git',
      'git@github.com:o/r.git',
      'file:///srv/r.git',
      '/srv/r.git',
    ]) {
      expect(repositoryProblems({ repository: { url, ref: 'main' } }), url).to.deep.equal([]);
    }
  });

  it('refuses other forms, naming input.repository.url or .ref', () => {
    for (const url of [
      'http://host/r.git',
      'ext::sh -c touch% /tmp/x',
      '-oProxyCommand=x',
      'relative/path',
      '',
      'https://user:ghp_secret@github.com/o/r.git',
      'ssh://git:secret@host/o/r.git',
      // A host or user ssh would read as an option (git refuses these itself since 2.14.1, as
      // "strange hostname"; an older git on a worker would run the command).
      'ssh://-oProxyCommand=touch%20/tmp/x/r.git',
      'ssh://-oProxyCommand=x@host/r.git',
      'ssh://git@-oProxyCommand=x/r.git',
    ]) {
      expect(
        repositoryProblems({ repository: { url } }).map((d) => d.field),
        url,
      ).to.deep.equal(['input.repository.url']);
    }
    expect(repositoryProblems({ repository: { url: '/r', ref: '--upload-pack=x' } }).map((d) => d.field)).to.deep.equal([
      'input.repository.ref',
    ]);
    expect(repositoryProblems({ repository: 'x' }).map((d) => d.field)).to.deep.equal(['input.repository']);
  });
});
