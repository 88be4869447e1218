// The schedules: each with when it fires, its state, its overlap policy and its next fire time,
// and pause, resume and delete where the signed-in role allows (its creator with schedule_own,
// anyone with schedule_any; a pause only by whoever paused it or schedule_any). Created from the
// API or the CLI (docs/pipeline-operations.md).
import { useState } from 'preact/hooks';
import { mayLiftPause } from '../../../src/domain/pause-lift.js';
import { messageOf, query } from '../api.js';
import { formatTime, isolate } from '../format.js';
import { LIST_PAGE_MAX, usePagedList } from '../hooks.js';
import { schedulePageSchema, type Schedule } from '../schemas.js';
import { useSession } from '../session-context.js';
import { Alert } from './alert.js';
import { LoadMore } from './load-more.js';

/** When a schedule fires, as people read it. */
function timingOf(s: Schedule): string {
  if (s.cron) return `${s.cron} (${s.timezone ?? 'UTC'})`;
  const ms = s.everyMs ?? 0;
  return ms % 3_600_000 === 0 ? `every ${ms / 3_600_000} h` : ms % 60_000 === 0 ? `every ${ms / 60_000} min` : `every ${ms / 1000} s`;
}

function Actions({ schedule, onDone }: { schedule: Schedule; onDone(): void }) {
  const { api, me, can } = useSession();
  const [state, setState] = useState<{ busy: boolean; error?: string }>({ busy: false });
  const allowed = can('schedule_any') || (can('schedule_own') && schedule.owner === me.id);
  if (!allowed) return null;
  // An operator's pause is lifted only by an operator or by whoever paused it (the API's rule).
  const mayResume = mayLiftPause(me.id, schedule.pausedBy, can('schedule_any'));
  const base = `/api/v1/schedules/${encodeURIComponent(schedule.id)}`;
  const act = (what: () => Promise<unknown>) => async () => {
    setState({ busy: true });
    try {
      await what();
      setState({ busy: false });
      onDone();
    } catch (error) {
      setState({ busy: false, error: messageOf(error) });
    }
  };
  const remove = act(async () => {
    if (confirm(`Delete schedule ${isolate(schedule.name)}? The runs it started stay.`)) await api.del(base);
  });
  return (
    <div class="actions">
      {schedule.status === 'active' && (
        <button
          type="button"
          disabled={state.busy}
          onClick={act(() => api.post(`${base}/pause`, {}))}
          aria-label={`Pause ${schedule.name}`}
        >
          Pause
        </button>
      )}
      {schedule.status === 'paused' && mayResume && (
        <button
          type="button"
          disabled={state.busy}
          onClick={act(() => api.post(`${base}/resume`, {}))}
          aria-label={`Resume ${schedule.name}`}
        >
          Resume
        </button>
      )}
      <button type="button" class="danger" disabled={state.busy} onClick={remove} aria-label={`Delete ${schedule.name}`}>
        Delete
      </button>
      <Alert message={state.error} />
    </div>
  );
}

export function SchedulesPage() {
  const { api } = useSession();
  // 100 a page (the API's most): an installation with more reads them with Load more.
  const page = usePagedList((cursor) => api.get(`/api/v1/schedules${query({ limit: LIST_PAGE_MAX, cursor })}`, schedulePageSchema), []);
  return (
    <section aria-labelledby="schedules-title">
      <div class="title-row">
        <h1 id="schedules-title">Schedules</h1>
        <button type="button" onClick={page.reload}>
          Refresh
        </button>
      </div>
      <Alert message={page.error} />
      {page.items?.length === 0 && <p>No schedules. Create one with POST /api/v1/schedules or `sdlc schedules create`.</p>}
      {page.items && page.items.length > 0 && (
        <table class="schedules">
          <caption class="visually-hidden">Schedules, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">When</th>
              <th scope="col">Overlap</th>
              <th scope="col">Next run</th>
              <th scope="col">Last tick</th>
              <th scope="col">Owner</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((s) => (
              <tr key={s.id} data-schedule={s.id}>
                <td>{s.name}</td>
                <td>
                  <span class={`badge schedule-${s.status}`}>{s.status}</span>
                </td>
                <td>{timingOf(s)}</td>
                <td>{s.overlap}</td>
                <td>{formatTime(s.nextFireTimes[0])}</td>
                <td>{formatTime(s.lastTickAt)}</td>
                <td>{s.owner}</td>
                <td>
                  <Actions schedule={s} onDone={page.reload} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <LoadMore list={page} noun="schedules" id="schedules-more" />
    </section>
  );
}
