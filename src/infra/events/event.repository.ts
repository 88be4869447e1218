// Read side of the pipeline event log (pipeline_events): pages in id order for the SSE streams
// and the webhook relay, one event by id for the webhook delivery worker, the audit trail of one
// pipeline, and the log's high-water marks.
// Plain SQL on the shared pool; ids travel as decimal strings (they are bigints).
import type { Logger } from '../../domain/logger.js';
import { AUDIT_EVENT_TYPES, type EventType, type PipelineEvent } from '../../domain/events.js';
import type { Database } from '../db/database.js';
import { parseEventRow, type StoredEventRow } from '../../domain/event-payloads.js';

export interface EventFilter {
  pipelineId?: string;
  /** Only these types (all when absent). */
  types?: readonly EventType[];
}

export interface EventReader {
  /** Events with id > `afterId`, in id order, at most `limit`. */
  readAfter(afterId: string, limit: number, filter?: EventFilter): Promise<PipelineEvent[]>;
  /** The event with this id (a decimal string within bigint range), or null when there is none. */
  readById(id: string): Promise<PipelineEvent | null>;
  /** One pipeline's audit events (AUDIT_EVENT_TYPES) with id > `afterId`, in id order. */
  listAudit(pipelineId: string, opts: { afterId?: string; limit: number }): Promise<PipelineEvent[]>;
  /** The highest id in the log, "0" when it is empty. */
  maxId(): Promise<string>;
  /**
   * The highest id among events created more than `ageMs` ago ("0" if none): a starting point
   * below which no insert is expected to be still in flight.
   */
  maxSettledId(ageMs: number): Promise<string>;
  pipelineExists(id: string): Promise<boolean>;
}

const COLUMNS = 'id::text AS id, pipeline_id, type, stage_key, actor, data, created_at';

// One statement per filter shape, so each prepared plan fits its query (the pipeline one walks
// the (pipeline_id, id) index, the others the primary key). ORDER BY names `e.id`: a bare `id`
// would be the text alias and sort "10" before "9".
const READ_ALL_SQL = `SELECT ${COLUMNS} FROM pipeline_events e WHERE id > $1::bigint ORDER BY e.id LIMIT $2`;
const READ_TYPES_SQL = `SELECT ${COLUMNS} FROM pipeline_events e WHERE id > $1::bigint AND type = ANY($3::text[]) ORDER BY e.id LIMIT $2`;
const READ_PIPELINE_SQL = `SELECT ${COLUMNS} FROM pipeline_events e WHERE pipeline_id = $3::uuid AND id > $1::bigint ORDER BY e.id LIMIT $2`;
const READ_PIPELINE_TYPES_SQL = `SELECT ${COLUMNS} FROM pipeline_events e
  WHERE pipeline_id = $3::uuid AND id > $1::bigint AND type = ANY($4::text[]) ORDER BY e.id LIMIT $2`;
const READ_BY_ID_SQL = `SELECT ${COLUMNS} FROM pipeline_events e WHERE id = $1::bigint`;
const MAX_ID_SQL = 'SELECT COALESCE(max(id), 0)::text AS id FROM pipeline_events';
// Walks the primary key down from the top and stops at the first old enough row: it reads only
// the last `ageMs` of events.
const MAX_SETTLED_ID_SQL = `SELECT id::text AS id FROM pipeline_events e
  WHERE created_at < now() - make_interval(secs => $1::double precision / 1000) ORDER BY e.id DESC LIMIT 1`;
const PIPELINE_EXISTS_SQL = 'SELECT EXISTS (SELECT 1 FROM pipelines WHERE id = $1::uuid) AS exists';

const AUDIT_TYPES = [...AUDIT_EVENT_TYPES];

/**
 * A stored row that does not parse is returned as an `unknown` event, so a stream or the relay
 * goes on past it, and logged as a warning with its id and problems.
 */
export function createEventReader({ pool }: Pick<Database, 'pool'>, logger: Pick<Logger, 'warn'>): EventReader {
  const toEvent = (row: StoredEventRow): PipelineEvent => {
    const event = parseEventRow(row);
    if (event.type === 'unknown')
      logger.warn('stored event does not match its schema; served as unknown', { eventId: event.id, data: event.data });
    return event;
  };
  async function events(name: string, text: string, values: unknown[]): Promise<PipelineEvent[]> {
    const { rows } = await pool.query<StoredEventRow>({ name, text, values });
    return rows.map(toEvent);
  }

  return {
    readAfter(afterId, limit, filter = {}) {
      const types = filter.types && filter.types.length > 0 ? [...filter.types] : undefined;
      if (filter.pipelineId && types) {
        return events('events_read_pipeline_types', READ_PIPELINE_TYPES_SQL, [afterId, limit, filter.pipelineId, types]);
      }
      if (filter.pipelineId) return events('events_read_pipeline', READ_PIPELINE_SQL, [afterId, limit, filter.pipelineId]);
      if (types) return events('events_read_types', READ_TYPES_SQL, [afterId, limit, types]);
      return events('events_read_all', READ_ALL_SQL, [afterId, limit]);
    },
    async readById(id) {
      const [event] = await events('events_read_by_id', READ_BY_ID_SQL, [id]);
      return event ?? null;
    },
    listAudit(pipelineId, { afterId = '0', limit }) {
      return events('events_audit', READ_PIPELINE_TYPES_SQL, [afterId, limit, pipelineId, AUDIT_TYPES]);
    },
    async maxId() {
      const { rows } = await pool.query<{ id: string }>({ name: 'events_max_id', text: MAX_ID_SQL });
      return rows[0]?.id ?? '0';
    },
    async maxSettledId(ageMs) {
      const { rows } = await pool.query<{ id: string }>({ name: 'events_max_settled_id', text: MAX_SETTLED_ID_SQL, values: [ageMs] });
      return rows[0]?.id ?? '0';
    },
    async pipelineExists(id) {
      const { rows } = await pool.query<{ exists: boolean }>({ name: 'events_pipeline_exists', text: PIPELINE_EXISTS_SQL, values: [id] });
      return rows[0]?.exists ?? false;
    },
  };
}
