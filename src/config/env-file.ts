// The env file (ENV_FILE, default `.env` in the working directory): read when it exists with
// Node's own parser, and merged under the real environment, which always wins. Each value
// remembers where it came from, for `config print`.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { ConfigError } from './config-error.js';

/** Where a variable's value came from. */
export type ValueSource = 'env' | 'env file';

export interface LayeredEnvironment {
  env: Record<string, string | undefined>;
  sources: Record<string, ValueSource>;
  /** The env file looked for, and whether it was there. */
  envFile: { path: string; found: boolean };
}

export const DEFAULT_ENV_FILE = '.env';

/** The variables of the env file at `path`; undefined when there is none. Other read errors throw ConfigError naming ENV_FILE. */
export function readEnvFile(
  path: string,
  read: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): Record<string, string> | undefined {
  let text: string;
  try {
    text = read(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    const message = `the env file ${path} cannot be read (${code ?? (error as Error).message})`;
    throw new ConfigError('CONFIG_INVALID', `Invalid configuration:\n  - ENV_FILE: ${message}`, {
      details: [{ field: 'ENV_FILE', message }],
    });
  }
  // util.parseEnv only parses; unlike process.loadEnvFile it does not touch process.env, so the
  // precedence below is ours to decide (loadEnvFile would not override either, but writes globally).
  return Object.fromEntries(Object.entries(parseEnv(text)).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/**
 * The real environment over the env file: a variable set in the real environment (even to an
 * empty value) is never replaced by the file's. ENV_FILE itself is read from the real environment only.
 */
export function layerEnvironment(
  real: Readonly<Record<string, string | undefined>>,
  fileValues: Readonly<Record<string, string>> = {},
): Omit<LayeredEnvironment, 'envFile'> {
  const env: Record<string, string | undefined> = {};
  const sources: Record<string, ValueSource> = {};
  for (const [name, value] of Object.entries(fileValues)) {
    if (name === 'ENV_FILE' || real[name] !== undefined) continue;
    env[name] = value;
    sources[name] = 'env file';
  }
  for (const [name, value] of Object.entries(real)) {
    if (value === undefined) continue;
    env[name] = value;
    sources[name] = 'env';
  }
  return { env, sources };
}

/** The real environment layered over the env file it names (ENV_FILE, default `.env`, relative to `cwd`). */
export function loadEnvironment(real: Readonly<Record<string, string | undefined>>, cwd: string = process.cwd()): LayeredEnvironment {
  const path = resolve(cwd, real.ENV_FILE || DEFAULT_ENV_FILE);
  const fileValues = readEnvFile(path);
  return { ...layerEnvironment(real, fileValues), envFile: { path, found: fileValues !== undefined } };
}
