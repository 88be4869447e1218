// The stage lifecycle table (src/domain/stage-lifecycle.ts) as SQL text, interpolated into the
// statements once at module load: a guarded statement takes its allowed from-statuses from the
// table instead of restating them. The values are the domain's own constants, never input.
import { fromStatuses, STAGE_EVENTS, toStatus, type StageEvent } from '../../domain/stage-lifecycle.js';
import {
  MOVING_STAGE_STATUSES,
  TERMINAL_PIPELINE_STATUSES,
  UNFINISHED_STAGE_STATUSES,
  type PipelineStatus,
  type StageStatus,
} from '../../domain/status.js';

const literal = (status: StageStatus | PipelineStatus): string => `'${status}'`;

/** `<column> IN ('succeeded', 'failed', 'cancelled')`: a pipeline that never moves again. */
export function terminalPipelineGuard(column: string): string {
  return `${column} IN (${[...TERMINAL_PIPELINE_STATUSES].map(literal).join(', ')})`;
}

/** `<column> IN ('pending', 'queued', 'running')`: a stage that still moves without a person. */
export function movingStageGuard(column: string): string {
  return `${column} IN (${MOVING_STAGE_STATUSES.map(literal).join(', ')})`;
}

/** `<column> IN ('pending', 'queued', 'running', 'waiting', 'paused')`: a stage not finished (UNFINISHED_STAGE_STATUSES). */
export function unfinishedStageGuard(column: string): string {
  return `${column} IN (${UNFINISHED_STAGE_STATUSES.map(literal).join(', ')})`;
}

/** `<column> IN ('pending', …)`: the from-statuses of these events (their union). */
export function statusGuard(column: string, ...events: readonly StageEvent[]): string {
  return `${column} IN (${fromStatuses(...events)
    .map(literal)
    .join(', ')})`;
}

/** The status an event moves a stage to, as an SQL literal of the StageStatus enum. */
export function targetStatus(event: StageEvent): string {
  return `${literal(toStatus(event))}::"StageStatus"`;
}

/**
 * `(… ) IS NOT NULL`: some stage of the pipeline `<pipeline>` still moves (MOVING_STAGE_STATUSES)
 * in the statement's snapshot, stages whose id is in `<skip>` (a CTE or subquery of ids) left out.
 * The settled check of the finish statement and of StageRunRepository.settled.
 *
 * A walk from the last position backwards, one `ORDER BY position DESC LIMIT 1` probe of the
 * unique `(pipeline_id, position)` index at a time, stopping at the first moving stage: stages
 * run roughly in definition order, so that is usually the first one. Written as one filtered
 * `ORDER BY … LIMIT 1`, the planner chose by its estimate of how many of the pipeline's stages
 * move, and statistics that say few (most stages in the table are finished) made it read every
 * stage of the pipeline through another index and sort them, on every check. A probe without a
 * filter has one cheap plan whatever the statistics say.
 */
export function stillMovingSql(pipeline: string, skip: string | null): string {
  const moving = `${movingStageGuard('back.status')}${skip ? ` AND back.id NOT IN (SELECT id FROM ${skip})` : ''}`;
  const probe = (below: string) =>
    `SELECT o.position, o.id, o.status FROM stages o WHERE o.pipeline_id = ${pipeline}${below} ORDER BY o.position DESC LIMIT 1`;
  return (
    `(WITH RECURSIVE back (position, id, status) AS ((${probe('')}) UNION ALL ` +
    `(SELECT n.position, n.id, n.status FROM back CROSS JOIN LATERAL (${probe(' AND o.position < back.position')}) n ` +
    `WHERE NOT (${moving}))) SELECT 1 FROM back WHERE ${moving} LIMIT 1) IS NOT NULL`
  );
}

/**
 * The id of a new decision, `DEC-<year>-<sequence>` with at least five digits (the rule of
 * formatDecisionId in domain/decision-policy.ts), from the decision_number sequence. Written as
 * `@newDecisionId()` in a `.sql` file.
 */
export const NEW_DECISION_ID_SQL = `'DEC-' || to_char(now(), 'YYYY') || '-' || regexp_replace(lpad(nextval('decision_number')::text, 12, '0'), '^0{0,7}', '')`;

const EVENT_LIST = /^[a-zA-Z]+(\s*,\s*[a-zA-Z]+)*$/;

function events(list: string, name: string): StageEvent[] {
  if (!EVENT_LIST.test(list.trim())) throw new Error(`${name}: bad lifecycle event list "${list}"`);
  return list.split(',').map((e) => {
    const event = e.trim() as StageEvent;
    if (!(STAGE_EVENTS as readonly string[]).includes(event)) throw new Error(`${name}: unknown lifecycle event "${event}"`);
    return event;
  });
}

/**
 * Expands the lifecycle placeholders of a statement read from a `.sql` file:
 * `@from(<column>; <event>, …)` → `<column> IN (<from-statuses>)`, `@to(<event>)` → the target
 * status, `@terminalPipeline(<column>)` → `<column> IN (<terminal pipeline statuses>)`,
 * `@moving(<column>)` → `<column> IN (<MOVING_STAGE_STATUSES>)`, `@stillMoving(<pipeline>; <skip>)`
 * → stillMovingSql (`-` for no skip), `@newDecisionId()` → NEW_DECISION_ID_SQL. An unknown
 * event fails at module load, not at the first query.
 */
export function expandLifecycle(sql: string, name: string): string {
  const expanded = sql
    .replace(/@from\(([^;()]+);([^()]+)\)/g, (_, column: string, list: string) => statusGuard(column.trim(), ...events(list, name)))
    .replace(/@to\(([^()]+)\)/g, (_, event: string) => targetStatus(events(event, name)[0]!))
    .replace(/@terminalPipeline\(([^()]+)\)/g, (_, column: string) => terminalPipelineGuard(column.trim()))
    .replace(/@stillMoving\(([^;()]+);([^()]+)\)/g, (_, pipeline: string, skip: string) =>
      stillMovingSql(pipeline.trim(), skip.trim() === '-' ? null : skip.trim()),
    )
    .replace(/@moving\(([^()]+)\)/g, (_, column: string) => movingStageGuard(column.trim()))
    .replace(/@newDecisionId\(\)/g, NEW_DECISION_ID_SQL);
  const left = /@\w+\(/.exec(expanded);
  if (left) throw new Error(`${name}: unknown placeholder ${left[0]}`);
  return expanded;
}
