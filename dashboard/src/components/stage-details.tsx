// The selected stage: timings, attempts with their gate verdicts, output, error, logs, its job
// on Bull Board, and a replay of its failed job for operators.
import { useState } from 'preact/hooks';
import { ERROR_OF_PREVIOUS_ATTEMPT_STATUSES } from '../../../src/domain/status.js';
import { messageOf, query } from '../api.js';
import { formatMs, formatTime, pretty } from '../format.js';
import { dlqPageSchema, type Run, type Stage } from '../schemas.js';
import { useSession } from '../session-context.js';
import { StatusBadge } from './status-badge.js';
import { Alert } from './alert.js';

function Logs({ pipelineId, stageKey }: { pipelineId: string; stageKey: string }) {
  const { api } = useSession();
  const [logs, setLogs] = useState<{ text?: string; error?: string; busy: boolean }>({ busy: false });
  const load = async () => {
    setLogs({ busy: true });
    try {
      const text = await api.text(`/api/v1/pipelines/${pipelineId}/stages/${encodeURIComponent(stageKey)}/logs`);
      setLogs({ busy: false, text: text || '(no log lines)' });
    } catch (error) {
      setLogs({ busy: false, error: messageOf(error) });
    }
  };
  return (
    <div>
      <button type="button" onClick={load} disabled={logs.busy}>
        {logs.text === undefined ? 'Show logs' : 'Reload logs'}
      </button>
      <Alert message={logs.error} />
      {logs.text !== undefined && (
        <pre class="logs" tabIndex={0} aria-label={`Logs of stage ${stageKey}`}>
          {logs.text}
        </pre>
      )}
    </div>
  );
}

function Replay({ pipelineId, stage, onDone }: { pipelineId: string; stage: Stage; onDone(): void }) {
  const { api } = useSession();
  const [state, setState] = useState<{ busy: boolean; message?: string; error?: string }>({ busy: false });
  const replay = async () => {
    setState({ busy: true });
    try {
      // The stage's job id when the API names it; else the DLQ's failed job of this stage.
      let jobId = stage.jobId ?? undefined;
      if (!jobId) {
        const page = await api.get(`/api/v1/dlq${query({ pipelineId, limit: 100 })}`, dlqPageSchema);
        jobId = page.items.find((item) => item.stageKey === stage.key)?.jobId;
      }
      if (!jobId) throw new Error('No failed job of this stage is in the dead-letter queue.');
      await api.post(`/api/v1/dlq/${encodeURIComponent(jobId)}/retry`, {});
      setState({ busy: false, message: 'Replay accepted: the stage runs again.' });
      onDone();
    } catch (error) {
      setState({ busy: false, error: messageOf(error) });
    }
  };
  return (
    <div>
      <button type="button" onClick={replay} disabled={state.busy}>
        Replay failed job
      </button>
      {state.message && <p role="status">{state.message}</p>}
      <Alert message={state.error} />
    </div>
  );
}

function Attempts({ runs }: { runs: readonly Run[] }) {
  if (runs.length === 0) return <p>No attempt yet.</p>;
  return (
    <table class="runs">
      <caption>Attempts</caption>
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Status</th>
          <th scope="col">Started</th>
          <th scope="col">Finished</th>
          <th scope="col">Worker</th>
          <th scope="col">Gate verdicts</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((r) => (
          <tr key={r.attempt}>
            <td>{r.attempt}</td>
            <td>
              <StatusBadge status={r.status} />
              {r.error && <div class="error">{`${r.error.code}: ${r.error.message}`}</div>}
            </td>
            <td>{formatTime(r.startedAt)}</td>
            <td>{formatTime(r.finishedAt)}</td>
            <td>
              <code>{r.workerId}</code>
            </td>
            <td>
              {r.gates.length === 0
                ? '—'
                : r.gates.map((g) => (
                    <div key={g.metric}>
                      <StatusBadge status={g.verdict === 'passed' ? 'succeeded' : g.verdict === 'failed' ? 'failed' : 'waiting'} />{' '}
                      {g.metric} {g.operator} {String(g.threshold)} (got {String(g.value)}, {g.severity}): {g.reason}
                    </div>
                  ))}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function StageDetails({
  pipelineId,
  stage,
  runs,
  onChanged,
}: {
  pipelineId: string;
  stage: Stage;
  runs: readonly Run[];
  onChanged(): void;
}) {
  const { can } = useSession();
  // Bull Board lets in only `operate` (docs/bull-board.md): any other role would get a Basic
  // prompt and then a 403, so the link is not offered to it.
  const boardLink =
    stage.queue && stage.jobId && can('operate')
      ? `/admin/queues/queue/${encodeURIComponent(stage.queue)}/${encodeURIComponent(stage.jobId)}`
      : undefined;
  return (
    <section class="stage" aria-labelledby="stage-title">
      <h2 id="stage-title">
        Stage {stage.key} <StatusBadge status={stage.status} />
      </h2>
      <dl class="facts">
        <dt>Agent</dt>
        <dd>{stage.agent}</dd>
        <dt>Depends on</dt>
        <dd>{stage.dependsOn.length > 0 ? stage.dependsOn.join(', ') : '—'}</dd>
        <dt>Attempts</dt>
        <dd>{stage.attempts}</dd>
        <dt>Queued</dt>
        <dd>{formatTime(stage.queuedAt)}</dd>
        <dt>Started</dt>
        <dd>{formatTime(stage.startedAt)}</dd>
        <dt>Finished</dt>
        <dd>{formatTime(stage.finishedAt)}</dd>
        <dt>Duration</dt>
        <dd>{formatMs(stage.durationMs)}</dd>
        {boardLink && (
          <>
            <dt>Job</dt>
            <dd>
              <a href={boardLink}>Open the job on Bull Board</a> (operators)
            </dd>
          </>
        )}
      </dl>
      {stage.error && (
        <pre class="error-box">
          {/* Kept by the API while the next attempt is queued or runs: why it runs again, not how it ended. */}
          {`${ERROR_OF_PREVIOUS_ATTEMPT_STATUSES.has(stage.status) ? 'The previous attempt failed: ' : ''}${stage.error.code}: ${stage.error.message}`}
        </pre>
      )}
      {stage.status === 'failed' && can('operate') && <Replay pipelineId={pipelineId} stage={stage} onDone={onChanged} />}
      <Attempts runs={runs} />
      <h3>Output</h3>
      <pre class="output" tabIndex={0} aria-label={`Output of stage ${stage.key}`}>
        {stage.output === null ? '(none yet)' : pretty(stage.output)}
      </pre>
      <h3>Logs</h3>
      <Logs key={stage.key} pipelineId={pipelineId} stageKey={stage.key} />
    </section>
  );
}
