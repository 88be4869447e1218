// The logger's masking format: every string of a line (message, meta at any depth, an error's
// message and stack, a URL object) is redacted before it is written, and the secrets the logger
// was given are masked by value.
import { Writable } from 'node:stream';
import { expect } from 'chai';
import winston from 'winston';
import { createLogger } from '../../src/infra/telemetry/logger.js';

type Line = Record<string, unknown>;

function captureLogger(lines: Line[], secrets?: string[]) {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const text of chunk.toString('utf8').split('\n')) if (text.trim()) lines.push(JSON.parse(text) as Line);
      callback();
    },
  });
  return createLogger({ level: 'debug', service: 'test', secrets, transports: [new winston.transports.Stream({ stream })] });
}

const WEBHOOK = 'http://hookuser:hookpw-1@127.0.0.1:5000/hook?token=tok-abcdef#frag';
const WEBHOOK_REDACTED = 'http://***@127.0.0.1:5000/hook?***#***';
const KEY = `sdlc_AbCdEf012345${'q'.repeat(32)}Zz9876`;
const METRICS_TOKEN = 'metrics-token-0123456789abcdef0123';

describe('logger redaction format (unit)', () => {
  it('a URL in the message, in meta at any depth and as a URL object: written without userinfo, query or fragment', () => {
    const lines: Line[] = [];
    captureLogger(lines).warn(`delivery to ${WEBHOOK} failed`, {
      receiver: WEBHOOK,
      nested: { list: [{ target: `see ${WEBHOOK}` }] },
      asObject: new URL(WEBHOOK),
    });
    expect(lines).to.have.length(1);
    const line = lines[0]!;
    expect(line.message).to.equal(`delivery to ${WEBHOOK_REDACTED} failed`);
    expect(line.receiver).to.equal(WEBHOOK_REDACTED);
    expect(line.nested).to.deep.equal({ list: [{ target: `see ${WEBHOOK_REDACTED}` }] });
    expect(line.asObject).to.equal(WEBHOOK_REDACTED);
    for (const secret of ['hookuser', 'hookpw-1', 'tok-abcdef', 'frag']) expect(JSON.stringify(line)).not.to.contain(secret);
  });

  it("an error's message and stack, logged as the line or inside meta, are redacted", () => {
    const lines: Line[] = [];
    const logger = captureLogger(lines);
    const error = new TypeError(`Request cannot be constructed from a URL that includes credentials: ${WEBHOOK}`);
    logger.error('webhook worker error', { error });
    logger.warn('with a cause', { failure: { message: error.message, stack: error.stack } });
    expect(lines).to.have.length(2);
    const [first, second] = lines as [Line, Line];
    expect((first.error as Line).message).to.contain(WEBHOOK_REDACTED);
    expect((first.error as Line).stack).to.contain(WEBHOOK_REDACTED);
    expect((second.failure as Line).stack).to.contain(WEBHOOK_REDACTED);
    for (const secret of ['hookuser', 'hookpw-1', 'tok-abcdef']) expect(JSON.stringify(lines)).not.to.contain(secret);
  });

  it('the secrets given to the logger, API keys and Bearer credentials are masked in any string', () => {
    const lines: Line[] = [];
    captureLogger(lines, [METRICS_TOKEN]).info(`scrape with ${METRICS_TOKEN}`, {
      header: `Bearer ${KEY}`,
      note: `leaked ${KEY} and ${METRICS_TOKEN}`,
      keep: 'visible',
    });
    const line = lines[0]!;
    expect(line.message).to.equal('scrape with ***');
    expect(line.header).to.equal('Bearer ***');
    expect(line.note).to.equal('leaked sdlc_AbCdEf012345*** and ***');
    expect(line.keep).to.equal('visible');
    expect(JSON.stringify(line)).not.to.contain(METRICS_TOKEN).and.not.to.contain(KEY);
  });
});
