// One pipeline: its summary, pause/resume and cancel (where the role allows), the DAG, the selected stage's
// details, and its decisions and questions; kept live by the pipeline's own event stream.
import { useState } from 'preact/hooks';
import { TERMINAL_PIPELINE_STATUSES } from '../../../src/domain/status.js';
import { messageOf, query } from '../api.js';
import { formatDuration, formatMs, formatTime, isolate } from '../format.js';
import { useLiveRefresh, useResource } from '../hooks.js';
import { hrefOf, onLinkClick } from '../router.js';
import { pageOf, pipelineSchema, runListSchema, stageSchema, type Pipeline } from '../schemas.js';
import { useSession } from '../session-context.js';
import { Dag } from './dag.js';
import { LiveIndicator } from './live-indicator.js';
import { PauseControls, PausedNotice } from './pause-controls.js';
import { Lineage, RerunButton, StageRerun } from './rerun-controls.js';
import { StageDetails } from './stage-details.js';
import { StatusBadge } from './status-badge.js';
import { PriorityBadge } from './priority-badge.js';
import { PIPELINE_PRIORITIES, type PipelinePriority } from '../../../src/domain/pipeline-priority.js';
import { Alert } from './alert.js';

/** The stage shown first: one that needs attention, else the first. */
const initialStage = (p: Pipeline): string | undefined =>
  (p.stages.find((s) => s.status === 'failed') ?? p.stages.find((s) => s.status === 'running' || s.status === 'waiting') ?? p.stages[0])
    ?.key;

function CancelButton({ pipeline, onDone }: { pipeline: Pipeline; onDone(): void }) {
  const { api, me, can } = useSession();
  const [state, setState] = useState<{ busy: boolean; error?: string }>({ busy: false });
  const terminal = TERMINAL_PIPELINE_STATUSES.has(pipeline.status);
  const allowed = can('cancel_any') || (can('cancel_own') && pipeline.submitter === me.id);
  if (terminal || !allowed) return null;
  const cancel = async () => {
    if (!confirm(`Cancel pipeline ${isolate(pipeline.name)}?`)) return;
    setState({ busy: true });
    try {
      await api.post(`/api/v1/pipelines/${pipeline.id}/cancel`, {});
      setState({ busy: false });
      onDone();
    } catch (error) {
      setState({ busy: false, error: messageOf(error) });
    }
  };
  return (
    <>
      <button type="button" class="danger" disabled={state.busy || pipeline.cancelRequestedAt != null} onClick={cancel}>
        {pipeline.cancelRequestedAt != null ? 'Cancel requested' : 'Cancel pipeline'}
      </button>
      <Alert message={state.error} />
    </>
  );
}

/** Operators (the `prioritize` permission) change an unfinished pipeline's priority. */
function PriorityControl({ pipeline, onDone }: { pipeline: Pipeline; onDone(): void }) {
  const { api, can } = useSession();
  const [choice, setChoice] = useState<PipelinePriority>(pipeline.priority ?? 'normal');
  const [state, setState] = useState<{ busy: boolean; error?: string }>({ busy: false });
  if (TERMINAL_PIPELINE_STATUSES.has(pipeline.status) || !can('prioritize') || !pipeline.priority) return null;
  const change = async (event: Event) => {
    event.preventDefault();
    setState({ busy: true });
    try {
      await api.post(`/api/v1/pipelines/${pipeline.id}/priority`, { priority: choice });
      setState({ busy: false });
      onDone();
    } catch (error) {
      setState({ busy: false, error: messageOf(error) });
    }
  };
  return (
    <form class="inline-form" onSubmit={change}>
      <label for="priority-choice">Priority</label>{' '}
      <select
        id="priority-choice"
        value={choice}
        onChange={(e) => setChoice((e.currentTarget as HTMLSelectElement).value as PipelinePriority)}
      >
        {PIPELINE_PRIORITIES.map((level) => (
          <option key={level} value={level}>
            {level}
          </option>
        ))}
      </select>{' '}
      <button type="submit" disabled={state.busy || choice === pipeline.priority}>
        Change priority
      </button>
      <Alert message={state.error} />
    </form>
  );
}

export function PipelinePage({ id }: { id: string }) {
  const { api } = useSession();
  const base = `/api/v1/pipelines/${encodeURIComponent(id)}`;
  const pipeline = useResource(async () => {
    // A pipeline of over 100 stages, or with large outputs, comes with its first stages only:
    // the rest are read page by page, so the DAG and the details hold every stage.
    const first = await api.get(base, pipelineSchema);
    const stages = [...first.stages];
    for (let cursor = first.stagesNextCursor ?? null; cursor;) {
      const page = await api.get(`${base}/stages${query({ cursor })}`, pageOf(stageSchema));
      stages.push(...page.items);
      cursor = page.nextCursor;
    }
    return { ...first, stages, stagesNextCursor: null };
  }, [id]);
  const runs = useResource(() => api.get(`${base}/runs`, runListSchema), [id]);
  const live = useLiveRefresh(`${base}/events`, api, () => {
    pipeline.reload();
    runs.reload();
  });
  const [selected, setSelected] = useState<string | undefined>();
  const p = pipeline.data;
  if (!p) {
    return (
      <section>
        <h1>Pipeline</h1>
        {pipeline.error ? (
          <p class="error" role="alert">
            {pipeline.error}
          </p>
        ) : (
          <p>Loading…</p>
        )}
      </section>
    );
  }
  const stageKey = selected ?? initialStage(p);
  const stage = p.stages.find((s) => s.key === stageKey);
  return (
    <section aria-labelledby="pipeline-title">
      <div class="title-row">
        <h1 id="pipeline-title">{p.name}</h1>
        <StatusBadge status={p.status} />
        <PriorityBadge priority={p.priority} />
        <LiveIndicator state={live} />
      </div>
      <dl class="facts">
        <dt>Id</dt>
        <dd>
          <code>{p.id}</code>
        </dd>
        <dt>Submitter</dt>
        <dd>{p.submitter}</dd>
        {p.traceId && (
          <>
            <dt>Trace id</dt>
            <dd>
              <code>{p.traceId}</code>
            </dd>
          </>
        )}
        {p.labels && Object.keys(p.labels).length > 0 && (
          <>
            <dt>Labels</dt>
            <dd>
              {Object.entries(p.labels).map(([k, v]) => (
                <span class="label-tag" key={k}>
                  {k}:{v}
                </span>
              ))}
            </dd>
          </>
        )}
        {p.deadlineAt && (
          <>
            <dt>Deadline</dt>
            <dd>{formatTime(p.deadlineAt)}</dd>
          </>
        )}
        {p.cancelReason && (
          <>
            <dt>Cancel reason</dt>
            <dd>{p.cancelReason}</dd>
          </>
        )}
        <dt>Created</dt>
        <dd>{formatTime(p.createdAt)}</dd>
        <dt>Duration</dt>
        <dd>{p.durationMs !== null ? formatMs(p.durationMs) : formatDuration(p.startedAt, p.finishedAt)}</dd>
        <Lineage pipeline={p} />
      </dl>
      {p.error != null && <pre class="error-box">{JSON.stringify(p.error, null, 2)}</pre>}
      <div class="actions">
        <a class="button-link" href={hrefOf({ page: 'timeline', id: p.id })} onClick={onLinkClick}>
          Timeline
        </a>
        <PauseControls pipeline={p} onDone={pipeline.reload} />
        <CancelButton pipeline={p} onDone={pipeline.reload} />
        <RerunButton pipeline={p} label="Re-run" />
        <PriorityControl pipeline={p} onDone={pipeline.reload} />
      </div>
      <PausedNotice pipeline={p} />
      <h2>Stages</h2>
      <div class="dag-scroll">
        <Dag stages={p.stages} selected={stageKey} onSelect={setSelected} />
      </div>
      {stage && (
        <StageDetails
          pipelineId={p.id}
          stage={stage}
          runs={(runs.data?.items ?? []).filter((r) => r.stageKey === stage.key)}
          onChanged={pipeline.reload}
        />
      )}
      {stage && <StageRerun pipeline={p} stage={stage} />}
      {(p.decisions.length > 0 || p.clarifications.length > 0) && (
        <>
          <h2>Decisions and questions</h2>
          <ul class="plain">
            {p.decisions.map((d) => (
              <li key={d.id}>
                Decision <code>{d.id}</code> on <strong>{d.stageKey}</strong> ({d.category}): <StatusBadge status={d.status} />
              </li>
            ))}
            {p.clarifications.map((c) => (
              <li key={c.id}>
                {c.questions.length} question(s) {c.stageKey ? `on ${c.stageKey}` : 'at submission'}: <StatusBadge status={c.status} />
              </li>
            ))}
          </ul>
          <a href={hrefOf({ page: 'inbox' })} onClick={onLinkClick}>
            Open the inbox
          </a>
        </>
      )}
    </section>
  );
}
