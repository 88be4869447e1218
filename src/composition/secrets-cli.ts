// `cli config keygen|encrypt|rotate|check`: the master key and the `enc:v1:` values of
// docs/configuration.md ("Encrypted values"). No command takes a secret from argv (shell history):
// `encrypt` reads it from stdin, the keys come from the environment. Failures throw; cli.ts prints
// the message and exits 1.
import { closeSync, fchmodSync, fsyncSync, openSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { problemLines } from '../config/config-error.js';
import { loadEnvironment } from '../config/env-file.js';
import { encryptValue, encryptedEntriesOf, isEncrypted, openValue, rotateEnvText } from '../config/encrypted-values.js';
import { generateMasterKey, keyIdOf, masterKeysFrom, parseMasterKey, type MasterKeys } from '../config/master-key.js';

export const SECRETS_COMMANDS: ReadonlySet<string> = new Set(['keygen', 'encrypt', 'rotate', 'check']);

export const SECRETS_USAGE =
  'usage: config keygen | config encrypt --name VAR (value on stdin) | config rotate --file .env | config check [--file .env]';

export interface SecretsCliOptions {
  name?: string;
  file?: string;
}

/** Where a command reads and writes: the process's own streams and environment, or a test's. */
export interface SecretsCliIo {
  env: Record<string, string | undefined>;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  out: (text: string) => void;
  err: (text: string) => void;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function processIo(): SecretsCliIo {
  return {
    env: process.env,
    stdin: process.stdin,
    out: (text) => void process.stdout.write(`${text}\n`),
    err: (text) => void process.stderr.write(`${text}\n`),
  };
}

export async function runSecretsCommand(args: string[], options: SecretsCliOptions, io: SecretsCliIo = processIo()): Promise<void> {
  const [sub] = args;
  switch (sub) {
    case 'keygen': {
      const key = generateMasterKey();
      io.out(key);
      io.err(`key id ${keyIdOf(parseMasterKey(key)!)}: store the key in your secret manager; it is not shown again`);
      return;
    }
    case 'encrypt':
      return encrypt(options, io);
    case 'rotate':
      return rotate(options, io);
    case 'check':
      return check(options, io);
    default:
      throw new Error(SECRETS_USAGE);
  }
}

function keysOf(io: SecretsCliIo): MasterKeys {
  const keys = masterKeysFrom(io.env);
  for (const warning of keys.warnings ?? []) io.err(`warning: ${warning}`);
  return keys;
}

function requireCurrent(keys: MasterKeys, what: string): Buffer {
  if (!keys.current) throw new Error(`${what} needs the master key: set CONFIG_MASTER_KEY or CONFIG_MASTER_KEY_FILE`);
  return keys.current;
}

async function encrypt(options: SecretsCliOptions, io: SecretsCliIo): Promise<void> {
  if (!options.name || !ENV_NAME.test(options.name))
    throw new Error(`config encrypt --name VAR: the variable the value is for\n${SECRETS_USAGE}`);
  const key = requireCurrent(keysOf(io), 'config encrypt');
  const value = await readSecret(io, options.name);
  if (value === '') throw new Error('config encrypt: no value on stdin');
  if (isEncrypted(value)) throw new Error('config encrypt: the value is already encrypted (it starts with enc:)');
  io.out(`${options.name}=${encryptValue(options.name, value, key)}`);
}

async function rotate(options: SecretsCliOptions, io: SecretsCliIo): Promise<void> {
  if (!options.file) throw new Error(`config rotate --file PATH: the env file to re-encrypt\n${SECRETS_USAGE}`);
  const keys = keysOf(io);
  const current = requireCurrent(keys, 'config rotate');
  const path = realpathSync(options.file);
  const rotation = rotateEnvText(readFileSync(path, 'utf8'), { ...keys, current });
  if (rotation.failures.length > 0)
    throw new Error(
      problemLines(
        `${options.file} is unchanged: ${rotation.failures.length} value(s) do not decrypt under either key:`,
        rotation.failures,
      ),
    );
  if (rotation.rotated.length > 0) writeAtomically(path, rotation.text);
  io.out(
    `rotated ${rotation.rotated.length} value(s) in ${options.file} to key ${keyIdOf(current)}` +
      (rotation.unchanged.length > 0 ? ` (${rotation.unchanged.length} already under it)` : '') +
      (rotation.rotated.length > 0 ? `: ${rotation.rotated.join(', ')}` : ''),
  );
}

/** `--file`: that file's values, under the keys of the environment. Else what a boot would read: the environment over ENV_FILE. */
async function check(options: SecretsCliOptions, io: SecretsCliIo): Promise<void> {
  const layered = options.file ? undefined : loadEnvironment(io.env);
  const keys = keysOf({ ...io, env: layered?.env ?? io.env });
  const entries = layered
    ? Object.entries(layered.env)
        .filter((entry): entry is [string, string] => entry[1] !== undefined && isEncrypted(entry[1]))
        .map(([name, value]) => ({ name, value }))
    : encryptedEntriesOf(readFileSync(options.file!, 'utf8'));
  const where = options.file ?? (layered?.envFile.found ? `the environment and ${layered.envFile.path}` : 'the environment');
  let failed = 0;
  for (const { name, value } of entries) {
    const opened = openValue(name, value, keys);
    if (opened.ok)
      io.out(`${name}  ok  key ${opened.keyId} (${opened.key === 'current' ? 'CONFIG_MASTER_KEY' : 'CONFIG_MASTER_KEY_PREVIOUS'})`);
    else {
      failed += 1;
      io.out(`${name}  FAILED  ${opened.reason}`);
    }
  }
  if (failed > 0) throw new Error(`${failed} of ${entries.length} encrypted value(s) in ${where} do not decrypt`);
  io.out(`${entries.length} encrypted value(s) in ${where} decrypt`);
}

/**
 * Replaces `path` by a file holding `text`, or leaves it as it was: a temporary file beside it,
 * with the same mode, synced, then renamed over it.
 */
function writeAtomically(path: string, text: string): void {
  const mode = statSync(path).mode & 0o777;
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', mode);
  try {
    try {
      fchmodSync(fd, mode); // openSync's mode passes through the umask
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** The value on stdin: piped (one trailing newline dropped), or typed at a terminal without echo. */
async function readSecret(io: SecretsCliIo, name: string): Promise<string> {
  const { stdin } = io;
  if (stdin.isTTY && stdin.setRawMode) {
    io.err(`value of ${name} (not shown; Enter to finish):`);
    return readHidden(stdin as SecretsCliIo['stdin'] & { setRawMode: (raw: boolean) => unknown });
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

function readHidden(stdin: SecretsCliIo['stdin'] & { setRawMode: (raw: boolean) => unknown }): Promise<string> {
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (outcome: () => void) => {
      stdin.removeListener('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      outcome();
    };
    const onData = (chunk: Buffer | string) => {
      for (const char of chunk.toString()) {
        if (char === '\r' || char === '\n' || char === '\u0004') return finish(() => resolve(value));
        if (char === '\u0003') return finish(() => reject(new Error('config encrypt: cancelled')));
        if (char === '\u007f' || char === '\b') value = [...value].slice(0, -1).join('');
        else value += char;
      }
    };
    stdin.setRawMode(true);
    stdin.on('data', onData);
    stdin.resume();
  });
}
