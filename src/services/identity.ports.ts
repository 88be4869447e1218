// The ports of the identity use cases: stored API keys and the audit trail. infra/db implements them.
import type { Actor, IdentityKind } from '../domain/identity.js';
import type { JsonObject } from '../domain/json.js';

/** A stored key as lists show it: never the secret, never its hash. */
export interface ApiKeyView {
  id: string;
  /** The public part after `sdlc_` (the first 12 characters of the key). */
  keyId: string;
  name: string;
  kind: IdentityKind;
  roles: string[];
  createdAt: Date;
  createdBy: string;
  expiresAt: Date | null;
  revokedAt: Date | null;
  revokedBy: string | null;
  lastUsedAt: Date | null;
  rotatedFrom: string | null;
}

export interface StoredApiKey extends ApiKeyView {
  secretHash: string;
}

export interface NewApiKey {
  id: string;
  keyId: string;
  name: string;
  kind: IdentityKind;
  roles: string[];
  secretHash: string;
  createdBy: string;
  expiresAt: Date | null;
}

export type CreateKeyResult = { kind: 'created'; key: ApiKeyView } | { kind: 'name_taken' };
export type RevokeKeyResult = { kind: 'revoked'; key: ApiKeyView } | { kind: 'not_found' } | { kind: 'inactive'; key: ApiKeyView };
export type RotateKeyResult =
  | { kind: 'rotated'; old: ApiKeyView; key: ApiKeyView }
  | { kind: 'not_found' }
  | { kind: 'inactive'; key: ApiKeyView }
  /** The key has an active successor already (a repeated or concurrent rotate): nothing issued. */
  | { kind: 'rotated_already'; key: ApiKeyView; successorId: string };

/**
 * Stored API keys. Each change takes the audit event of its outcome (AuditOf): written in the
 * change's own transaction, so the change and its event commit together or not at all.
 */
export interface ApiKeyRepository {
  /** Inserts a key unless an active key (not revoked, not expired) has the same name. */
  create(key: NewApiKey, audit?: AuditOf<CreateKeyResult>): Promise<CreateKeyResult>;
  findByKeyId(keyId: string): Promise<StoredApiKey | null>;
  /** The active key (not revoked, not expired) of this name, the identity it stands for; null when none is. */
  findActiveByName(name: string): Promise<ApiKeyView | null>;
  list(options: { includeInactive: boolean }): Promise<ApiKeyView[]>;
  revoke(id: string, by: string, audit?: AuditOf<RevokeKeyResult>): Promise<RevokeKeyResult>;
  /** In one transaction: the old key's expiry becomes min(its expiry, `oldExpiresAt`), the new one is inserted with its name, kind and roles. */
  rotate(
    id: string,
    next: Omit<NewApiKey, 'name' | 'kind' | 'roles'>,
    oldExpiresAt: Date,
    audit?: AuditOf<RotateKeyResult>,
  ): Promise<RotateKeyResult>;
  /** Records when keys were last used: one statement for many keys. */
  touch(lastUsed: ReadonlyMap<string, Date>): Promise<void>;
}

/** What one mutation's audit event says. */
export interface AuditEntry {
  action: AuditAction;
  actor: Actor;
  targetType: 'pipeline' | 'decision' | 'clarification' | 'dlq_job' | 'api_key' | 'queue' | 'agent' | 'schedule' | 'webhook_delivery';
  targetId?: string | null;
  pipelineId?: string | null;
  data?: JsonObject;
}

/**
 * The audit event of a change, given what the change did (null: it changed nothing, so nothing is
 * recorded). A repository that takes one writes the event in the change's own transaction, so a
 * crash never leaves a change without its event, and an event that cannot be written undoes the
 * change: the audit trail is complete by construction.
 */
export type AuditOf<T> = (outcome: T) => AuditEntry | null;

export const AUDIT_ACTIONS = [
  'pipeline.submitted',
  'pipeline.cancelled',
  /** Deleted from Postgres by `pipelines prune` (the audit event outlives it). */
  'pipeline.pruned',
  /** Pause and resume (issue 17): a pipeline held or let go on; an agent type's queue paused or resumed. */
  'pipeline.paused',
  'pipeline.resumed',
  'agent.paused',
  'agent.resumed',
  /** A re-run from a stage: target = the old pipeline, pipelineId = the new one; data names both, `from` and `reused`. */
  'pipeline.rerun',
  /** A pipeline's priority changed (POST /pipelines/:id/priority); data: from, to, jobs re-prioritised. */
  'pipeline.reprioritized',
  'decision.approved',
  'decision.rejected',
  'clarification.answered',
  'dlq.replayed',
  'dlq.deleted',
  'key.created',
  'key.revoked',
  'key.rotated',
  'bullboard.action',
  /** A failed webhook delivery sent again (POST /webhooks/failed/…/retry); target = its job id. */
  'webhook.redelivered',
  'schedule.created',
  'schedule.paused',
  'schedule.resumed',
  'schedule.deleted',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEventView {
  id: string;
  at: Date;
  action: string;
  identity: { id: string; name: string; kind: string; via: string; roles: string[] };
  requestId: string | null;
  sourceAddress: string | null;
  targetType: string;
  targetId: string | null;
  pipelineId: string | null;
  data: JsonObject;
}

export interface AuditQuery {
  action?: string;
  identityId?: string;
  targetType?: string;
  targetId?: string;
  pipelineId?: string;
  since?: Date;
  until?: Date;
  /** Only events older than this id (the page cursor; newest first). */
  beforeId?: string;
  limit: number;
}

export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
  list(query: AuditQuery): Promise<AuditEventView[]>;
}
