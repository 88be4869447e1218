// The logger's levels: a line below the level is dropped before any format runs (winston would
// mask and serialise it first, then drop it in its transport), and a transport may ask for more
// than the logger's level.
import { Writable } from 'node:stream';
import { expect } from 'chai';
import winston from 'winston';
import { createLogger } from '../../src/infra/telemetry/logger.js';

function capture(level: string, transportLevel?: string) {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  const logger = createLogger({ level, service: 'test', transports: [new winston.transports.Stream({ stream, level: transportLevel })] });
  return { logger, lines };
}

/** Meta whose field counts how often a format read it. */
function watchedMeta() {
  const reads = { count: 0 };
  const meta = {};
  Object.defineProperty(meta, 'watched', {
    enumerable: true,
    get: () => {
      reads.count++;
      return 'value';
    },
  });
  return { meta, reads };
}

describe('logger levels (unit)', () => {
  it('http line at level info: not written, and its meta never read by a format', () => {
    const { logger, lines } = capture('info');
    const { meta, reads } = watchedMeta();
    logger.http?.('request completed', meta);
    logger.debug('details', meta);
    expect(lines).to.deep.equal([]);
    expect(reads.count).to.equal(0);
  });

  it('info and http lines at level http: both written with their meta', () => {
    const { logger, lines } = capture('http');
    logger.info('started', { port: 1 });
    logger.http?.('request completed', { status: 202 });
    const written = lines.map((line) => JSON.parse(line) as { level: string; message: string; status?: number });
    expect(written.map(({ level, message, status }) => ({ level, message, status }))).to.deep.equal([
      { level: 'info', message: 'started', status: undefined },
      { level: 'http', message: 'request completed', status: 202 },
    ]);
  });

  it('a transport at debug under a logger at info: debug lines still reach it', () => {
    const { logger, lines } = capture('info', 'debug');
    logger.debug('details', { step: 2 });
    expect(lines.map((line) => (JSON.parse(line) as { message: string; step: number }).step)).to.deep.equal([2]);
  });
});
