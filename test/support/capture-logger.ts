// A real logger (the production format) whose JSON lines land in an array, for tests that assert
// what was logged and at which level.
import { Writable } from 'node:stream';
import winston from 'winston';
import { createLogger, type Logger } from '../../src/infra/telemetry/logger.js';
import type { Loose } from './http.js';

export function captureLogger(lines: Loose[]): Logger {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Loose);
      callback();
    },
  });
  return createLogger({ level: 'debug', service: 'test', transports: [new winston.transports.Stream({ stream })] });
}
