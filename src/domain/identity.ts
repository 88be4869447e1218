// Who a caller is and what its roles let it do: the platform roles, the permission each grants
// (the one table every route and service asks), and the shapes that carry an identity through
// the services into the audit trail.
import { DURATION_UNITS_MS, durationSchemaUpTo } from './duration.js';

/** The platform roles, from least to most trusted. Any other role name on a key is a team role the decision policy may name (e.g. `tech_lead`). */
export const PLATFORM_ROLES = ['viewer', 'submitter', 'approver', 'operator', 'admin'] as const;
export type PlatformRole = (typeof PLATFORM_ROLES)[number];

/** What a route or a use case needs. */
export const PERMISSIONS = [
  /** Read pipelines, runs, events, decisions, clarifications, agents, templates. */
  'read',
  /** Submit pipelines. */
  'submit',
  /** Cancel a pipeline the caller submitted. */
  'cancel_own',
  /** Cancel any pipeline. */
  'cancel_any',
  /** Pause and resume a pipeline the caller submitted. */
  'pause_own',
  /** Pause and resume any pipeline. */
  'pause_any',
  /** Answer decisions and clarifications (the policy's approvers still apply). */
  'decide',
  /** The dead-letter queue, Bull Board, /health/detailed and /metrics. */
  'operate',
  /** Create, list, revoke and rotate API keys. */
  'manage_keys',
  /** Read the audit trail. */
  'read_audit',
  /** Re-run a finished pipeline the caller submitted, from a stage (a new pipeline it submits). */
  'rerun_own',
  /** Re-run any finished pipeline from a stage. */
  'rerun_any',
  /** Submit at `urgent` priority and change any pipeline's priority (docs/pipeline-operations.md). */
  'prioritize',
  /** Create schedules, and pause, resume and delete the caller's own (docs/pipeline-operations.md). */
  'schedule_own',
  /** Pause, resume and delete any schedule (and create schedules). */
  'schedule_any',
  /**
   * Declare a stage `category` other than the one its agent type implies (a `deployment` stage as
   * `technical_refactor`): it changes which decision rule, and which approvers, the stage meets.
   */
  'override_category',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** The one table of grants: every role reads; admin holds every permission. */
export const ROLE_GRANTS: Readonly<Record<PlatformRole, readonly Permission[]>> = {
  viewer: ['read'],
  submitter: ['read', 'submit', 'cancel_own', 'pause_own', 'rerun_own', 'schedule_own'],
  approver: ['read', 'decide'],
  operator: ['read', 'operate', 'cancel_any', 'pause_any', 'rerun_any', 'prioritize', 'schedule_any', 'override_category'],
  admin: PERMISSIONS,
};

/** Role names: lowercase letters, digits and `_`, starting with a letter (platform and team roles alike). */
export const ROLE_NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
/** Key names (the identity an API key stands for): no `:`, so they never collide with `jwt:` ids. */
export const IDENTITY_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$/;

/**
 * The actors the platform itself writes into events, votes and the audit trail: `system` (a
 * cancel's and the reconciler's changes), `policy` (a decision escalated or expired at its
 * deadline) and `metrics-token` (the scraper's identity). No key may take one, in any case, or
 * what it does would read as the platform's own.
 */
export const PLATFORM_ACTOR_NAMES: readonly string[] = ['system', 'policy', 'metrics-token'];

/** True when a key name would stand for one of the platform's own actors. */
export const isPlatformActorName = (name: string): boolean => PLATFORM_ACTOR_NAMES.includes(name.toLowerCase());

export type IdentityKind = 'user' | 'service';

export interface Identity {
  /** Stable and unique: a key's name, or `jwt:<sub>` for a token. Decisions count votes by it. */
  id: string;
  /** What people read in lists and the audit trail. */
  name: string;
  /** `service`: a machine client (CI, a deploy hook); `user`: a person. */
  kind: IdentityKind;
  /** How it proved itself (`metrics_token`: METRICS_TOKEN, good for GET /metrics only). */
  via: 'api_key' | 'jwt' | 'cli' | 'metrics_token';
  /** Platform roles and team roles. */
  roles: readonly string[];
  /** The API key's id (its public part) when `via` is `api_key`. */
  keyId?: string;
}

/** Who does something, and where the request came from: what every mutation's audit event records. */
export interface Actor {
  identity: Identity;
  requestId?: string;
  sourceAddress?: string;
}

export function isPlatformRole(role: string): role is PlatformRole {
  return (PLATFORM_ROLES as readonly string[]).includes(role);
}

/** The permissions an identity's roles grant. */
export function permissionsOf(roles: readonly string[]): Set<Permission> {
  return new Set(roles.filter(isPlatformRole).flatMap((role) => ROLE_GRANTS[role]));
}

export function can(identity: Pick<Identity, 'roles'>, permission: Permission): boolean {
  return permissionsOf(identity.roles).has(permission);
}

/** The platform roles that grant a permission (for error messages and the docs' roles table). */
export function rolesGranting(permission: Permission): PlatformRole[] {
  return PLATFORM_ROLES.filter((role) => ROLE_GRANTS[role].includes(permission));
}

/** How long a key may live ("30d", "12h"…, at most ten years); absent: it never expires. */
export const keyLifetimeSchema = durationSchemaUpTo(3650 * DURATION_UNITS_MS.d, '3650 days ("3650d")');
/** How long a rotated key keeps working beside its successor (at most 30 days). */
export const rotationOverlapSchema = durationSchemaUpTo(30 * DURATION_UNITS_MS.d, '30 days ("30d")');
/** The overlap of a rotation that names none: one hour. */
export const DEFAULT_ROTATION_OVERLAP_MS = DURATION_UNITS_MS.h;
