// The CLI's escaping of server text for a terminal (src/cli/terminal-text.ts) and the human
// views built on it: a table, a pipeline's detail view and watch's change lines given hostile
// names, labels and errors show them on their own lines, escaped, and send no escape sequence.
import { expect } from 'chai';
import { formatPipeline } from '../../src/cli/pipeline-view.js';
import { formatTable } from '../../src/cli/table.js';
import { printable, printableLines, tty } from '../../src/cli/terminal-text.js';
import { changeLines } from '../../src/cli/watch.js';
import { pipelineBody } from '../support/pipeline-body.js';

const FAKE_LINE = 'inj\n13:00:00.000 error FAKE-LOG-LINE';
const RED = 'inj2\u001b[31mRED';
// eslint-disable-next-line no-control-regex
const ANY_CONTROL_BUT_LF = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

/** A pipeline as GET /pipelines/:id answers it, with one failed stage. */
function pipeline(fields: { name: string; labels?: Record<string, string>; stageKey?: string; stageError?: string }) {
  const finished = '2026-12-07T13:20:36.401Z';
  return pipelineBody({
    pipeline: {
      name: fields.name,
      status: 'failed',
      error: { code: 'STAGE_FAILED', message: `stage failed: ${fields.stageError ?? 'boom'}` },
      finishedAt: finished,
      labels: fields.labels ?? {},
      durationMs: 1000,
    },
    stage: {
      key: fields.stageKey ?? 'only',
      status: 'failed',
      error: { code: 'AGENT_FAILED', message: fields.stageError ?? 'boom', retryable: false },
      finishedAt: finished,
      durationMs: 1000,
    },
  });
}

describe('terminal text (unit)', () => {
  describe('printable', () => {
    it('LF, CR and tab: shown as \\n, \\r, \\t', () => {
      expect(printable(FAKE_LINE)).to.equal('inj\\n13:00:00.000 error FAKE-LOG-LINE');
      expect(printable('a\rb\tc')).to.equal('a\\rb\\tc');
    });

    it('ESC, NUL, BEL, DEL and the C1 controls (CSI U+009B): shown as \\xHH', () => {
      expect(printable(RED)).to.equal('inj2\\x1b[31mRED');
      expect(printable('\u0000\u0007\u007f\u0080\u009b\u009f')).to.equal('\\x00\\x07\\x7f\\x80\\x9b\\x9f');
    });

    it('bidirectional overrides and isolates: shown as \\uHHHH', () => {
      expect(printable('invoice\u202etxt.exe')).to.equal('invoice\\u202etxt.exe');
      expect(printable('\u2066x\u2069')).to.equal('\\u2066x\\u2069');
    });

    it('printable text is kept as it is, non-ASCII and emoji included; escaping twice changes nothing', () => {
      const text = 'déploiement 部署 🚀 a\\nb ~ { } | ÿ';
      expect(printable(text)).to.equal(text);
      expect(printable(printable(RED))).to.equal(printable(RED));
    });

    it('printableLines keeps LF as a line break and escapes the rest', () => {
      expect(printableLines(`line 1\n${RED}\r`)).to.equal('line 1\ninj2\\x1b[31mRED\\r');
    });

    it('tty: escapes each interpolated value, keeps the literal text (the CLI’s own)', () => {
      expect(tty`submitted ${'id-1'}  ${FAKE_LINE}\t${42}`).to.equal('submitted id-1  inj\\n13:00:00.000 error FAKE-LOG-LINE\t42');
    });
  });

  describe('human views given hostile server strings', () => {
    it('a table: one line per row, the name and label escaped, no escape sequence; columns still line up', () => {
      // Arrange
      const rows = [
        { id: 'p-1', name: FAKE_LINE, label: 'k=v\nFAKE2' },
        { id: 'p-2', name: RED, label: '-' },
      ];

      // Act
      const text = formatTable(
        rows,
        [
          { header: 'ID', value: (r) => r.id },
          { header: 'NAME', value: (r) => r.name },
          { header: 'LABELS', value: (r) => r.label },
        ],
        'none',
      );

      // Assert
      const lines = text.split('\n');
      expect(lines).to.have.length(3);
      expect(text).to.not.match(ANY_CONTROL_BUT_LF);
      expect(lines[1]).to.equal('p-1  inj\\n13:00:00.000 error FAKE-LOG-LINE  k=v\\nFAKE2');
      expect(lines[2]).to.equal(`p-2  ${'inj2\\x1b[31mRED'.padEnd('inj\\n13:00:00.000 error FAKE-LOG-LINE'.length)}  -`);
      expect(lines.some((l) => l.startsWith('13:00:00.000'))).to.equal(false);
    });

    it("a pipeline's detail view: the header, the stage table and the error each on their own line, escaped", () => {
      // Arrange
      const p = pipeline({ name: FAKE_LINE, stageKey: 'a', stageError: `${RED}\r\nFAKE3` });

      // Act
      const text = formatPipeline(p);

      // Assert
      expect(text).to.not.match(ANY_CONTROL_BUT_LF);
      const lines = text.split('\n');
      expect(lines[0]).to.contain('inj\\n13:00:00.000 error FAKE-LOG-LINE  failed');
      expect(lines.filter((l) => l.includes('FAKE3'))).to.deep.equal([
        lines.find((l) => l.startsWith('a ')),
        'error: stage failed: inj2\\x1b[31mRED\\r\\nFAKE3',
      ]);
      expect(lines.some((l) => /^(13:00|FAKE)/.test(l))).to.equal(false);
    });

    it("watch's change lines (its log on stderr and in CI): one line per change, escaped", () => {
      // Arrange
      const p = pipeline({ name: RED, stageKey: 'a', stageError: FAKE_LINE });

      // Act
      const lines = changeLines(undefined, p);

      // Assert
      expect(lines).to.have.length(2);
      expect(lines.join('\n')).to.not.match(ANY_CONTROL_BUT_LF);
      expect(lines.every((l) => !l.includes('\n'))).to.equal(true);
      expect(lines[0]).to.match(/ {2}a {2}failed {2}AGENT_FAILED: inj\\n13:00:00\.000 error FAKE-LOG-LINE$/);
      expect(lines[1]).to.match(/ {2}pipeline inj2\\x1b\[31mRED {2}failed$/);
    });
  });
});
