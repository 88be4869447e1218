// Encrypted configuration values: `enc:v1:<keyId>:<iv>:<ciphertext+tag>` (AES-256-GCM, base64url),
// with the variable's name as additional authenticated data so a value only opens under the name
// it was encrypted for. Pure functions of their arguments; no message holds a plaintext or ciphertext.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConfigError, problemLines } from './config-error.js';
import { MASTER_KEY_BYTES, keyIdOf, type MasterKeys } from './master-key.js';

const ALGORITHM = 'aes-256-gcm';
const VERSION = 'v1';
const PREFIX = `enc:${VERSION}:`;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[0-9a-f]{8}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FORMAT = 'expected enc:v1:<key id>:<iv>:<ciphertext> (as `npm run cli -- config encrypt` prints it)';

/** Which master key opened a value. */
export type KeyRole = 'current' | 'previous';

export type OpenedValue = { ok: true; plaintext: string; keyId: string; key: KeyRole } | { ok: false; reason: string };

/** One variable that does not decrypt: `field` is its name, `message` why. */
export interface DecryptProblem {
  field: string;
  message: string;
}

/** Encrypts `plaintext` for the variable `name` under `key` (a fresh random IV each call). */
export function encryptValue(name: string, plaintext: string, key: Buffer): string {
  if (key.length !== MASTER_KEY_BYTES) throw new RangeError(`a master key is ${MASTER_KEY_BYTES} bytes, not ${key.length}`);
  if (!ENV_NAME.test(name)) throw new RangeError(`not an environment variable name: ${JSON.stringify(name)}`);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(name, 'utf8'));
  const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${PREFIX}${keyIdOf(key)}:${iv.toString('base64url')}:${sealed.toString('base64url')}`;
}

/**
 * Whether `value` is meant as an encrypted value: anything starting `enc:`, so a mistyped or
 * future-version value is reported rather than used as a literal secret.
 */
export function isEncrypted(value: string): boolean {
  return value.startsWith('enc:');
}

interface ParsedValue {
  keyId: string;
  iv: Buffer;
  sealed: Buffer;
}

function decodeBase64url(text: string): Buffer | undefined {
  if (!BASE64URL.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

function parseValue(value: string): ParsedValue | string {
  const version = /^enc:([^:]*):/.exec(value)?.[1];
  if (version !== VERSION)
    return `unsupported encrypted value version ${JSON.stringify(version ?? '')}: this build reads ${VERSION}; ${FORMAT}`;
  const parts = value.slice(PREFIX.length).split(':');
  if (parts.length !== 3) return `malformed encrypted value: ${FORMAT}`;
  const [keyId, ivText, sealedText] = parts as [string, string, string];
  if (!KEY_ID.test(keyId)) return `malformed encrypted value: the key id is not 8 hex digits; ${FORMAT}`;
  const iv = decodeBase64url(ivText);
  if (iv?.length !== IV_BYTES) return `malformed encrypted value: the IV is not ${IV_BYTES} bytes of base64url; ${FORMAT}`;
  const sealed = decodeBase64url(sealedText);
  if (!sealed || sealed.length < TAG_BYTES) return `malformed encrypted value: the ciphertext is not base64url with its tag; ${FORMAT}`;
  return { keyId, iv, sealed };
}

function tryOpen(name: string, parsed: ParsedValue, key: Buffer): string | undefined {
  const decipher = createDecipheriv(ALGORITHM, key, parsed.iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(name, 'utf8'));
  decipher.setAuthTag(parsed.sealed.subarray(parsed.sealed.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(parsed.sealed.subarray(0, parsed.sealed.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    return undefined; // GCM refused the tag: wrong key, altered value, or another variable's value.
  }
}

function keysHeld(keys: MasterKeys): string {
  const held = [
    ...(keys.current ? [`${keyIdOf(keys.current)} (CONFIG_MASTER_KEY)`] : []),
    ...(keys.previous ? [`${keyIdOf(keys.previous)} (CONFIG_MASTER_KEY_PREVIOUS)`] : []),
  ];
  return held.join(' and ');
}

/** Decrypts the value of the variable `name`, saying which key opened it, or why none did. */
export function openValue(name: string, value: string, keys: MasterKeys): OpenedValue {
  const parsed = parseValue(value);
  if (typeof parsed === 'string') return { ok: false, reason: parsed };
  const candidates = (
    [
      ['current', keys.current],
      ['previous', keys.previous],
    ] as const
  ).filter((entry): entry is [KeyRole, Buffer] => entry[1] !== undefined);
  if (candidates.length === 0)
    return {
      ok: false,
      reason: `encrypted under key ${parsed.keyId}, but no master key is set (CONFIG_MASTER_KEY or CONFIG_MASTER_KEY_FILE)`,
    };
  const matching = candidates.filter(([, key]) => keyIdOf(key) === parsed.keyId);
  if (matching.length === 0)
    return { ok: false, reason: `encrypted under key ${parsed.keyId}, but the master key given is ${keysHeld(keys)}` };
  for (const [role, key] of matching) {
    const plaintext = tryOpen(name, parsed, key);
    if (plaintext !== undefined) return { ok: true, plaintext, keyId: parsed.keyId, key: role };
  }
  return {
    ok: false,
    reason: `does not decrypt under key ${parsed.keyId}: the value was altered, or was encrypted for another variable (a value opens only under the name it was encrypted for)`,
  };
}

/**
 * A copy of `env` with every encrypted value decrypted. Throws ConfigError (CONFIG_DECRYPT_FAILED)
 * with one detail per variable that does not decrypt, all at once. With `only`, variables outside
 * it are left as they are: another program's variable that happens to start with `enc:` is not ours
 * to open, and must not stop the platform from starting.
 */
export function decryptEnvironment(
  env: Record<string, string | undefined>,
  keys: MasterKeys,
  only?: ReadonlySet<string>,
): Record<string, string | undefined> {
  const decrypted: Record<string, string | undefined> = { ...env };
  const details: DecryptProblem[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !isEncrypted(value) || (only && !only.has(name))) continue;
    const opened = openValue(name, value, keys);
    if (opened.ok) decrypted[name] = opened.plaintext;
    else details.push({ field: name, message: opened.reason });
  }
  if (details.length > 0)
    throw new ConfigError(
      'CONFIG_DECRYPT_FAILED',
      problemLines(`Cannot decrypt ${details.length} configuration value${details.length === 1 ? '' : 's'}:`, details),
      { details },
    );
  return decrypted;
}

// One `NAME=enc:…` assignment of an env file: optional `export`, optional quotes around the value.
const ENV_FILE_ENCRYPTED = /^([ \t]*(?:export[ \t]+)?)([A-Za-z_][A-Za-z0-9_]*)([ \t]*=[ \t]*)(["']?)(enc:[^\s"'#]*)\4/gm;

/** The encrypted assignments of an env file's text, in file order. */
export function encryptedEntriesOf(text: string): { name: string; value: string }[] {
  return [...text.matchAll(ENV_FILE_ENCRYPTED)].map((match) => ({ name: match[2]!, value: match[5]! }));
}

export interface EnvTextRotation {
  /** The file's text with every value re-encrypted under the current key; everything else untouched. */
  text: string;
  /** Variables re-encrypted under the current key. */
  rotated: string[];
  /** Variables already under the current key, left as they were. */
  unchanged: string[];
  /** Variables that did not decrypt under either key (then `text` must not be written). */
  failures: DecryptProblem[];
}

/** Re-encrypts every encrypted value of an env file's text under `keys.current`, from whichever key opens it. */
export function rotateEnvText(text: string, keys: MasterKeys & { current: Buffer }): EnvTextRotation {
  const currentId = keyIdOf(keys.current);
  const rotation: EnvTextRotation = { text, rotated: [], unchanged: [], failures: [] };
  rotation.text = text.replace(
    ENV_FILE_ENCRYPTED,
    (whole: string, lead: string, name: string, equals: string, quote: string, value: string) => {
      const opened = openValue(name, value, keys);
      if (!opened.ok) {
        rotation.failures.push({ field: name, message: opened.reason });
        return whole;
      }
      if (opened.keyId === currentId && opened.key === 'current') {
        rotation.unchanged.push(name);
        return whole;
      }
      rotation.rotated.push(name);
      return `${lead}${name}${equals}${quote}${encryptValue(name, opened.plaintext, keys.current)}${quote}`;
    },
  );
  return rotation;
}
