// The small pieces behind a frictionless first hour: the entries' flag errors (one line, a
// "did you mean"), the development log line, and a worker metrics port that falls back when taken.
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import { closestOption, parseEntryArgs, UsageError } from '../../src/lifecycle/entry-args.js';
import { seconds } from '../../src/lifecycle/process.js';
import { prettyLine, prettyValue } from '../../src/infra/telemetry/pretty-format.js';
import { createMetricsServer, MetricsPortsInUseError } from '../../src/infra/telemetry/metrics-server.js';
import { reachableHost } from '../../src/domain/reachable-host.js';
import { parseConfig } from '../../src/config.js';
import { createWorkerMetrics } from '../../src/infra/telemetry/metrics.js';
import { freePort } from '../support/chaos/free-port.js';

const OPTIONS = { agents: { type: 'string' }, concurrency: { type: 'string' }, 'no-conductor': { type: 'boolean' } } as const;

function usageError(args: string[]): UsageError {
  try {
    parseEntryArgs('npm run worker', OPTIONS, args);
  } catch (error) {
    expect(error).to.be.instanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error(`no error for ${args.join(' ')}`);
}

describe('entry flags (unit)', () => {
  it('a misspelt option names itself, the closest known one and --help, on one line', () => {
    const { message } = usageError(['--agnts', 'validation']);
    expect(message).to.equal('npm run worker: unknown option --agnts (did you mean --agents?); npm run worker -- --help lists the options');
  });

  it('an option far from every known one gets no suggestion; a stray word and a missing value are one line too', () => {
    expect(usageError(['--zzzzzzzzz']).message).to.match(/^npm run worker: unknown option --zzzzzzzzz; /);
    expect(usageError(['validation']).message).to.include('unexpected argument "validation"');
    expect(usageError(['--agents']).message).to.include("Option '--agents <value>' argument missing");
    for (const args of [['--agnts'], ['x'], ['--agents']]) expect(usageError(args).message).not.to.include('\n');
  });

  it('closestOption: within three edits, the nearest wins', () => {
    expect(closestOption('--concurency', ['agents', 'concurrency'])).to.equal('--concurrency');
    expect(closestOption('--no-conductr=1', ['agents', 'no-conductor'])).to.equal('--no-conductor');
    expect(closestOption('--verbose', ['agents'])).to.equal(undefined);
  });

  it('good flags parse as node would', () => {
    expect(parseEntryArgs('npm run worker', OPTIONS, ['--agents', 'noop', '--no-conductor'])).to.deep.include({
      agents: 'noop',
      'no-conductor': true,
    });
  });

  it('the shutdown line says grace periods in seconds', () => {
    expect([seconds(30_000), seconds(1500), seconds(250)]).to.deep.equal(['30 s', '1.5 s', '0.3 s']);
  });
});

describe('pretty log lines (unit)', () => {
  it('time, level, message, then key=value; values with spaces or quotes JSON-quoted; service and timestamp not repeated', () => {
    const line = prettyLine(
      {
        level: 'info',
        message: 'agentic-sdlc is up',
        timestamp: '2026-12-05T19:20:01.123Z',
        service: 'all-in-one',
        api: 'http://127.0.0.1:3000/api/v1',
        bullBoard: 'http://x/admin/queues (user: any)',
        agents: ['noop', 'sleep'],
        count: 2,
      },
      false,
    );
    expect(line).to.equal(
      '19:20:01.123 info  agentic-sdlc is up api=http://127.0.0.1:3000/api/v1 bullBoard="http://x/admin/queues (user: any)" agents=["noop","sleep"] count=2',
    );
  });

  it("an error's stack follows on indented lines; colour only wraps the level", () => {
    const line = prettyLine(
      { level: 'error', message: 'boom', timestamp: '2026-12-05T19:20:01.123Z', stack: 'Error: boom\n    at x' },
      true,
    );
    const [first, ...rest] = line.split('\n');
    expect(first).to.equal('19:20:01.123 \u001b[31merror\u001b[0m boom');
    expect(rest).to.deep.equal(['    Error: boom', '        at x']);
    expect(prettyValue('a=b')).to.equal('"a=b"');
  });
});

describe('worker metrics port (unit, real sockets)', () => {
  const listen = (port: number) =>
    new Promise<Server>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(port, '0.0.0.0', () => resolve(s));
    });

  it('binds loopback unless told otherwise (it answers without credentials); WORKER_METRICS_HOST is loopback outside production', async () => {
    const metrics = createWorkerMetrics();
    const byDefault = createMetricsServer({ port: 0, metrics });
    const wildcard = createMetricsServer({ port: 0, metrics, host: '0.0.0.0' });
    try {
      await byDefault.start();
      await wildcard.start();
      expect(byDefault.address()).to.equal('127.0.0.1');
      expect(wildcard.address()).to.equal('0.0.0.0');
      for (const server of [byDefault, wildcard]) expect((await fetch(`http://127.0.0.1:${server.port()}/health`)).status).to.equal(200);
    } finally {
      await byDefault.close();
      await wildcard.close();
    }
    const base = { DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/x', REDIS_URL: 'redis://127.0.0.1:6379' };
    expect(parseConfig({ ...base, NODE_ENV: 'development' }).WORKER_METRICS_HOST).to.equal('127.0.0.1');
    expect(parseConfig({ ...base, NODE_ENV: 'test' }).WORKER_METRICS_HOST).to.equal('127.0.0.1');
    expect(parseConfig({ ...base, NODE_ENV: 'production' }).WORKER_METRICS_HOST).to.equal('0.0.0.0');
    // What the ready line prints for each bind.
    expect(reachableHost('0.0.0.0')).to.equal('127.0.0.1');
    expect(reachableHost('::')).to.equal('127.0.0.1');
    expect(reachableHost('10.0.3.7')).to.equal('10.0.3.7');
    expect(reachableHost('fd00::5')).to.equal('[fd00::5]');
  });

  it('a port in use falls back to the next free one; with no fallback left it says which ports were tried', async () => {
    const port = await freePort();
    const taken = await listen(port);
    const metrics = createWorkerMetrics();
    const fallback = createMetricsServer({ port, metrics });
    const none = createMetricsServer({ port, metrics, fallbacks: 0 });
    try {
      await fallback.start();
      expect(fallback.port())
        .to.be.above(port)
        .and.at.most(port + 9);
      const res = await fetch(`http://127.0.0.1:${fallback.port()}/metrics`);
      expect(res.status).to.equal(200);
      expect(await res.text()).to.include('agentic_stage_duration_seconds');
      const error = await none.start().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(MetricsPortsInUseError);
      expect((error as Error).message).to.equal(`ports ${port}–${port} are all in use`);
    } finally {
      await fallback.close();
      await none.close();
      await new Promise((r) => taken.close(r));
    }
  });
});
