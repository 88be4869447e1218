// The real `deployment` agent with real processes in temporary folders: tiny node HTTP servers
// are the "projects" (`npm start` → `node server.js`). Two releases in a row switch `current`; a
// release failing its health check rolls back (and restarts the previous one when it had to stop
// it); a deploy hook is called instead of starting anything.
import { mkdir, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { MetricValue } from '../../src/agents/define-agent.js';
import { createDeploymentAgent } from '../../src/agents/sdlc/deployment.agent.js';
import type { ReleaseProcess, ReleaseProcesses } from '../../src/agents/sdlc/release-processes.port.js';
import { createLocalWorkspace } from '../../src/infra/workspaces/local-workspace.js';
import { createReleaseProcesses } from '../../src/infra/workspaces/release-processes.js';
import { acquireLock } from '../../src/infra/workspaces/workspace-lock.js';
import { testRunContext } from '../support/agent-context.js';

interface Deployed {
  app: string;
  release: string;
  previousRelease: string | null;
  url: string | null;
  healthCheck: string;
  rolledBack: boolean;
  rollbackHealthCheck: string | null;
}

/** A project whose server answers `label` on / and `healthStatus` on /health; `npm run build` writes dist/built.txt. */
async function writeProject(dir: string, label: string, healthStatus = 200): Promise<void> {
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({ name: '@acme/Demo Service', private: true, scripts: { start: 'node server.js', build: 'node build.js' } }),
  );
  await writeFile(
    join(dir, 'build.js'),
    `require('fs').mkdirSync('dist', { recursive: true }); require('fs').writeFileSync('dist/built.txt', ${JSON.stringify(label)});\n`,
  );
  await writeFile(
    join(dir, 'server.js'),
    `require('http').createServer((req, res) => {
  if (req.url === '/health') return res.writeHead(${healthStatus}).end('health ${healthStatus}');
  res.end(require('fs').readFileSync('dist/built.txt', 'utf8'));
}).listen(Number(process.env.PORT), '127.0.0.1');\n`,
  );
}

const text = async (url: string) => (await fetch(url)).text();
const refused = (url: string) =>
  fetch(url).then(
    () => false,
    () => true,
  );

describe('deployment agent (real releases and processes)', () => {
  let dir: string;
  let project: string;
  let releasesRoot: string;
  let started: ReleaseProcess[];
  let processes: ReleaseProcesses;
  let metrics: Record<string, MetricValue>;

  const context = async (pipelineId: string) => {
    metrics = {};
    const workspace = await createLocalWorkspace({ root: project });
    return testRunContext({ pipelineId, workspace, reportMetrics: (m) => Object.assign(metrics, m) });
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sdlc-deployment-'));
    project = join(dir, 'workspace');
    releasesRoot = join(dir, 'releases');
    await mkdir(project);
    started = [];
    const real = createReleaseProcesses({ stopGraceMs: 2000 });
    processes = {
      freePort: () => real.freePort(),
      start: async (...args) => {
        const handle = await real.start(...args);
        started.push(handle);
        return handle;
      },
    };
  });
  afterEach(async () => {
    await Promise.all(started.map((handle) => handle.stop()));
    await rm(dir, { recursive: true, force: true });
  });

  it('two releases in a row: builds, copies, switches current, serves the new one and stops the old one', async () => {
    const agent = createDeploymentAgent({ releasesRoot, processes, healthIntervalMs: 100, lockApp: acquireLock });
    await writeProject(project, 'v1');
    const first = (await agent.execute({}, await context('aaaaaaaa-1'))) as unknown as Deployed;
    await writeProject(project, 'v2');
    const second = (await agent.execute({}, await context('bbbbbbbb-2'))) as unknown as Deployed;

    expect(first).to.include({ app: 'demo-service', previousRelease: null, healthCheck: 'ok', rolledBack: false });
    expect(second).to.include({ app: 'demo-service', previousRelease: first.release, healthCheck: 'ok', rolledBack: false });
    expect(metrics).to.deep.equal({ healthCheck: 'ok', rolledBack: false });
    const appDir = join(releasesRoot, 'demo-service');
    expect(await readlink(join(appDir, 'current'))).to.equal(join('releases', second.release));
    expect(await readFile(join(appDir, 'releases', first.release, 'dist', 'built.txt'), 'utf8')).to.equal('v1'); // kept
    expect(await text(second.url!)).to.equal('v2');
    expect(await refused(first.url!)).to.equal(true);
  });

  it('a release failing its health check is rolled back: current points at the previous release, which still serves', async () => {
    const agent = createDeploymentAgent({ releasesRoot, processes, healthIntervalMs: 100, lockApp: acquireLock });
    await writeProject(project, 'good');
    const good = (await agent.execute({}, await context('aaaaaaaa-1'))) as unknown as Deployed;
    await writeProject(project, 'bad', 500);

    const bad = (await agent.execute({ healthTimeoutMs: 1500 }, await context('bbbbbbbb-2'))) as unknown as Deployed;

    expect(bad).to.include({
      healthCheck: 'failed',
      rolledBack: true,
      rollbackHealthCheck: 'ok',
      previousRelease: good.release,
      url: good.url,
    });
    expect(metrics).to.deep.equal({ healthCheck: 'failed', rolledBack: true });
    expect(await readlink(join(releasesRoot, 'demo-service', 'current'))).to.equal(join('releases', good.release));
    expect(await text(good.url!)).to.equal('good');
    expect(started).to.have.length(2);
  });

  it('on a fixed port the old release stops first, and a failed successor gets it restarted on that port', async () => {
    const port = await processes.freePort();
    const agent = createDeploymentAgent({ releasesRoot, processes, healthIntervalMs: 100, lockApp: acquireLock });
    await writeProject(project, 'stable');
    const stable = (await agent.execute({ app: 'fixed', port }, await context('aaaaaaaa-1'))) as unknown as Deployed;
    await writeProject(project, 'broken', 503);

    const broken = (await agent.execute({ app: 'fixed', port, healthTimeoutMs: 1500 }, await context('bbbbbbbb-2'))) as unknown as Deployed;

    expect(broken).to.include({ healthCheck: 'failed', rolledBack: true, rollbackHealthCheck: 'ok', url: `http://127.0.0.1:${port}` });
    expect(started).to.have.length(3); // stable, broken, stable again
    expect(await readlink(join(releasesRoot, 'fixed', 'current'))).to.equal(join('releases', stable.release));
    expect(await text(`http://127.0.0.1:${port}/`)).to.equal('stable');
  });

  it('with a deploy hook: POSTs { app, release, path } with the token and health-checks the URL it answers', async () => {
    const service = createServer((_req, res) => res.end('ok')).listen(0, '127.0.0.1');
    const calls: { headers: IncomingHttpHeaders; body: unknown }[] = [];
    const hook: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        calls.push({ headers: req.headers, body: JSON.parse(body) as unknown });
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ url: `http://127.0.0.1:${(service.address() as AddressInfo).port}` }));
      });
    }).listen(0, '127.0.0.1');
    try {
      await writeProject(project, 'hooked');
      const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/deploy`;
      const agent = createDeploymentAgent({ releasesRoot, lockApp: acquireLock, deployHook: { url: hookUrl, token: 'hook-secret' } });

      const output = (await agent.execute({ app: 'hooked', build: false }, await context('cccccccc-3'))) as unknown as Deployed & {
        path: string;
      };

      expect(output).to.include({ healthCheck: 'ok', app: 'hooked' });
      expect(started).to.have.length(0);

      // A stage's input.url does not replace the URL the hook answered: the probe goes to the hook's.
      const aimed = (await agent.execute(
        { app: 'hooked', build: false, url: 'http://127.0.0.1:9/elsewhere' },
        await context('cccccccc-4'),
      )) as unknown as Deployed;
      expect(aimed).to.include({ healthCheck: 'ok', url: `http://127.0.0.1:${(service.address() as AddressInfo).port}` });
      expect(calls).to.have.length(2);
      expect(calls[0]!.headers.authorization).to.equal('Bearer hook-secret');
      expect(calls[0]!.body).to.deep.equal({ app: 'hooked', release: output.release, path: output.path });
      expect(await readFile(join(output.path, 'server.js'), 'utf8')).to.contain('createServer');
    } finally {
      await Promise.all([new Promise((done) => hook.close(done)), new Promise((done) => service.close(done))]);
    }
  });

  it('two deployments of one app at once take turns: the second builds on the first, and current is the release that serves', async () => {
    const agent = createDeploymentAgent({ releasesRoot, processes, healthIntervalMs: 100, lockApp: acquireLock });
    const other = join(dir, 'other-workspace');
    await mkdir(other);
    await writeProject(project, 'one');
    await writeProject(other, 'two');
    const otherContext = async (pipelineId: string) =>
      testRunContext({ pipelineId, workspace: await createLocalWorkspace({ root: other }), reportMetrics: () => undefined });

    const both = (await Promise.all([
      agent.execute({}, await context('aaaaaaaa-1')),
      agent.execute({}, await otherContext('bbbbbbbb-2')),
    ])) as unknown as Deployed[];

    // One went first (no previous release); the other found it current, replaced it and stopped it.
    const first = both.find((d) => d.previousRelease === null)!;
    const second = both.find((d) => d !== first)!;
    expect(first, 'one deployment saw no previous release').to.not.equal(undefined);
    expect(second.previousRelease).to.equal(first.release);
    expect(both.map((d) => d.healthCheck)).to.deep.equal(['ok', 'ok']);
    expect(await readlink(join(releasesRoot, 'demo-service', 'current'))).to.equal(join('releases', second.release));
    expect(await text(second.url!)).to.equal(second === both[0] ? 'one' : 'two');
    expect(await refused(first.url!)).to.equal(true);
  });

  it('refuses an app name that would leave the releases root', async () => {
    await writeProject(project, 'x');
    const agent = createDeploymentAgent({ releasesRoot, processes, lockApp: acquireLock });
    const error = await agent.execute({ app: '../outside' }, await context('dddddddd-4')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.include({ code: 'AGENT_INPUT_INVALID' });
    expect(started).to.have.length(0);
  });
});
