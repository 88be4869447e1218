// A real Unleash server (npm `unleash-server` 8.2.0) for the tests, and helpers for its admin API.
// It is a test fixture, not a project dependency: unleash-server 8 declares Node >= 22 in its
// engines, so in the project's lock `npm ci` would warn EBADENGINE (it runs on Node 20 all the
// same). It lives in test/fixtures/unleash-server/ with its own package.json and lock, installed
// here on first use (`npm ci`, about a minute and 200 MB; node_modules is git-ignored).
//
// Each start gets a database of its own on the local Postgres (`unleash_<random>`, dropped by
// close()), a free port, and a child process (the fixture's start.mjs) killed by its PID to stop
// it. Authentication is off: the admin API answers without a token, and the client API serves the
// `development` environment (UNLEASH_SERVER_ENVIRONMENT), which is where the helpers act.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { BASE_DATABASE_URL } from './test-database.js';

export const UNLEASH_SERVER_VERSION = '8.2.0';
/** The environment the client API serves when authentication is `none` (checked: a new server has `development` and `production`). */
export const UNLEASH_SERVER_ENVIRONMENT = 'development';

const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/unleash-server/', import.meta.url));
const INSTALLED_PACKAGE = `${FIXTURE_DIR}node_modules/unleash-server/package.json`;
const INSTALL_TIMEOUT_MS = 10 * 60_000;
const START_TIMEOUT_MS = 180_000;

function installedVersion(): string | undefined {
  if (!existsSync(INSTALLED_PACKAGE)) return undefined;
  return (JSON.parse(readFileSync(INSTALLED_PACKAGE, 'utf8')) as { version?: string }).version;
}

/** Runs `npm ci` in the fixture folder unless unleash-server 8.2.0 is already there. */
export async function ensureUnleashServerInstalled(): Promise<void> {
  if (installedVersion() === UNLEASH_SERVER_VERSION) return;
  const child = spawn('npm', ['ci', '--prefix', FIXTURE_DIR, '--no-audit', '--no-fund', '--loglevel=error'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), INSTALL_TIMEOUT_MS);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  if (code !== 0 || installedVersion() !== UNLEASH_SERVER_VERSION) {
    throw new Error(`npm ci in ${FIXTURE_DIR} failed (exit ${code}):\n${output}`);
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: BASE_DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface RolloutOptions {
  /** Percent of the stickiness key's buckets, 0–100. */
  rollout: number;
  /** `default` or a context field with stickiness (`pipelineId`); default `pipelineId`. */
  stickiness?: string;
  /** Strategy variants (Unleash 8 refuses environment-level variants): weights out of 1000, JSON payloads. */
  variants?: { name: string; weight: number; payload?: unknown }[];
}

export interface UnleashServer {
  /** The server's root, e.g. http://127.0.0.1:41234. */
  baseUrl: string;
  /** The client API base to give as UNLEASH_URL. */
  apiUrl: string;
  /** Creates a release flag in the `default` project (off in every environment). */
  createFeature(name: string, description?: string): Promise<void>;
  /** Adds a `flexibleRollout` strategy in the development environment; returns its id. */
  addRollout(name: string, options: RolloutOptions): Promise<string>;
  /** Replaces a strategy's rollout (and variants). */
  updateRollout(name: string, strategyId: string, options: RolloutOptions): Promise<void>;
  /** Adds the `default` strategy (on for everyone) in the development environment: a plain switch. */
  addSwitch(name: string): Promise<void>;
  /** Turns the flag on or off in the development environment. */
  setEnabled(name: string, enabled: boolean): Promise<void>;
  /** Kills the server process (the clients keep their last set). */
  stop(): Promise<void>;
  /** Stops it (if running) and drops its database. */
  close(): Promise<void>;
  /** What the server process wrote (for failure messages). */
  output(): string;
}

/** Installs (first use), then starts an Unleash server on a fresh database and a free port; resolves once /health is GOOD. */
export async function startUnleashServer(): Promise<UnleashServer> {
  await ensureUnleashServerInstalled();
  const database = `unleash_${randomBytes(5).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${database}`);
  const db = new URL(BASE_DATABASE_URL);
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(process.execPath, ['start.mjs'], {
    cwd: FIXTURE_DIR,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      // No version check and no telemetry: the server calls nothing outside.
      CHECK_VERSION: 'false',
      SEND_TELEMETRY: 'false',
      UNLEASH_FIXTURE_PORT: String(port),
      UNLEASH_FIXTURE_DB_HOST: db.hostname,
      UNLEASH_FIXTURE_DB_PORT: db.port || '5432',
      UNLEASH_FIXTURE_DB_USER: decodeURIComponent(db.username || 'postgres'),
      UNLEASH_FIXTURE_DB_PASSWORD: decodeURIComponent(db.password),
      UNLEASH_FIXTURE_DB_NAME: database,
    },
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit');
  // A test run that ends without close() (a crash, a timeout) must not leave the server running.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await stop();
    await adminQuery(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  };

  try {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`unleash-server exited with ${child.exitCode} before answering`);
      const health = await fetch(`${baseUrl}/health`).then(
        (res) => (res.ok ? res.json() : null),
        () => null,
      );
      if ((health as { health?: string } | null)?.health === 'GOOD') break;
      if (Date.now() > deadline) throw new Error(`unleash-server did not answer /health within ${START_TIMEOUT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } catch (error) {
    await close();
    throw new Error(`${(error as Error).message}\n${output}`, { cause: error });
  }

  const admin = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${baseUrl}/api/admin${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`Unleash admin ${method} ${path} answered ${res.status}: ${text}`);
    return text ? JSON.parse(text) : null;
  };
  const feature = (name: string) => `/projects/default/features/${encodeURIComponent(name)}`;
  const strategies = (name: string) => `${feature(name)}/environments/${UNLEASH_SERVER_ENVIRONMENT}/strategies`;
  const rolloutBody = (name: string, { rollout, stickiness = 'pipelineId', variants = [] }: RolloutOptions) => ({
    name: 'flexibleRollout',
    parameters: { rollout: String(rollout), stickiness, groupId: name },
    constraints: [],
    variants: variants.map((v) => ({
      name: v.name,
      weight: v.weight,
      weightType: 'variable',
      stickiness,
      ...(v.payload === undefined ? {} : { payload: { type: 'json', value: JSON.stringify(v.payload) } }),
    })),
  });

  // Stickiness on a custom field needs the field to exist with stickiness on.
  await admin('POST', '/context', {
    name: 'pipelineId',
    description: 'The pipeline: every rollout is sticky per pipeline.',
    stickiness: true,
  });

  return {
    baseUrl,
    apiUrl: `${baseUrl}/api`,
    async createFeature(name, description = '') {
      await admin('POST', '/projects/default/features', { name, type: 'release', description });
    },
    async addRollout(name, options) {
      const created = (await admin('POST', strategies(name), rolloutBody(name, options))) as { id: string };
      return created.id;
    },
    async updateRollout(name, strategyId, options) {
      await admin('PUT', `${strategies(name)}/${strategyId}`, rolloutBody(name, options));
    },
    async addSwitch(name) {
      await admin('POST', strategies(name), { name: 'default', parameters: {}, constraints: [] });
    },
    async setEnabled(name, enabled) {
      await admin('POST', `${feature(name)}/environments/${UNLEASH_SERVER_ENVIRONMENT}/${enabled ? 'on' : 'off'}`);
    },
    stop,
    close,
    output: () => output,
  };
}
