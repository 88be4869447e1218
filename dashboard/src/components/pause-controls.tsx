// Pause and resume on the pipeline page (docs/pipeline-operations.md, "Pause and resume"): shown
// to its submitter (pause_own; Resume only for its own pause) and to operators (pause_any) while
// the pipeline is not finished and not being cancelled. A paused pipeline says since when, by
// whom and why, and offers Resume.
import { useState } from 'preact/hooks';
import { mayLiftPause } from '../../../src/domain/pause-lift.js';
import { TERMINAL_PIPELINE_STATUSES } from '../../../src/domain/status.js';
import { messageOf } from '../api.js';
import { formatTime } from '../format.js';
import type { Pipeline } from '../schemas.js';
import { useSession } from '../session-context.js';
import { Alert } from './alert.js';

/**
 * Who paused it and why, for every reader (not only those who may resume it). The name and the
 * reason are the caller's text, each in a `bdi`: a right-to-left override in a reason (U+202E)
 * must not run on and reverse the sentence that follows it.
 */
export function PausedNotice({ pipeline }: { pipeline: Pipeline }) {
  const paused = pipeline.paused;
  if (!paused || TERMINAL_PIPELINE_STATUSES.has(pipeline.status)) return null;
  return (
    <p class="paused-notice" role="status">
      <strong>Paused</strong> since {formatTime(paused.at)} by <bdi>{paused.by}</bdi>
      {paused.reason && (
        <>
          : <bdi class="reason">{paused.reason}</bdi>
        </>
      )}
      . Running stages finish; no new stage starts until it is resumed.
    </p>
  );
}

export function PauseControls({ pipeline, onDone }: { pipeline: Pipeline; onDone(): void }) {
  const { api, me, can } = useSession();
  const [reason, setReason] = useState('');
  const [state, setState] = useState<{ busy: boolean; error?: string }>({ busy: false });
  const paused = pipeline.paused != null;
  // A submitter lifts only its own pause; an operator's hold is for an operator to lift.
  const own = can('pause_own') && pipeline.submitter === me.id && mayLiftPause(me.id, pipeline.paused?.by, false);
  const allowed = can('pause_any') || own;
  if (!allowed || TERMINAL_PIPELINE_STATUSES.has(pipeline.status) || pipeline.cancelRequestedAt != null) return null;
  const act = async () => {
    setState({ busy: true });
    try {
      const trimmed = reason.trim();
      await api.post(`/api/v1/pipelines/${pipeline.id}/${paused ? 'resume' : 'pause'}`, paused || !trimmed ? {} : { reason: trimmed });
      setReason('');
      setState({ busy: false });
      onDone();
    } catch (error) {
      setState({ busy: false, error: messageOf(error) });
    }
  };
  return (
    <>
      {!paused && (
        <label class="pause-reason">
          Pause reason (optional){' '}
          <input type="text" maxLength={500} value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
        </label>
      )}
      <button type="button" disabled={state.busy} onClick={act}>
        {paused ? 'Resume pipeline' : 'Pause pipeline'}
      </button>
      <Alert message={state.error} />
    </>
  );
}
