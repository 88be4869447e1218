// A pipeline's timeline: its event log (and its own submission and cancel times) as one list of
// plain items in time order, each with a one-line summary for people and its facts for scripts.
// Pure: the service reads the rows (services/timeline.service.ts), this decides what they say.
import type { PipelineEvent } from './events.js';
import type { JsonObject, JsonValue } from './json.js';

export const TIMELINE_ITEM_TYPES = [
  'pipeline.submitted',
  'pipeline.cancel_requested',
  'pipeline.finished',
  'stage.started',
  /** An attempt ended: succeeded, failed (for good), cancelled, skipped or suspended (asked a question). */
  'stage.finished',
  /** An attempt failed and the stage will run again (its retry policy has attempts left). */
  'stage.retrying',
  /** Held by its paused pipeline: it runs once the pipeline is resumed. */
  'stage.paused',
  'gate.evaluated',
  'decision.requested',
  'decision.voted',
  'decision.escalated',
  'decision.resolved',
  'clarification.requested',
  'clarification.answered',
  'clarification.cancelled',
  'dlq.replayed',
  /** Paused or resumed by a person (docs/pipeline-operations.md, "Pause and resume"). */
  'pipeline.paused',
  'pipeline.resumed',
  /** A re-run took this stage's output over from the pipeline it re-runs instead of running it. */
  'stage.reused',
] as const;
export type TimelineItemType = (typeof TIMELINE_ITEM_TYPES)[number];

export interface TimelineItem {
  at: Date;
  type: TimelineItemType;
  stageKey: string | null;
  attempt: number | null;
  summary: string;
  data: JsonObject;
}

/** The pipeline facts a timeline needs beside its events. */
export interface TimelinePipeline {
  id: string;
  name: string;
  submitter: string;
  template: string | null;
  labels: Record<string, string>;
  traceId: string | null;
  createdAt: Date;
  cancelRequestedAt: Date | null;
  /** Why the cancel was requested (DEADLINE_EXCEEDED); null or absent: by a person. */
  cancelReason?: string | null;
}

const str = (value: JsonValue | undefined): string | undefined => (typeof value === 'string' ? value : undefined);
const int = (value: JsonValue | undefined): number | null => (typeof value === 'number' && Number.isInteger(value) ? value : null);
const obj = (value: JsonValue | undefined): JsonObject | undefined =>
  value && typeof value === 'object' && !Array.isArray(value) ? value : undefined;

function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

const stageName = (event: PipelineEvent) => event.stageKey ?? 'the pipeline';

/** Present only when set: an item's data leaves out what it does not know instead of holding nulls. */
function defined(entries: Record<string, JsonValue | undefined>): JsonObject {
  return Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined)) as JsonObject;
}

/** The items one event makes (none for an event type a timeline does not show). */
function itemOf(event: PipelineEvent, startedAt: Map<string, Date>): TimelineItem | null {
  const { data, stageKey } = event;
  const attempt = int(data.attempt);
  const base = { at: event.createdAt, stageKey, attempt };
  const decisionId = str(data.decisionId) ?? '';
  switch (event.type) {
    case 'stage.started': {
      startedAt.set(`${stageKey}#${attempt}`, event.createdAt);
      const workerId = str(data.workerId);
      return {
        ...base,
        type: 'stage.started',
        summary: `${stageName(event)}: attempt ${attempt ?? '?'} started${workerId ? ` on ${workerId}` : ''}`,
        data: defined({ workerId }),
      };
    }
    case 'stage.finished': {
      const status = str(data.status) ?? 'unknown';
      const error = obj(data.error);
      const errorCode = str(error?.code);
      const started = startedAt.get(`${stageKey}#${attempt}`);
      const durationMs = started ? event.createdAt.getTime() - started.getTime() : undefined;
      const retrying = status === 'retrying';
      const outcome = retrying
        ? `failed${errorCode ? ` (${errorCode})` : ''}, will retry`
        : `${status}${errorCode ? ` (${errorCode})` : ''}`;
      const took = durationMs === undefined ? '' : ` after ${formatDuration(durationMs)}`;
      return {
        ...base,
        type: retrying ? 'stage.retrying' : 'stage.finished',
        summary: `${stageName(event)}: attempt ${attempt ?? '?'} ${outcome}${took}`,
        data: defined({
          status: retrying ? 'failed' : status,
          willRetry: retrying,
          errorCode,
          errorMessage: str(error?.message),
          durationMs,
        }),
      };
    }
    case 'gate.evaluated': {
      const threshold = data.threshold === undefined || data.threshold === null ? '' : ` ${String(data.threshold)}`;
      return {
        ...base,
        type: 'gate.evaluated',
        summary: `${stageName(event)}: gate ${str(data.metric)} ${str(data.operator)}${threshold} ${str(data.verdict)} (${str(data.severity)})`,
        data: defined({
          metric: data.metric,
          operator: data.operator,
          threshold: data.threshold,
          value: data.value,
          severity: data.severity,
          verdict: data.verdict,
          reason: data.reason,
        }),
      };
    }
    case 'decision.requested':
      return {
        ...base,
        type: 'decision.requested',
        summary: `${stageName(event)}: decision ${decisionId} requested (${str(data.category)}, confidence ${data.confidence ?? 'none'})`,
        data: defined({
          decisionId,
          category: data.category,
          confidence: data.confidence,
          approvers: data.approvers,
          deadlineAt: data.deadlineAt,
        }),
      };
    case 'decision.voted':
      return {
        ...base,
        type: 'decision.voted',
        summary: `${stageName(event)}: ${event.actor} voted ${str(data.verdict)} on ${decisionId} (${data.approvals}/${data.quorum})`,
        data: defined({ decisionId, actor: event.actor, verdict: data.verdict, approvals: data.approvals, quorum: data.quorum }),
      };
    case 'decision.escalated':
      return {
        ...base,
        type: 'decision.escalated',
        summary: `${stageName(event)}: decision ${decisionId} escalated`,
        data: defined({ decisionId, approvers: data.approvers, deadlineAt: data.deadlineAt }),
      };
    case 'decision.resolved':
      return {
        ...base,
        type: 'decision.resolved',
        summary: `${stageName(event)}: decision ${decisionId} ${str(data.status)} by ${event.actor}`,
        data: defined({ decisionId, status: data.status, actor: event.actor }),
      };
    case 'clarification.requested': {
      const questions = Array.isArray(data.questions) ? data.questions.length : 0;
      return {
        ...base,
        type: 'clarification.requested',
        summary: `${stageName(event)}: ${questions} question${questions === 1 ? '' : 's'} asked`,
        data: defined({ clarificationId: data.clarificationId, questions: data.questions, actor: event.actor }),
      };
    }
    case 'clarification.resolved': {
      const answered = data.status === 'answered';
      return {
        ...base,
        type: answered ? 'clarification.answered' : 'clarification.cancelled',
        summary: `${stageName(event)}: questions ${answered ? `answered by ${event.actor}` : 'cancelled'}`,
        data: defined({ clarificationId: data.clarificationId, actor: event.actor }),
      };
    }
    case 'pipeline.finished': {
      const error = obj(data.error);
      return {
        ...base,
        type: 'pipeline.finished',
        summary: `pipeline ${str(data.status)}${str(error?.code) ? ` (${str(error?.code)})` : ''}`,
        data: defined({ status: data.status, errorCode: str(error?.code), errorMessage: str(error?.message) }),
      };
    }
    case 'dlq.replayed':
      return {
        ...base,
        type: 'dlq.replayed',
        summary: `${stageName(event)}: dead-lettered job ${str(data.jobId)} replayed by ${event.actor} (${str(data.mode)})`,
        data: defined({ jobId: data.jobId, mode: data.mode, restored: data.restored, actor: event.actor }),
      };
    case 'stage.paused':
      return { ...base, type: 'stage.paused', summary: `${stageName(event)}: held, the pipeline is paused`, data: {} };
    case 'pipeline.paused': {
      const reason = str(data.reason);
      return {
        ...base,
        type: 'pipeline.paused',
        summary: `pipeline paused by ${event.actor}${reason ? ` (${reason})` : ''}`,
        data: defined({ reason, paused: data.paused, actor: event.actor }),
      };
    }
    case 'pipeline.resumed':
      return {
        ...base,
        type: 'pipeline.resumed',
        summary: `pipeline resumed by ${event.actor}`,
        data: defined({ resumed: data.resumed, actor: event.actor }),
      };
    case 'stage.reused':
      return {
        ...base,
        type: 'stage.reused',
        summary: `${stageName(event)}: reused the output of stage ${str(data.fromStage)} of pipeline ${str(data.fromPipeline)}, not run again`,
        data: defined({ fromPipeline: data.fromPipeline, fromStage: data.fromStage }),
      };
    default:
      // `unknown` (a stored row that does not parse): the event stream reports it; a timeline leaves it out.
      return null;
  }
}

/**
 * The timeline of a pipeline from its event log (in id order). Items are sorted by time; events
 * of one instant keep their log order, after the submission and the cancel request of that instant.
 */
export function buildTimeline(pipeline: TimelinePipeline, events: readonly PipelineEvent[]): TimelineItem[] {
  const startedAt = new Map<string, Date>();
  const items: TimelineItem[] = [
    {
      at: pipeline.createdAt,
      type: 'pipeline.submitted',
      stageKey: null,
      attempt: null,
      summary: `${pipeline.name} submitted by ${pipeline.submitter}${pipeline.template ? ` from template ${pipeline.template}` : ''}`,
      data: defined({
        name: pipeline.name,
        submitter: pipeline.submitter,
        template: pipeline.template ?? undefined,
        labels: pipeline.labels,
      }),
    },
  ];
  // Before the events: those of the cancel's own instant (its stages cancelled) follow it.
  if (pipeline.cancelRequestedAt) {
    items.push({
      at: pipeline.cancelRequestedAt,
      type: 'pipeline.cancel_requested',
      stageKey: null,
      attempt: null,
      summary: pipeline.cancelReason ? `cancel requested (${pipeline.cancelReason})` : 'cancel requested',
      data: pipeline.cancelReason ? { reason: pipeline.cancelReason } : {},
    });
  }
  for (const event of events) {
    const item = itemOf(event, startedAt);
    if (item) items.push(item);
  }
  // Array.prototype.sort is stable: equal instants keep the order they were pushed in.
  return items.sort((a, b) => a.at.getTime() - b.at.getTime());
}
