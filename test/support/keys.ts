// API keys for processes a test spawns (the API, workers, all-in-one): made straight in the
// database the process uses, as `cli keys create` does. Key names are identities, unique among
// the active keys of that database, so each gets a random suffix.
import { randomBytes } from 'node:crypto';
import { createDatabase } from '../../src/infra/db/database.js';
import { createApiKeyRepository } from '../../src/infra/db/api-key.repository.js';
import { createApiKeyService, terminalActor } from '../../src/services/api-key.service.js';

export interface TestKey {
  /** The key itself (`sdlc_…`): send it as `Authorization: Bearer`. */
  key: string;
  /** The identity it stands for (the key's name), as audit events and `actor` fields show it. */
  id: string;
  /** The stored key's id (for revoke/rotate). */
  recordId: string;
}

/** Creates a key with these roles in the database at `databaseUrl` (name: `<name>-<random>`). */
export async function createTestKey(databaseUrl: string, name: string, roles: string[] = ['admin']): Promise<TestKey> {
  const db = createDatabase(databaseUrl, 1);
  try {
    const keys = createApiKeyService({ repo: createApiKeyRepository(db) });
    const issued = await keys.create({ name: `${name}-${randomBytes(4).toString('hex')}`, roles }, terminalActor('test'));
    return { key: issued.key, id: issued.record.name, recordId: issued.record.id };
  } finally {
    await db.close();
  }
}

/** An HTTP Basic header with the key as password (what a browser sends to Bull Board). */
export const basicAuth = (key: string, user = 'operator'): Record<string, string> => ({
  authorization: `Basic ${Buffer.from(`${user}:${key}`).toString('base64')}`,
});
