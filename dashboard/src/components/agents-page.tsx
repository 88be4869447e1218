// The agent types (GET /api/v1/agents): each with its version, its workers online and whether its
// queue is paused (since when, by whom, why). Operators and admins (`operate`) pause and resume a
// type here as with POST /api/v1/agents/:type/pause and /resume (docs/pipeline-operations.md,
// "An agent type (operators)"); every other role sees the state only, and the API refuses anyway.
import { useState } from 'preact/hooks';
import { messageOf } from '../api.js';
import { formatTime } from '../format.js';
import { useResource } from '../hooks.js';
import { agentListSchema, type Agent } from '../schemas.js';
import { useSession } from '../session-context.js';
import { Alert } from './alert.js';

/** The state in words, for every reader: colour is never the only sign. Who and why in a `bdi` each (see PausedNotice). */
function stateOf(agent: Agent) {
  if (!agent.paused) return 'running';
  // Paused in Redis outside the platform: the queue is paused, but the platform holds no record of it.
  if (!agent.pause) return 'paused (no record: paused outside the platform)';
  const { at, by, reason } = agent.pause;
  return (
    <>
      paused since {formatTime(at)} by <bdi>{by}</bdi>
      {reason && (
        <>
          : <bdi>{reason}</bdi>
        </>
      )}
    </>
  );
}

function Actions({ agent, onDone }: { agent: Agent; onDone(): void }) {
  const { api, can } = useSession();
  const [reason, setReason] = useState('');
  const [state, setState] = useState<{ busy: boolean; error?: string }>({ busy: false });
  if (!can('operate')) return null;
  const act = async () => {
    setState({ busy: true });
    try {
      const trimmed = reason.trim();
      const base = `/api/v1/agents/${encodeURIComponent(agent.type)}`;
      // An empty reason is left out rather than sent as "": the record then says none was given.
      await api.post(agent.paused ? `${base}/resume` : `${base}/pause`, agent.paused || !trimmed ? {} : { reason: trimmed });
      setReason('');
      setState({ busy: false });
      onDone();
    } catch (error) {
      setState({ busy: false, error: messageOf(error) });
    }
  };
  return (
    <div class="actions">
      {!agent.paused && (
        <label class="pause-reason">
          {/* The type in the accessible name tells one row's field from the next row's. */}
          Pause reason (optional)<span class="visually-hidden"> for {agent.type}</span>{' '}
          <input
            type="text"
            maxLength={500}
            value={reason}
            disabled={state.busy}
            onInput={(e) => setReason((e.target as HTMLInputElement).value)}
          />
        </label>
      )}
      <button type="button" disabled={state.busy} onClick={act}>
        {agent.paused ? `Resume ${agent.type}` : `Pause ${agent.type}`}
      </button>
      <Alert message={state.error} />
    </div>
  );
}

export function AgentsPage() {
  const { api, can } = useSession();
  const list = useResource(() => api.get('/api/v1/agents', agentListSchema), []);
  const operator = can('operate');
  return (
    <section aria-labelledby="agents-title">
      <div class="title-row">
        <h1 id="agents-title">Agents</h1>
        <button type="button" onClick={list.reload}>
          Refresh
        </button>
      </div>
      <Alert message={list.error} />
      {list.data && list.data.items.length === 0 && <p>No agent types: this deployment registers none.</p>}
      {list.data && list.data.items.length > 0 && (
        <table class="agents">
          <caption class="visually-hidden">Agent types</caption>
          <thead>
            <tr>
              <th scope="col">Type</th>
              <th scope="col">Version</th>
              <th scope="col">Workers online</th>
              <th scope="col">State</th>
              {operator && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((a) => (
              <tr key={a.type} data-agent={a.type}>
                <th scope="row">{a.type}</th>
                <td>{a.version}</td>
                <td>{a.workersOnline}</td>
                <td>
                  <span class={`badge agent-${a.paused ? 'paused' : 'running'}`}>{stateOf(a)}</span>
                </td>
                {operator && (
                  <td>
                    <Actions agent={a} onDone={list.reload} />
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
