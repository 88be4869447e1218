// API keys in Postgres (hand-written SQL on the pool). Creation and rotation take a transaction
// advisory lock on the key's name, so two concurrent creates of one name cannot both pass the
// "no active key has this name" check. Each change (create, revoke, rotate) writes its audit
// event in its own transaction: the change and its event commit together or not at all.
import type pg from 'pg';
import type { IdentityKind } from '../../domain/identity.js';
import type {
  ApiKeyRepository,
  ApiKeyView,
  CreateKeyResult,
  NewApiKey,
  RevokeKeyResult,
  RotateKeyResult,
  StoredApiKey,
} from '../../services/identity.ports.js';
import { audited } from './audit.repository.js';
import { inTransaction, type Database } from './database.js';

interface ApiKeyRow {
  id: string;
  key_id: string;
  name: string;
  kind: string;
  roles: string[];
  secret_hash: string;
  created_at: Date;
  created_by: string;
  expires_at: Date | null;
  revoked_at: Date | null;
  revoked_by: string | null;
  last_used_at: Date | null;
  rotated_from: string | null;
}

const COLUMNS =
  'id, key_id, name, kind, roles, secret_hash, created_at, created_by, expires_at, revoked_at, revoked_by, last_used_at, rotated_from';
/** A key that authenticates now. */
const ACTIVE = 'revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())';

function toStored(row: ApiKeyRow): StoredApiKey {
  return {
    id: row.id,
    keyId: row.key_id,
    name: row.name,
    kind: (row.kind === 'service' ? 'service' : 'user') as IdentityKind,
    roles: row.roles ?? [],
    secretHash: row.secret_hash,
    createdAt: row.created_at,
    createdBy: row.created_by,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    revokedBy: row.revoked_by,
    lastUsedAt: row.last_used_at,
    rotatedFrom: row.rotated_from,
  };
}

function toView(row: ApiKeyRow): ApiKeyView {
  const { secretHash: _hash, ...view } = toStored(row);
  return view;
}

async function insert(client: pg.PoolClient, key: NewApiKey, rotatedFrom: string | null): Promise<ApiKeyRow> {
  const { rows } = await client.query<ApiKeyRow>(
    `INSERT INTO api_keys (id, key_id, name, kind, roles, secret_hash, created_by, expires_at, rotated_from)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${COLUMNS}`,
    [key.id, key.keyId, key.name, key.kind, key.roles, key.secretHash, key.createdBy, key.expiresAt, rotatedFrom],
  );
  return rows[0]!;
}

const lockName = (client: pg.PoolClient, name: string) =>
  client.query("SELECT pg_advisory_xact_lock(hashtext('api_key_name:' || $1))", [name]);

export function createApiKeyRepository({ pool }: Pick<Database, 'pool'>): ApiKeyRepository {
  return {
    create: (key, audit) =>
      inTransaction(pool, async (client): Promise<CreateKeyResult> => {
        await lockName(client, key.name);
        const taken = await client.query(`SELECT 1 FROM api_keys WHERE name = $1 AND ${ACTIVE} LIMIT 1`, [key.name]);
        if (taken.rowCount) return audited(client, audit, { kind: 'name_taken' });
        return audited(client, audit, { kind: 'created', key: toView(await insert(client, key, null)) });
      }),

    async findByKeyId(keyId) {
      const { rows } = await pool.query<ApiKeyRow>({
        name: 'api_key_by_key_id',
        text: `SELECT ${COLUMNS} FROM api_keys WHERE key_id = $1`,
        values: [keyId],
      });
      return rows[0] ? toStored(rows[0]) : null;
    },

    async findActiveByName(name) {
      // During a rotation's grace period the old and the new key are both active: the newest speaks.
      const { rows } = await pool.query<ApiKeyRow>({
        name: 'api_key_active_by_name',
        text: `SELECT ${COLUMNS} FROM api_keys WHERE name = $1 AND ${ACTIVE} ORDER BY created_at DESC, id DESC LIMIT 1`,
        values: [name],
      });
      return rows[0] ? toView(rows[0]) : null;
    },

    async list({ includeInactive }) {
      const { rows } = await pool.query<ApiKeyRow>(
        `SELECT ${COLUMNS} FROM api_keys ${includeInactive ? '' : `WHERE ${ACTIVE}`} ORDER BY created_at DESC, id DESC`,
      );
      return rows.map(toView);
    },

    revoke: (id, by, audit) =>
      inTransaction(pool, async (client): Promise<RevokeKeyResult> => {
        const { rows } = await client.query<ApiKeyRow & { active: boolean }>(
          `SELECT ${COLUMNS}, (${ACTIVE}) AS active FROM api_keys WHERE id = $1 FOR UPDATE`,
          [id],
        );
        const row = rows[0];
        if (!row) return audited(client, audit, { kind: 'not_found' });
        if (!row.active) return audited(client, audit, { kind: 'inactive', key: toView(row) });
        const updated = await client.query<ApiKeyRow>(
          `UPDATE api_keys SET revoked_at = now(), revoked_by = $2 WHERE id = $1 RETURNING ${COLUMNS}`,
          [id, by],
        );
        return audited(client, audit, { kind: 'revoked', key: toView(updated.rows[0]!) });
      }),

    rotate: (id, next, oldExpiresAt, audit) =>
      inTransaction(pool, async (client): Promise<RotateKeyResult> => {
        const { rows } = await client.query<ApiKeyRow & { active: boolean }>(
          `SELECT ${COLUMNS}, (${ACTIVE}) AS active FROM api_keys WHERE id = $1 FOR UPDATE`,
          [id],
        );
        const row = rows[0];
        if (!row) return audited(client, audit, { kind: 'not_found' });
        if (!row.active) return audited(client, audit, { kind: 'inactive', key: toView(row) });
        // Under the row lock, so of two rotations at once the second sees the first's successor:
        // a repeated rotate (a double click, a retry after a lost answer) issues no second key.
        const successor = await client.query<{ id: string }>(`SELECT id FROM api_keys WHERE rotated_from = $1 AND ${ACTIVE} LIMIT 1`, [id]);
        if (successor.rows[0]) {
          return audited(client, audit, { kind: 'rotated_already', key: toView(row), successorId: successor.rows[0].id });
        }
        await lockName(client, row.name);
        // The overlap never lengthens the old key's life.
        const old = await client.query<ApiKeyRow>(
          `UPDATE api_keys SET expires_at = LEAST(COALESCE(expires_at, 'infinity'::timestamptz), $2) WHERE id = $1 RETURNING ${COLUMNS}`,
          [id, oldExpiresAt],
        );
        const created = await insert(
          client,
          { ...next, name: row.name, kind: row.kind === 'service' ? 'service' : 'user', roles: row.roles },
          id,
        );
        return audited(client, audit, { kind: 'rotated', old: toView(old.rows[0]!), key: toView(created) });
      }),

    async touch(lastUsed) {
      if (lastUsed.size === 0) return;
      const ids = [...lastUsed.keys()];
      const times = ids.map((id) => lastUsed.get(id)!.toISOString());
      await pool.query(
        `UPDATE api_keys k SET last_used_at = GREATEST(COALESCE(k.last_used_at, t.at), t.at)
         FROM unnest($1::uuid[], $2::timestamptz[]) AS t(id, at) WHERE k.id = t.id`,
        [ids, times],
      );
    },
  };
}
