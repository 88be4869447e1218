// `cli keys …`: API keys managed straight in Postgres, so the first admin key can be made before
// any API runs. The actor in the audit trail is `cli:<OS user>` (whoever holds the database).
// `create` and `rotate` print the key alone on the last line of stdout (`--json`: a document).
import { z } from 'zod';
import { loadConfig } from '../config.js';
import { DEFAULT_ROTATION_OVERLAP_MS, keyLifetimeSchema, rotationOverlapSchema } from '../domain/identity.js';
import { createApiKeyRepository } from '../infra/db/api-key.repository.js';
import { createDatabase, poolSettings } from '../infra/db/database.js';
import { createApiKeyService, terminalActor } from '../services/api-key.service.js';
import type { ApiKeyView } from '../services/identity.ports.js';
import { usageError } from '../cli/exit-codes.js';

export interface KeysCliOptions {
  name?: string;
  role?: string[];
  expires?: string;
  overlap?: string;
  service?: boolean;
  all?: boolean;
  json?: boolean;
}

const USAGE =
  'usage: keys create --name NAME --role ROLE [--role ROLE…] [--expires 30d] [--service] [--json]\n' +
  '       keys list [--all] [--json] | keys revoke <id> | keys rotate <id> [--overlap 1h] [--expires 90d] [--json]';
function duration(schema: typeof keyLifetimeSchema, flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const parsed = schema.safeParse(text);
  if (!parsed.success) throw usageError(`--${flag}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

const uuid = z.uuid();

function line(k: ApiKeyView): string {
  const state = k.revokedAt ? 'revoked' : k.expiresAt && k.expiresAt <= new Date() ? 'expired' : 'active';
  return `${k.id}  sdlc_${k.keyId}…  ${k.name.padEnd(20)} ${k.kind.padEnd(7)} ${state.padEnd(7)} roles=${k.roles.join(',')}  expires=${k.expiresAt?.toISOString() ?? 'never'}  lastUsed=${k.lastUsedAt?.toISOString() ?? 'never'}`;
}

export async function runKeysCommand(args: string[], options: KeysCliOptions, osUser: string): Promise<void> {
  const [sub, id] = args;
  if (!sub || !['create', 'list', 'revoke', 'rotate'].includes(sub)) throw usageError(USAGE);
  if ((sub === 'revoke' || sub === 'rotate') && !uuid.safeParse(id).success)
    throw usageError(`keys ${sub} <id>: the key's id (a UUID, as \`keys list\` shows it)\n${USAGE}`);
  const config = loadConfig();
  const db = createDatabase(config.DATABASE_URL, { ...poolSettings(config), size: 2 });
  const keys = createApiKeyService({ repo: createApiKeyRepository(db) });
  const actor = terminalActor(osUser);
  const out = (text: string): void => void process.stdout.write(`${text}\n`);
  try {
    switch (sub) {
      case 'create': {
        if (!options.name || !options.role?.length) throw usageError(USAGE);
        const issued = await keys.create(
          {
            name: options.name,
            roles: options.role,
            kind: options.service ? 'service' : 'user',
            expiresInMs: duration(keyLifetimeSchema, 'expires', options.expires),
          },
          actor,
        );
        if (options.json) return out(JSON.stringify({ ...issued.record, key: issued.key }, null, 2));
        out(line(issued.record));
        out('The key is shown once; store it now:');
        out(issued.key);
        return;
      }
      case 'list': {
        const items = await keys.list(actor, { includeInactive: options.all ?? false });
        if (options.json) return out(JSON.stringify({ items }, null, 2));
        if (items.length === 0) return out(options.all ? 'no keys' : 'no active keys (--all lists revoked and expired ones too)');
        for (const k of items) out(line(k));
        return;
      }
      case 'revoke': {
        const revoked = await keys.revoke(id!, actor);
        return out(options.json ? JSON.stringify(revoked, null, 2) : line(revoked));
      }
      case 'rotate': {
        const rotated = await keys.rotate(
          id!,
          {
            overlapMs: duration(rotationOverlapSchema, 'overlap', options.overlap) ?? DEFAULT_ROTATION_OVERLAP_MS,
            expiresInMs: duration(keyLifetimeSchema, 'expires', options.expires),
          },
          actor,
        );
        if (options.json) return out(JSON.stringify({ ...rotated.record, key: rotated.key, replaced: rotated.old }, null, 2));
        out(`old: ${line(rotated.old)}`);
        out(`new: ${line(rotated.record)}`);
        out('The new key is shown once; store it now:');
        out(rotated.key);
        return;
      }
    }
  } finally {
    await keys.close();
    await db.close();
  }
}
