// Encrypted configuration values end to end, through the real CLI (`node --import tsx src/cli.ts
// config …` as child processes) on a temporary env file: keygen, encrypt from stdin, the documented
// rotation (new key as CONFIG_MASTER_KEY, old as CONFIG_MASTER_KEY_PREVIOUS, rotate, then the new
// key alone), a wrong key and a value moved to another variable refused naming the variable, and
// the API entry refusing to start on a value it cannot decrypt.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadConfiguration } from '../../src/config.js';
import { encryptValue } from '../../src/config/encrypted-values.js';
import { parseMasterKey } from '../../src/config/master-key.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

// The children see no master key but the ones a test gives, and no env file but the test's.
const MASTER_KEY_VARIABLES = ['CONFIG_MASTER_KEY', 'CONFIG_MASTER_KEY_FILE', 'CONFIG_MASTER_KEY_PREVIOUS'];
const baseEnv = (): Record<string, string> =>
  Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && !MASTER_KEY_VARIABLES.includes(entry[0]),
    ),
  );

async function runNode(args: string[], env: Record<string, string>, stdin = ''): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    env: { ...baseEnv(), NODE_ENV: 'test', ENV_FILE: '/nonexistent/agentic-sdlc.env', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.end(stdin);
  const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

const cli = (env: Record<string, string>, args: string[], stdin?: string) => runNode(['src/cli.ts', 'config', ...args], env, stdin);

async function keygen(): Promise<{ key: string; id: string }> {
  const made = await cli({}, ['keygen']);
  expect(made.code, made.stderr).to.equal(0);
  expect(made.stdout).to.match(/^[A-Za-z0-9+/]{43}=\n$/);
  const id = /key id ([0-9a-f]{8})/.exec(made.stderr)?.[1];
  expect(id, made.stderr).to.be.a('string');
  return { key: made.stdout.trim(), id: id! };
}

async function encrypt(key: string, name: string, value: string): Promise<string> {
  const made = await cli({ CONFIG_MASTER_KEY: key }, ['encrypt', '--name', name], `${value}\n`);
  expect(made.code, made.stderr).to.equal(0);
  const line = made.stdout.trim();
  expect(line.startsWith(`${name}=enc:v1:`), line).to.equal(true);
  expect(made.stdout + made.stderr).to.not.include(value);
  return line;
}

describe('encrypted configuration values (e2e)', function () {
  this.timeout(180_000);
  let dir: string;
  let envFile: string;
  const metricsToken = `metrics-${'m'.repeat(40)}`;
  const jwtSecret = `jwt-${'j'.repeat(40)}`;
  let oldKey: { key: string; id: string };
  let newKey: { key: string; id: string };

  // JWT_SECRET needs its issuer and audience beside it to parse.
  const JWT_CLAIMS = ['JWT_ISSUER=https://issuer.example', 'JWT_AUDIENCE=agentic-sdlc'];

  /** A fresh env file (made in-process) with both secrets encrypted under `key`. */
  function envFileUnder(key: string, name: string): string {
    const raw = parseMasterKey(key)!;
    const path = join(dir, name);
    const secrets = { METRICS_TOKEN: metricsToken, JWT_SECRET: jwtSecret };
    writeFileSync(path, [...Object.entries(secrets).map(([n, v]) => `${n}=${encryptValue(n, v, raw)}`), ...JWT_CLAIMS, ''].join('\n'));
    return path;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'encrypted-config-'));
    envFile = join(dir, '.env');
    [oldKey, newKey] = [await keygen(), await keygen()];
    expect(newKey.id).to.not.equal(oldKey.id);
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('rotation: values under the old key are re-encrypted in place, then open under the new key alone', async () => {
    const lines = [
      '# agentic-sdlc secrets',
      await encrypt(oldKey.key, 'METRICS_TOKEN', metricsToken),
      await encrypt(oldKey.key, 'JWT_SECRET', jwtSecret),
      ...JWT_CLAIMS,
      '',
    ];
    writeFileSync(envFile, lines.join('\n'));
    chmodSync(envFile, 0o640);

    const rotated = await cli({ CONFIG_MASTER_KEY: newKey.key, CONFIG_MASTER_KEY_PREVIOUS: oldKey.key }, ['rotate', '--file', envFile]);
    expect(rotated.code, rotated.stderr).to.equal(0);
    expect(rotated.stdout.trim()).to.equal(`rotated 2 value(s) in ${envFile} to key ${newKey.id}: METRICS_TOKEN, JWT_SECRET`);

    // Written atomically: same mode, no temporary file left, the other lines as they were.
    expect(statSync(envFile).mode & 0o777).to.equal(0o640);
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).to.deep.equal([]);
    const text = readFileSync(envFile, 'utf8');
    const after = text.split('\n');
    expect([after[0], ...after.slice(3)]).to.deep.equal(['# agentic-sdlc secrets', ...JWT_CLAIMS, '']);
    expect(after[1]).to.match(new RegExp(`^METRICS_TOKEN=enc:v1:${newKey.id}:`));
    expect(after[2]).to.match(new RegExp(`^JWT_SECRET=enc:v1:${newKey.id}:`));

    // The new key alone opens them: `config check`, and the boot's own loader.
    const checked = await cli({ CONFIG_MASTER_KEY: newKey.key }, ['check', '--file', envFile]);
    expect(checked.code, checked.stdout + checked.stderr).to.equal(0);
    expect(checked.stdout).to.equal(
      `METRICS_TOKEN  ok  key ${newKey.id} (CONFIG_MASTER_KEY)\nJWT_SECRET  ok  key ${newKey.id} (CONFIG_MASTER_KEY)\n` +
        `2 encrypted value(s) in ${envFile} decrypt\n`,
    );
    const loaded = loadConfiguration({ NODE_ENV: 'test', ENV_FILE: envFile, CONFIG_MASTER_KEY: newKey.key });
    expect([loaded.config.METRICS_TOKEN, loaded.config.JWT_SECRET]).to.deep.equal([metricsToken, jwtSecret]);
    expect(loaded.sources.METRICS_TOKEN).to.equal('env file');
    // Without --file, check reads what a boot reads: the environment over ENV_FILE.
    const asBooted = await cli({ CONFIG_MASTER_KEY: newKey.key, ENV_FILE: envFile }, ['check']);
    expect(asBooted.code, asBooted.stderr).to.equal(0);
    expect(asBooted.stdout).to.include(`2 encrypted value(s) in the environment and ${envFile} decrypt`);

    // A second run finds nothing to do and leaves the file alone.
    const again = await cli({ CONFIG_MASTER_KEY: newKey.key, CONFIG_MASTER_KEY_PREVIOUS: oldKey.key }, ['rotate', '--file', envFile]);
    expect(again.stdout.trim()).to.equal(`rotated 0 value(s) in ${envFile} to key ${newKey.id} (2 already under it)`);
    expect(readFileSync(envFile, 'utf8')).to.equal(text);

    // The old key alone no longer opens them: PREVIOUS can be removed only after the rotation.
    const stale = await cli({ CONFIG_MASTER_KEY: oldKey.key }, ['check', '--file', envFile]);
    expect(stale.code).to.equal(1);
    expect(stale.stdout).to.include(`METRICS_TOKEN  FAILED  encrypted under key ${newKey.id}, but the master key given is ${oldKey.id}`);
  });

  it('a wrong key: check and rotate refuse naming each variable and both key ids; the file is unchanged', async () => {
    const wrong = await keygen();
    const envFile = envFileUnder(newKey.key, 'wrong-key.env');
    const before = readFileSync(envFile, 'utf8');
    const checked = await cli({ CONFIG_MASTER_KEY: wrong.key }, ['check', '--file', envFile]);
    expect(checked.code).to.equal(1);
    expect(checked.stdout).to.include(
      `JWT_SECRET  FAILED  encrypted under key ${newKey.id}, but the master key given is ${wrong.id} (CONFIG_MASTER_KEY)`,
    );
    expect(checked.stderr).to.include(`2 of 2 encrypted value(s) in ${envFile} do not decrypt`);

    const rotated = await cli({ CONFIG_MASTER_KEY: wrong.key }, ['rotate', '--file', envFile]);
    expect(rotated.code).to.equal(1);
    expect(rotated.stderr).to.match(
      /is unchanged: 2 value\(s\) do not decrypt under either key:\n {2}- METRICS_TOKEN: encrypted under key/,
    );
    expect(readFileSync(envFile, 'utf8')).to.equal(before);
    expect(checked.stdout + checked.stderr + rotated.stderr)
      .to.not.include(metricsToken)
      .and.not.include(jwtSecret);
  });

  it('the API refuses to start on a wrong key, naming the variable, before connecting anywhere', async () => {
    const wrong = await keygen();
    const envFile = envFileUnder(newKey.key, 'boot.env');
    const started = await runNode(['src/server.ts'], {
      ENV_FILE: envFile,
      CONFIG_MASTER_KEY: wrong.key,
      // Nothing listens here: a refusal that came from a connection would say so.
      REDIS_URL: 'redis://127.0.0.1:1',
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/none',
    });
    expect(started.code).to.equal(1);
    expect(started.stderr).to.include('Cannot decrypt 2 configuration values:');
    expect(started.stderr).to.include(
      `  - METRICS_TOKEN: encrypted under key ${newKey.id}, but the master key given is ${wrong.id} (CONFIG_MASTER_KEY)`,
    );
    expect(started.stderr).to.not.match(/ECONNREFUSED|Redis|Postgres/i);
  });

  it('a value moved to another variable is refused (the name is authenticated)', async () => {
    const moved = join(dir, 'moved.env');
    const metricsLine = readFileSync(envFileUnder(newKey.key, 'source.env'), 'utf8').split('\n')[0]!;
    writeFileSync(moved, `JWT_SECRET=${metricsLine.slice('METRICS_TOKEN='.length)}\n`);
    const checked = await cli({ CONFIG_MASTER_KEY: newKey.key }, ['check', '--file', moved]);
    expect(checked.code).to.equal(1);
    expect(checked.stdout).to.match(/^JWT_SECRET {2}FAILED {2}does not decrypt under key [0-9a-f]{8}: .*encrypted for another variable/);
    expect(() => loadConfiguration({ NODE_ENV: 'test', ENV_FILE: moved, CONFIG_MASTER_KEY: newKey.key }))
      .to.throw(/JWT_SECRET: does not decrypt/)
      .with.property('code', 'CONFIG_DECRYPT_FAILED');
  });

  it('encrypt needs --name and a master key, and takes the value from stdin only', async () => {
    const noName = await cli({ CONFIG_MASTER_KEY: newKey.key }, ['encrypt'], 'value\n');
    expect(noName.code).to.equal(1);
    expect(noName.stderr).to.include('config encrypt --name VAR');
    const noKey = await cli({}, ['encrypt', '--name', 'JWT_SECRET'], 'value\n');
    expect(noKey.code).to.equal(1);
    expect(noKey.stderr).to.include('set CONFIG_MASTER_KEY or CONFIG_MASTER_KEY_FILE');
    const empty = await cli({ CONFIG_MASTER_KEY: newKey.key }, ['encrypt', '--name', 'JWT_SECRET'], '');
    expect(empty.code).to.equal(1);
    expect(empty.stderr).to.include('no value on stdin');
  });

  it('CONFIG_MASTER_KEY_FILE: a key file opens the values; one others may read is named in a warning', async () => {
    const keyFile = join(dir, 'master.key');
    writeFileSync(keyFile, `${newKey.key}\n`, { mode: 0o600 });
    chmodSync(keyFile, 0o600);
    const envFile = envFileUnder(newKey.key, 'key-file.env');
    const tight = await cli({ CONFIG_MASTER_KEY_FILE: keyFile }, ['check', '--file', envFile]);
    expect(tight.code, tight.stderr).to.equal(0);
    expect(tight.stderr).to.equal('');
    chmodSync(keyFile, 0o644);
    const loose = await cli({ CONFIG_MASTER_KEY_FILE: keyFile }, ['check', '--file', envFile]);
    expect(loose.code, loose.stderr).to.equal(0);
    expect(loose.stderr).to.include(`warning: CONFIG_MASTER_KEY_FILE ${keyFile} has mode 0644`);
  });
});
