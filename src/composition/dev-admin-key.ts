// The first start of a development deployment makes an admin key, so `npm ci && npm start` works
// in one step with nothing anonymous: the key goes to a file only its owner can read (mode 0600
// in a 0700 folder), the CLI and the README tour read it from there, and no log line carries it.
// A later start reuses the key while it still authenticates (a reset database gets a new one).
// Production and test never call this.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AppError } from '../domain/errors.js';
import { terminalActor, type ApiKeyService } from '../services/api-key.service.js';

export const DEV_ADMIN_KEY_NAME = 'dev-admin';

export interface DevAdminKey {
  /** Absolute path of the key file. */
  path: string;
  created: boolean;
}

/** Reads the key file, or undefined when it is missing or unreadable. */
function readKey(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export async function ensureDevAdminKey(keys: Pick<ApiKeyService, 'authenticate' | 'create'>, file: string): Promise<DevAdminKey> {
  const path = resolve(file);
  const existing = existsSync(path) ? readKey(path) : undefined;
  if (existing) {
    try {
      const identity = await keys.authenticate(existing);
      if (identity.roles.includes('admin')) return { path, created: false };
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
    }
  }
  // The name is an identity: a second development database may already hold a dev-admin.
  let issued;
  try {
    issued = await keys.create({ name: DEV_ADMIN_KEY_NAME, roles: ['admin'], kind: 'user' }, terminalActor('dev-bootstrap'));
  } catch (error) {
    if (!(error instanceof AppError) || error.code !== 'API_KEY_NAME_TAKEN') throw error;
    issued = await keys.create(
      { name: `${DEV_ADMIN_KEY_NAME}-${randomBytes(3).toString('hex')}`, roles: ['admin'], kind: 'user' },
      terminalActor('dev-bootstrap'),
    );
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // Written under another name, then renamed: a reader never sees half a key.
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${issued.key}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
  return { path, created: true };
}
