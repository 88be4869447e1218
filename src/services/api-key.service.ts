// API keys: create (shown once), list, revoke, rotate with an overlap window, and authenticate a
// presented key. Only a SHA-256 hash of a key is stored (keys are 190 random bits: a slow hash
// adds nothing) and compared in constant time; a key whose checksum fails is refused before any
// database read. Last-used times are kept in memory and written in batches, never per request.
// Each change's audit event is written by the repository in the change's own transaction.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { newApiKey, parseApiKey } from '../domain/api-key-format.js';
import { AuthenticationError, ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../domain/errors.js';
import {
  can,
  IDENTITY_NAME_PATTERN,
  isPlatformActorName,
  PLATFORM_ACTOR_NAMES,
  isPlatformRole,
  PLATFORM_ROLES,
  ROLE_NAME_PATTERN,
  type Actor,
  type Identity,
  type IdentityKind,
} from '../domain/identity.js';
import type { ApiKeyRepository, ApiKeyView } from './identity.ports.js';

/** How often the batched last-used times are written (and on close). */
const TOUCH_EVERY_MS = 10_000;
/** A key's last-used time is written again only when it moved by more than this. */
const TOUCH_RESOLUTION_MS = 60_000;

export interface ApiKeyServiceDeps {
  /** The keys, and the audit events of their changes (written in the same transaction). */
  repo: ApiKeyRepository;
  now?: () => Date;
}

export interface NewKeyRequest {
  name: string;
  roles: string[];
  kind?: IdentityKind;
  /** Lifetime in milliseconds; absent: the key does not expire. */
  expiresInMs?: number;
}

export interface IssuedKey {
  /** The key itself: shown once, never stored. */
  key: string;
  record: ApiKeyView;
}

const crc = (text: string) => crc32(text);
export const hashApiKey = (key: string): string => createHash('sha256').update(key).digest('hex');

/** The checks of a new key's name and roles; throws a ValidationError naming the field. */
export function validateKeyRequest({ name, roles }: Pick<NewKeyRequest, 'name' | 'roles'>): void {
  const details = [];
  if (!IDENTITY_NAME_PATTERN.test(name))
    details.push({ field: 'name', message: '1 to 100 characters: letters, digits, . _ @ + - (starting with a letter or digit)' });
  else if (isPlatformActorName(name))
    details.push({
      field: 'name',
      message: `"${name}" is one of the platform's own actors (${PLATFORM_ACTOR_NAMES.join(', ')}) in events and the audit trail; choose another`,
    });
  const badRoles = roles.filter((r) => !ROLE_NAME_PATTERN.test(r));
  if (badRoles.length > 0)
    details.push({ field: 'roles', message: `not a role name: ${badRoles.join(', ')} (lowercase letters, digits and _)` });
  else if (!roles.some(isPlatformRole))
    details.push({
      field: 'roles',
      message: `at least one of ${PLATFORM_ROLES.join(', ')}; other names are team roles the decision policy may name`,
    });
  if (details.length > 0) throw new ValidationError('VALIDATION_FAILED', 'Invalid key request.', { details });
}

/** The identity an API key stands for: its name is the identity's id. The one home of that rule. */
export function keyIdentity(key: Pick<ApiKeyView, 'name' | 'kind' | 'roles' | 'keyId'>): Identity {
  return { id: key.name, name: key.name, kind: key.kind, via: 'api_key', roles: key.roles, keyId: key.keyId };
}

/**
 * Identities as they stand now, for work done in their name later (a schedule's ticks): an API
 * key identity takes the roles of its name's active key, and is null once no key of that name is
 * active (revoked, expired). Other identities (a JWT's subject, the CLI's) cannot be looked up
 * here and stand as they were.
 */
export function currentIdentities(repo: Pick<ApiKeyRepository, 'findActiveByName'>) {
  return {
    async current(identity: Identity): Promise<Identity | null> {
      if (identity.via !== 'api_key') return identity;
      const key = await repo.findActiveByName(identity.id);
      return key ? keyIdentity(key) : null;
    },
  };
}

/**
 * The actor of a key made from the terminal (`cli keys create`, talking to Postgres directly) or
 * by the first start of a development deployment: trusted because it holds the database.
 */
export function terminalActor(user: string): Actor {
  return { identity: { id: `cli:${user}`, name: `cli:${user}`, kind: 'user', via: 'cli', roles: ['admin'] } };
}

export function createApiKeyService({ repo, now = () => new Date() }: ApiKeyServiceDeps) {
  const lastUsed = new Map<string, Date>();
  const written = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;

  async function flushLastUsed(): Promise<void> {
    if (lastUsed.size === 0) return;
    const batch = new Map(lastUsed);
    lastUsed.clear();
    try {
      await repo.touch(batch);
      for (const [id, at] of batch) written.set(id, at.getTime());
    } catch {
      // Best effort: the next flush carries them (newer times win).
      for (const [id, at] of batch) if (!lastUsed.has(id)) lastUsed.set(id, at);
    }
  }

  function noteUse(id: string, at: Date): void {
    if (at.getTime() - (written.get(id) ?? 0) < TOUCH_RESOLUTION_MS) return;
    lastUsed.set(id, at);
    if (!timer) {
      timer = setInterval(() => void flushLastUsed(), TOUCH_EVERY_MS);
      timer.unref();
    }
  }

  function issue(): { key: string; keyId: string; secretHash: string } {
    const { key, id } = newApiKey((n) => randomBytes(n), crc);
    return { key, keyId: id, secretHash: hashApiKey(key) };
  }

  function requireKeyAdmin(actor: Actor): void {
    if (!can(actor.identity, 'manage_keys')) throw new ForbiddenError('FORBIDDEN', 'Managing API keys needs the admin role.');
  }

  return {
    /** Issues a key; the creator is audited (in the key's transaction). Throws 409 API_KEY_NAME_TAKEN while an active key has the name. */
    async create(request: NewKeyRequest, actor: Actor): Promise<IssuedKey> {
      requireKeyAdmin(actor);
      validateKeyRequest(request);
      const { key, keyId, secretHash } = issue();
      const roles = [...new Set(request.roles)];
      const expiresAt = request.expiresInMs === undefined ? null : new Date(now().getTime() + request.expiresInMs);
      const result = await repo.create(
        {
          id: randomUUID(),
          keyId,
          name: request.name,
          kind: request.kind ?? 'user',
          roles,
          secretHash,
          createdBy: actor.identity.id,
          expiresAt,
        },
        (outcome) =>
          outcome.kind === 'created'
            ? {
                action: 'key.created',
                actor,
                targetType: 'api_key',
                targetId: outcome.key.id,
                data: { name: request.name, keyId, roles, kind: outcome.key.kind, expiresAt: expiresAt?.toISOString() ?? null },
              }
            : null,
      );
      if (result.kind === 'name_taken') {
        throw new ConflictError('API_KEY_NAME_TAKEN', `An active key is named ${request.name}.`, {
          details: [{ field: 'name', message: 'taken by an active key' }],
        });
      }
      return { key, record: result.key };
    },

    async list(actor: Actor, options: { includeInactive?: boolean } = {}): Promise<ApiKeyView[]> {
      requireKeyAdmin(actor);
      return repo.list({ includeInactive: options.includeInactive ?? false });
    },

    async revoke(id: string, actor: Actor): Promise<ApiKeyView> {
      requireKeyAdmin(actor);
      const result = await repo.revoke(id, actor.identity.id, (outcome) =>
        outcome.kind === 'revoked'
          ? {
              action: 'key.revoked',
              actor,
              targetType: 'api_key',
              targetId: id,
              data: { name: outcome.key.name, keyId: outcome.key.keyId },
            }
          : null,
      );
      if (result.kind === 'not_found') throw new NotFoundError('API_KEY_NOT_FOUND', `No key ${id}.`);
      if (result.kind === 'inactive') throw new ConflictError('API_KEY_INACTIVE', `Key ${id} is already revoked or expired.`);
      return result.key;
    },

    /**
     * A new key with the old one's name, kind and roles; the old one stays valid for
     * `overlapMs` (or until its own expiry, if sooner), so clients can switch without downtime.
     */
    async rotate(id: string, options: { overlapMs: number; expiresInMs?: number }, actor: Actor): Promise<IssuedKey & { old: ApiKeyView }> {
      requireKeyAdmin(actor);
      const { key, keyId, secretHash } = issue();
      const at = now().getTime();
      const result = await repo.rotate(
        id,
        {
          id: randomUUID(),
          keyId,
          secretHash,
          createdBy: actor.identity.id,
          expiresAt: options.expiresInMs === undefined ? null : new Date(at + options.expiresInMs),
        },
        new Date(at + options.overlapMs),
        (outcome) =>
          outcome.kind === 'rotated'
            ? {
                action: 'key.rotated',
                actor,
                targetType: 'api_key',
                targetId: id,
                data: {
                  name: outcome.key.name,
                  oldKeyId: outcome.old.keyId,
                  newId: outcome.key.id,
                  newKeyId: keyId,
                  oldExpiresAt: outcome.old.expiresAt?.toISOString() ?? null,
                },
              }
            : null,
      );
      if (result.kind === 'not_found') throw new NotFoundError('API_KEY_NOT_FOUND', `No key ${id}.`);
      if (result.kind === 'inactive')
        throw new ConflictError('API_KEY_INACTIVE', `Key ${id} is revoked or expired: create a new key instead.`);
      if (result.kind === 'rotated_already') {
        throw new ConflictError(
          'API_KEY_ALREADY_ROTATED',
          `Key ${id} was rotated already: its successor ${result.successorId} is active. Rotate the successor, or revoke it first.`,
          { details: [{ field: 'id', message: `replaced by ${result.successorId}` }] },
        );
      }
      return { key, record: result.key, old: result.old };
    },

    /** The identity a presented key stands for; AuthenticationError (401) otherwise. */
    async authenticate(presented: string): Promise<Identity> {
      const parsed = parseApiKey(presented, crc);
      if (!parsed.ok)
        throw new AuthenticationError('API_KEY_MALFORMED', 'The API key is malformed or mistyped (its checksum does not match).');
      const stored = await repo.findByKeyId(parsed.id);
      const expected = stored ? Buffer.from(stored.secretHash, 'hex') : Buffer.alloc(32);
      const matches = timingSafeEqual(Buffer.from(hashApiKey(presented), 'hex'), expected.length === 32 ? expected : Buffer.alloc(32));
      if (!stored || !matches) throw new AuthenticationError('API_KEY_INVALID', 'The API key is not valid.');
      const at = now();
      if (stored.revokedAt) throw new AuthenticationError('API_KEY_REVOKED', `The API key ${stored.keyId} was revoked.`);
      if (stored.expiresAt && stored.expiresAt.getTime() <= at.getTime())
        throw new AuthenticationError('API_KEY_EXPIRED', `The API key ${stored.keyId} expired at ${stored.expiresAt.toISOString()}.`);
      noteUse(stored.id, at);
      return keyIdentity(stored);
    },

    /** Writes pending last-used times and stops the timer. */
    async close(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      await flushLastUsed();
    },

    /** Writes pending last-used times now (tests, shutdown). */
    flushLastUsed,
  };
}

export type ApiKeyService = ReturnType<typeof createApiKeyService>;
