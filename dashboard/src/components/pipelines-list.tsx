// The pipelines list: filters (status, name, submitter, a label), cursor pages, and each row's
// status kept live by the event stream of all pipelines.
import { useState } from 'preact/hooks';
import { PIPELINE_STATUSES } from '../../../src/domain/status.js';
import { query } from '../api.js';
import { useLiveRefresh, useResource } from '../hooks.js';
import { hrefOf, onLinkClick } from '../router.js';
import { pipelinePageSchema } from '../schemas.js';
import { useSession } from '../session-context.js';
import { LiveIndicator } from './live-indicator.js';
import { PriorityBadge } from './priority-badge.js';
import { StatusBadge } from './status-badge.js';
import { formatDuration, formatTime } from '../format.js';
import { Alert } from './alert.js';

interface Filters {
  status: string;
  name: string;
  submitter: string;
  label: string;
}

const NO_FILTERS: Filters = { status: '', name: '', submitter: '', label: '' };
const PAGE_SIZE = 20;

/**
 * The filters of the page's address (`?status=failed&name=checkout`): a reload, a Back from a
 * pipeline or a link a colleague was sent shows the same list. Before, a reload lost them.
 */
function filtersOfAddress(): Filters {
  const search = new URLSearchParams(location.search);
  const filters = { ...NO_FILTERS };
  for (const field of Object.keys(NO_FILTERS) as (keyof Filters)[]) filters[field] = search.get(field) ?? '';
  return filters;
}

export function PipelinesList() {
  const { api } = useSession();
  const [draft, setDraft] = useState<Filters>(filtersOfAddress);
  const [filters, setFilters] = useState<Filters>(filtersOfAddress);
  // The cursors of the pages before this one: "Previous" pops one.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const page = useResource(
    () => api.get(`/api/v1/pipelines${query({ ...filters, limit: PAGE_SIZE, cursor })}`, pipelinePageSchema),
    [filters, cursor],
  );
  const live = useLiveRefresh('/api/v1/events', api, page.reload);
  const set = (field: keyof Filters) => (event: Event) => setDraft({ ...draft, [field]: (event.currentTarget as HTMLInputElement).value });
  const search = (event: Event) => {
    event.preventDefault();
    setFilters(draft);
    setCursors([undefined]);
    // Replaced, not pushed: Back leaves the list rather than stepping through its searches.
    history.replaceState(null, '', `${hrefOf({ page: 'pipelines' })}${query({ ...draft })}`);
  };
  const labelInvalid = draft.label !== '' && !/^[^:]+:.*$/.test(draft.label);

  return (
    <section aria-labelledby="pipelines-title">
      <div class="title-row">
        <h1 id="pipelines-title">Pipelines</h1>
        <LiveIndicator state={live} />
      </div>
      <form class="filters" role="search" aria-label="Filter pipelines" onSubmit={search}>
        <div class="field">
          <label for="filter-status">Status</label>
          <select id="filter-status" value={draft.status} onChange={set('status')}>
            <option value="">any</option>
            {PIPELINE_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="filter-name">Name</label>
          <input id="filter-name" type="search" value={draft.name} onInput={set('name')} />
        </div>
        <div class="field">
          <label for="filter-submitter">Submitter</label>
          <input id="filter-submitter" type="search" value={draft.submitter} onInput={set('submitter')} />
        </div>
        <div class="field">
          <label for="filter-label">Label (key:value)</label>
          <input
            id="filter-label"
            type="search"
            placeholder="team:payments"
            value={draft.label}
            onInput={set('label')}
            aria-invalid={labelInvalid || undefined}
          />
        </div>
        <button type="submit" disabled={labelInvalid}>
          Search
        </button>
      </form>
      <Alert message={page.error} />
      {page.data && page.data.items.length === 0 && <p>No pipelines match.</p>}
      {page.data && page.data.items.length > 0 && (
        <table class="pipelines">
          <caption class="visually-hidden">Pipelines, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">Priority</th>
              <th scope="col">Submitter</th>
              <th scope="col">Labels</th>
              <th scope="col">Created</th>
              <th scope="col">Duration</th>
            </tr>
          </thead>
          <tbody>
            {page.data.items.map((p) => (
              <tr key={p.id} data-pipeline={p.id}>
                <td>
                  <a href={hrefOf({ page: 'pipeline', id: p.id })} onClick={onLinkClick}>
                    {p.name}
                  </a>
                </td>
                <td>
                  <StatusBadge status={p.status} />
                </td>
                <td>
                  <PriorityBadge priority={p.priority} />
                </td>
                <td>{p.submitter}</td>
                <td>
                  {Object.entries(p.labels ?? {}).map(([k, v]) => (
                    <span class="label-tag" key={k}>
                      {k}:{v}
                    </span>
                  ))}
                </td>
                <td>{formatTime(p.createdAt)}</td>
                <td>{formatDuration(p.startedAt, p.finishedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav class="pager" aria-label="Pages">
        <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))}>
          Previous page
        </button>
        <span>Page {cursors.length}</span>
        <button
          type="button"
          disabled={!page.data?.nextCursor}
          onClick={() => page.data?.nextCursor && setCursors([...cursors, page.data.nextCursor])}
        >
          Next page
        </button>
      </nav>
    </section>
  );
}
