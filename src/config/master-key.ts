// The master keys that open `enc:v1:` values: CONFIG_MASTER_KEY (or the file CONFIG_MASTER_KEY_FILE
// names, as Docker and Kubernetes mount secrets) and, during a rotation, CONFIG_MASTER_KEY_PREVIOUS.
// Read from a plain record so tests and the CLI pass their own; no message ever holds a key.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { ConfigError, problemLines } from './config-error.js';

/** AES-256: a master key is 32 bytes. */
export const MASTER_KEY_BYTES = 32;

export interface MasterKeys {
  /** Encrypts new values and opens values under its id (CONFIG_MASTER_KEY or CONFIG_MASTER_KEY_FILE). */
  current?: Buffer;
  /** Opens values under the key being retired (CONFIG_MASTER_KEY_PREVIOUS); never encrypts. */
  previous?: Buffer;
  /** What an operator should fix that does not stop the process (a key file others may read). */
  warnings?: string[];
}

/** Permission bits of a file (`stat.mode & 0o777`). */
export type FileModeReader = (path: string) => number;

const HEX_KEY = /^[0-9a-fA-F]{64}$/;
// 32 bytes are 43 base64 characters and one `=` of padding; url-safe and unpadded forms are accepted.
const BASE64_KEY = /^[A-Za-z0-9+/_-]{43}=?$/;
const KEY_FORMAT = `${MASTER_KEY_BYTES} random bytes as 64 hex digits or 44 base64 characters (\`npm run cli -- config keygen\` makes one)`;

const readUtf8 = (path: string): string => readFileSync(path, 'utf8');
const modeOf: FileModeReader = (path) => statSync(path).mode & 0o777;

/** The id a value names its key by: the first 8 hex digits of the SHA-256 of the raw key. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/** A new random master key, base64. */
export function generateMasterKey(): string {
  return randomBytes(MASTER_KEY_BYTES).toString('base64');
}

/** The raw key of `text` (hex or base64, surrounding whitespace ignored); undefined when it is neither. */
export function parseMasterKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (HEX_KEY.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (!BASE64_KEY.test(trimmed)) return undefined;
  const standard = trimmed.replaceAll('-', '+').replaceAll('_', '/').replace(/=$/, '');
  const key = Buffer.from(standard, 'base64');
  // Node's decoder ignores stray low bits of the last character; a key that does not encode back is a typo.
  return key.length === MASTER_KEY_BYTES && key.toString('base64').replace(/=$/, '') === standard ? key : undefined;
}

const present = (value: string | undefined): value is string => value !== undefined && value !== '';

/**
 * The master keys `env` gives. Throws ConfigError (CONFIG_INVALID) naming each variable that is
 * malformed, unreadable or contradictory: both CONFIG_MASTER_KEY and CONFIG_MASTER_KEY_FILE, or a
 * previous key without a current one. A key file readable by group or others is a warning, not a
 * refusal: Kubernetes (0644) and Docker (0444) mount secrets that way by default.
 */
export function masterKeysFrom(
  env: Record<string, string | undefined>,
  readFile: (path: string) => string = readUtf8,
  fileMode: FileModeReader = modeOf,
): MasterKeys {
  const details: { field: string; message: string }[] = [];
  const warnings: string[] = [];
  const parse = (field: string, text: string): Buffer | undefined => {
    const key = parseMasterKey(text);
    if (!key) details.push({ field, message: `not a master key: expected ${KEY_FORMAT}; got ${text.trim().length} characters` });
    return key;
  };

  let current: Buffer | undefined;
  const inline = env.CONFIG_MASTER_KEY;
  const file = env.CONFIG_MASTER_KEY_FILE;
  if (present(inline) && present(file)) {
    details.push({ field: 'CONFIG_MASTER_KEY_FILE', message: 'set either CONFIG_MASTER_KEY or CONFIG_MASTER_KEY_FILE, not both' });
  } else if (present(inline)) {
    current = parse('CONFIG_MASTER_KEY', inline);
  } else if (present(file)) {
    let text: string | undefined;
    try {
      text = readFile(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      details.push({ field: 'CONFIG_MASTER_KEY_FILE', message: `cannot read ${file}: ${code}` });
    }
    if (text !== undefined) current = parse('CONFIG_MASTER_KEY_FILE', text);
    if (current) warnings.push(...looseModeWarning(file, fileMode));
  }

  let previous: Buffer | undefined;
  const old = env.CONFIG_MASTER_KEY_PREVIOUS;
  if (present(old)) {
    previous = parse('CONFIG_MASTER_KEY_PREVIOUS', old);
    if (!present(inline) && !present(file))
      details.push({
        field: 'CONFIG_MASTER_KEY_PREVIOUS',
        message: 'set only during a rotation, beside the new key in CONFIG_MASTER_KEY (or CONFIG_MASTER_KEY_FILE)',
      });
    if (previous && current?.equals(previous)) warnings.push('CONFIG_MASTER_KEY_PREVIOUS is the same key as CONFIG_MASTER_KEY: remove it');
  }

  if (details.length > 0) throw new ConfigError('CONFIG_INVALID', problemLines('Invalid master key configuration:', details), { details });
  return { ...(current && { current }), ...(previous && { previous }), ...(warnings.length > 0 && { warnings }) };
}

function looseModeWarning(path: string, fileMode: FileModeReader): string[] {
  let mode: number;
  try {
    mode = fileMode(path);
  } catch {
    return []; // It was just read; a stat that fails now tells nothing worth stopping for.
  }
  if ((mode & 0o077) === 0) return [];
  return [
    `CONFIG_MASTER_KEY_FILE ${path} has mode ${mode.toString(8).padStart(4, '0')}: group or others may read the master key; make it 0600 or 0400 (Kubernetes: defaultMode 0400)`,
  ];
}
