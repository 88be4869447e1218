// Where the CLI sends its requests and with which key: flags first, then the environment, then
// (for the key) the development key file `npm start` writes. `PORT` names the local API's port.
import { existsSync, readFileSync } from 'node:fs';
import { CliError, EXIT } from './exit-codes.js';

export interface ConnectionFlags {
  server?: string;
  key?: string;
}

export interface Connection {
  /** Without a trailing slash. */
  baseUrl: string;
  /** Undefined when no flag, variable or key file gives one: the first request says how to get one. */
  key: string | undefined;
  /** Where the key came from, for the error that names what to fix. */
  keySource: string;
}

export const DEFAULT_DEV_KEY_FILE = '.agentic-sdlc/admin-key';

type Env = Record<string, string | undefined>;

// An empty variable counts as unset: `SDLC_API_KEY= sdlc …` is how a shell clears one.
const set = (value: string | undefined): string | undefined => (value?.trim() ? value.trim() : undefined);

/** The API's base URL: --server, SDLC_API_URL, API_URL, else http://127.0.0.1:$PORT (3000). */
export function resolveServer(flags: ConnectionFlags, env: Env = process.env): string {
  const url = set(flags.server) ?? set(env.SDLC_API_URL) ?? set(env.API_URL) ?? `http://127.0.0.1:${set(env.PORT) ?? '3000'}`;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new CliError(`--server / SDLC_API_URL: "${url}" is not an http(s) URL`, EXIT.usage);
  }
  return url.replace(/\/+$/, '');
}

/** The API key: --key, SDLC_API_KEY, else the development key file (DEV_ADMIN_KEY_FILE). */
export function resolveConnection(flags: ConnectionFlags, env: Env = process.env): Connection {
  const baseUrl = resolveServer(flags, env);
  const keyFile = set(env.DEV_ADMIN_KEY_FILE) ?? DEFAULT_DEV_KEY_FILE;
  if (set(flags.key)) return { baseUrl, key: set(flags.key), keySource: '--key' };
  if (set(env.SDLC_API_KEY)) return { baseUrl, key: set(env.SDLC_API_KEY), keySource: 'SDLC_API_KEY' };
  const fromFile = existsSync(keyFile) ? set(readFileSync(keyFile, 'utf8')) : undefined;
  return { baseUrl, key: fromFile, keySource: keyFile };
}
