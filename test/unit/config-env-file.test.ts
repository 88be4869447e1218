// Unit tests for the env file (src/config/env-file.ts) and loadConfiguration (src/config.ts): the
// file named by ENV_FILE (default .env) is read with util.parseEnv and never overrides the real
// environment. Each test writes its files in a temporary folder.
import { mkdtemp, rm, writeFile, chmod, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { ConfigError, loadConfiguration } from '../../src/config.js';
import { encryptValue } from '../../src/config/encrypted-values.js';
import { layerEnvironment, loadEnvironment } from '../../src/config/env-file.js';
import { randomBytes } from 'node:crypto';

describe('env file (unit)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'env-file-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('.env in the working directory is read when present: its values fill what the real environment leaves unset', async () => {
    await writeFile(join(dir, '.env'), '# a comment\nPORT=4100\nexport LOG_LEVEL=error\nWORKER_AGENTS="noop, sleep"\n');
    const loaded = loadConfiguration({ HOST: '127.0.0.2' }, dir);
    expect(loaded.envFile).to.deep.equal({ path: join(dir, '.env'), found: true });
    expect([loaded.config.PORT, loaded.config.LOG_LEVEL, loaded.config.WORKER_AGENTS]).to.deep.equal([4100, 'error', ['noop', 'sleep']]);
    expect([loaded.sources.PORT, loaded.sources.HOST, loaded.sources.QUEUE_PREFIX]).to.deep.equal(['env file', 'env', 'default']);
  });

  it('never overrides the real environment, not even a variable set to an empty value', async () => {
    await writeFile(join(dir, '.env'), 'PORT=4100\nLOG_LEVEL=error\nQUEUE_PREFIX={file}\n');
    const loaded = loadConfiguration({ PORT: '5200', LOG_LEVEL: '' }, dir);
    expect(loaded.config.PORT).to.equal(5200);
    // Empty in the real environment: the variable is "set", so the file's value is not used; empty means default.
    expect(loaded.config.LOG_LEVEL).to.equal('info');
    expect(loaded.config.QUEUE_PREFIX).to.equal('{file}');
    expect([loaded.sources.PORT, loaded.sources.LOG_LEVEL]).to.deep.equal(['env', 'default']);
  });

  it('ENV_FILE names another file (relative to the working directory); a line ENV_FILE= in a file is ignored', async () => {
    await mkdir(join(dir, 'conf'));
    await writeFile(join(dir, 'conf', 'api.env'), 'PORT=4300\nENV_FILE=elsewhere.env\n');
    await writeFile(join(dir, '.env'), 'PORT=4100\n');
    const loaded = loadConfiguration({ ENV_FILE: 'conf/api.env' }, dir);
    expect(loaded.config.PORT).to.equal(4300);
    expect(loaded.config.ENV_FILE).to.equal('conf/api.env');
    expect(layerEnvironment({}, { ENV_FILE: 'x.env', PORT: '1' }).env).to.deep.equal({ PORT: '1' });
  });

  it("opens encrypted values of the platform's variables only: another program's `enc:` value is left as it is", () => {
    const key = randomBytes(32);
    const loaded = loadConfiguration(
      {
        ENV_FILE: 'missing.env',
        CONFIG_MASTER_KEY: key.toString('base64'),
        WEBHOOK_SECRET: encryptValue('WEBHOOK_SECRET', 'w'.repeat(40), key),
        SOME_OTHER_TOOL: 'enc:v1:not-ours',
      },
      dir,
    );
    expect(loaded.config.WEBHOOK_SECRET).to.equal('w'.repeat(40));
  });

  it('no file: nothing read, defaults apply', () => {
    const loaded = loadConfiguration({ ENV_FILE: 'missing.env' }, dir);
    expect(loaded.envFile.found).to.equal(false);
    expect(loaded.config.PORT).to.equal(3000);
  });

  it('a file that exists but cannot be read: ConfigError naming ENV_FILE', async () => {
    await mkdir(join(dir, 'a-folder.env'));
    try {
      loadEnvironment({ ENV_FILE: 'a-folder.env' }, dir);
      expect.fail('expected a ConfigError');
    } catch (error) {
      expect(error).to.be.instanceOf(ConfigError);
      expect((error as ConfigError).problems[0]).to.match(/^ENV_FILE: the env file .*a-folder\.env cannot be read \(EISDIR\)/);
    }
  });

  it('a bad value in the file is named like one in the environment', async () => {
    await writeFile(join(dir, '.env'), 'PORT=eighty\n');
    await chmod(join(dir, '.env'), 0o600);
    expect(() => loadConfiguration({}, dir)).to.throw(ConfigError, /PORT/);
  });

  it('an encrypted value in the file is opened with the master key of the real environment before parsing', async () => {
    const key = randomBytes(32);
    const secret = randomBytes(32).toString('hex');
    await writeFile(join(dir, '.env'), `METRICS_TOKEN=${encryptValue('METRICS_TOKEN', secret, key)}\n`);
    const loaded = loadConfiguration({ CONFIG_MASTER_KEY: key.toString('base64') }, dir);
    expect(loaded.config.METRICS_TOKEN).to.equal(secret);
    expect(loaded.sources.METRICS_TOKEN).to.equal('env file');
  });

  it("Node's process.loadEnvFile also keeps existing variables (checked, not used: it writes process.env)", async () => {
    await writeFile(join(dir, 'probe.env'), 'PROBE_A=from-file\nPROBE_B=from-file\n');
    const script = `process.loadEnvFile(${JSON.stringify(join(dir, 'probe.env'))}); console.log(process.env.PROBE_A + ' ' + process.env.PROBE_B)`;
    const run = spawnSync(process.execPath, ['-e', script], { env: { PATH: process.env.PATH, PROBE_A: 'real' }, encoding: 'utf8' });
    expect(run.stdout.trim()).to.equal('real from-file');
  });
});
