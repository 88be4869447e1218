// A pipeline's timeline (attempts, verdicts, decisions, clarifications, retries) with its trace
// id, exportable as JSON (the answer as the API gave it, downloaded from a Blob).
import { ApiError } from '../api.js';
import { formatTime, pretty } from '../format.js';
import { useLiveRefresh, useResource } from '../hooks.js';
import { hrefOf, onLinkClick } from '../router.js';
import { timelineSchema, type Timeline } from '../schemas.js';
import { useSession } from '../session-context.js';
import { LiveIndicator } from './live-indicator.js';
import { Alert } from './alert.js';

function download(timeline: Timeline) {
  const url = URL.createObjectURL(new Blob([pretty(timeline)], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = `timeline-${timeline.pipelineId}.json`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function TimelinePage({ id }: { id: string }) {
  const { api } = useSession();
  const base = `/api/v1/pipelines/${encodeURIComponent(id)}`;
  const timeline = useResource(async () => {
    try {
      return await api.get(`${base}/timeline`, timelineSchema);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'ROUTE_NOT_FOUND')
        throw new Error('This API does not serve timelines yet.', { cause: error });
      throw error;
    }
  }, [id]);
  const live = useLiveRefresh(`${base}/events`, api, timeline.reload);
  const t = timeline.data;
  return (
    <section aria-labelledby="timeline-title">
      <div class="title-row">
        <h1 id="timeline-title">Timeline</h1>
        <LiveIndicator state={live} />
      </div>
      <p>
        <a href={hrefOf({ page: 'pipeline', id })} onClick={onLinkClick}>
          Back to the pipeline
        </a>
      </p>
      <Alert message={timeline.error} />
      {t && (
        <>
          <dl class="facts">
            <dt>Pipeline</dt>
            <dd>
              <code>{t.pipelineId}</code>
            </dd>
            <dt>Trace id</dt>
            <dd>
              <code>{t.traceId ?? '—'}</code>
            </dd>
          </dl>
          <button type="button" onClick={() => download(t)}>
            Export JSON
          </button>
          <ol class="timeline">
            {t.items.map((item, i) => (
              <li key={i}>
                <time dateTime={item.at}>{formatTime(item.at)}</time> <strong>{item.type}</strong>
                {item.stageKey && ` · ${item.stageKey}`}
                {item.attempt != null && ` · attempt ${item.attempt}`}
                {item.summary && (
                  <>
                    {' · '}
                    <bdi>{item.summary}</bdi>
                  </>
                )}
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}
