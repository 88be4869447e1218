// The audit trail in Postgres: one row per mutation, newest first in lists (cursor = the last id).
import type { AuditEntry, AuditEventView, AuditLog, AuditOf, AuditQuery } from '../../services/identity.ports.js';
import type { JsonObject } from '../../domain/json.js';
import type pg from 'pg';
import type { Database } from './database.js';

interface AuditRow {
  id: string;
  created_at: Date;
  action: string;
  identity_id: string;
  identity_name: string;
  identity_kind: string;
  via: string;
  roles: string[];
  request_id: string | null;
  source_address: string | null;
  target_type: string;
  target_id: string | null;
  pipeline_id: string | null;
  data: JsonObject;
}

/** The columns an audit event is written with (id and created_at come from their defaults). */
const AUDIT_COLUMNS =
  'action, identity_id, identity_name, identity_kind, via, roles, request_id, source_address, target_type, target_id, pipeline_id, data';

/**
 * An INSERT of one audit event given as the jsonb parameter `param` (toAuditRow's object); no
 * row when the parameter is null. Also a CTE of the submission statement
 * (pipeline-submission.repository.ts), so that a pipeline and its audit event commit together.
 */
export const insertAuditEventSql = (param: string): string =>
  `INSERT INTO audit_events (${AUDIT_COLUMNS})
   SELECT ${AUDIT_COLUMNS} FROM jsonb_populate_record(NULL::audit_events, ${param}::jsonb) WHERE ${param}::jsonb IS NOT NULL`;

/** An entry as the row insertAuditEventSql takes, keyed by column. */
export function toAuditRow({ action, actor, targetType, targetId, pipelineId, data }: AuditEntry): Record<string, unknown> {
  const { identity } = actor;
  return {
    action,
    identity_id: identity.id,
    identity_name: identity.name,
    identity_kind: identity.kind,
    via: identity.via,
    roles: [...identity.roles],
    request_id: actor.requestId ?? null,
    source_address: actor.sourceAddress ?? null,
    target_type: targetType,
    target_id: targetId ?? null,
    pipeline_id: pipelineId ?? null,
    data: data ?? {},
  };
}

const INSERT_SQL = insertAuditEventSql('$1');

/** Writes a change's audit event on the change's own client (inside its transaction); nothing for null. */
export async function recordAuditIn(client: Pick<pg.ClientBase, 'query'>, entry: AuditEntry | null): Promise<void> {
  if (!entry) return;
  await client.query({ name: 'audit_insert', text: INSERT_SQL, values: [JSON.stringify(toAuditRow(entry))] });
}

/** Writes the audit event `audit` gives for a change's outcome (none for null, or without `audit`) on its transaction's client, then returns the outcome. */
export async function audited<T>(client: Pick<pg.ClientBase, 'query'>, audit: AuditOf<T> | undefined, outcome: T): Promise<T> {
  await recordAuditIn(client, audit?.(outcome) ?? null);
  return outcome;
}

export function createAuditRepository({ pool }: Pick<Database, 'pool'>): AuditLog {
  return {
    record: (entry) => recordAuditIn(pool, entry),

    async list(query: AuditQuery): Promise<AuditEventView[]> {
      const where: string[] = [];
      const values: unknown[] = [];
      const add = (sql: string, value: unknown) => {
        values.push(value);
        where.push(sql.replace('?', `$${values.length}`));
      };
      if (query.action) add('action = ?', query.action);
      if (query.identityId) add('identity_id = ?', query.identityId);
      if (query.targetType) add('target_type = ?', query.targetType);
      if (query.targetId) add('target_id = ?', query.targetId);
      if (query.pipelineId) add('pipeline_id = ?::uuid', query.pipelineId);
      if (query.since) add('created_at >= ?', query.since);
      if (query.until) add('created_at < ?', query.until);
      if (query.beforeId) add('audit_events.id < ?::bigint', query.beforeId);
      values.push(query.limit);
      const { rows } = await pool.query<AuditRow>(
        `SELECT id::text AS id, created_at, action, identity_id, identity_name, identity_kind, via, roles, request_id, source_address,
                target_type, target_id, pipeline_id, data
         FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY audit_events.id DESC LIMIT $${values.length}`,
        values,
      );
      return rows.map((r) => ({
        id: r.id,
        at: r.created_at,
        action: r.action,
        identity: { id: r.identity_id, name: r.identity_name, kind: r.identity_kind, via: r.via, roles: r.roles ?? [] },
        requestId: r.request_id,
        sourceAddress: r.source_address,
        targetType: r.target_type,
        targetId: r.target_id,
        pipelineId: r.pipeline_id,
        data: r.data,
      }));
    },
  };
}
