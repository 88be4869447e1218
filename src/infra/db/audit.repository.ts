// The audit trail in Postgres: one row per mutation, newest first in lists (cursor = the last id).
import type { AuditEventView, AuditLog, AuditQuery } from '../../services/identity.ports.js';
import type { JsonObject } from '../../domain/json.js';
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

const INSERT_SQL = `
  INSERT INTO audit_events (action, identity_id, identity_name, identity_kind, via, roles, request_id, source_address,
                            target_type, target_id, pipeline_id, data)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb)`;

export function createAuditRepository({ pool }: Pick<Database, 'pool'>): AuditLog {
  return {
    async record({ action, actor, targetType, targetId, pipelineId, data }) {
      const { identity } = actor;
      await pool.query({
        name: 'audit_insert',
        text: INSERT_SQL,
        values: [
          action,
          identity.id,
          identity.name,
          identity.kind,
          identity.via,
          [...identity.roles],
          actor.requestId ?? null,
          actor.sourceAddress ?? null,
          targetType,
          targetId ?? null,
          pipelineId ?? null,
          JSON.stringify(data ?? {}),
        ],
      });
    },

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
