// Re-run from a stage on the pipeline page: the "Re-run" button of a finished pipeline, a stage's
// "Re-run from here", a reused stage's origin, and the lineage links (re-run of, re-runs). Shown
// to the pipeline's submitter (rerun_own) and to operators (rerun_any); the API decides anyway.
import { useState } from 'preact/hooks';
import { TERMINAL_PIPELINE_STATUSES } from '../../../src/domain/status.js';
import { messageOf } from '../api.js';
import { formatTime } from '../format.js';
import { hrefOf, navigate, onLinkClick } from '../router.js';
import { pipelineSchema, type Pipeline, type Stage } from '../schemas.js';
import { useSession } from '../session-context.js';
import { StatusBadge } from './status-badge.js';
import { Alert } from './alert.js';

/** Whether the signed-in identity may re-run this pipeline, and whether it has finished. */
function useCanRerun(pipeline: Pipeline): boolean {
  const { me, can } = useSession();
  const allowed = can('rerun_any') || (can('rerun_own') && pipeline.submitter === me.id);
  return allowed && TERMINAL_PIPELINE_STATUSES.has(pipeline.status);
}

/**
 * POST /pipelines/:id/rerun, then opens the new pipeline. `from`: the stages to run again (absent:
 * the API's default, the failed and cancelled ones, or every stage of a succeeded pipeline).
 */
export function RerunButton({ pipeline, from, label }: { pipeline: Pipeline; from?: string[]; label: string }) {
  const { api } = useSession();
  const [state, setState] = useState<{ busy: boolean; error?: string }>({ busy: false });
  if (!useCanRerun(pipeline)) return null;
  const rerun = async () => {
    setState({ busy: true });
    try {
      const created = await api.post(`/api/v1/pipelines/${pipeline.id}/rerun`, from ? { from } : {}, pipelineSchema);
      setState({ busy: false });
      if (created) navigate(hrefOf({ page: 'pipeline', id: created.id }));
    } catch (error) {
      setState({ busy: false, error: messageOf(error) });
    }
  };
  const what = from ? `from ${from.join(', ')} (with everything downstream)` : 'from the stages that failed or were cancelled';
  return (
    <>
      <button type="button" disabled={state.busy} onClick={rerun} title={`A new pipeline: re-runs ${what}, reuses the other outputs`}>
        {state.busy ? 'Re-running…' : label}
      </button>
      <Alert message={state.error} />
    </>
  );
}

/** "Re-run from here" for the selected stage, with the origin of a reused stage's output. */
export function StageRerun({ pipeline, stage }: { pipeline: Pipeline; stage: Stage }) {
  return (
    <div class="actions stage-rerun">
      {stage.reused && (
        <p class="reused-note">
          Reused, not run again: its output comes from{' '}
          <a href={hrefOf({ page: 'pipeline', id: stage.reused.fromPipeline })} onClick={onLinkClick}>
            pipeline {stage.reused.fromPipeline.slice(0, 8)}
          </a>
          .
        </p>
      )}
      <RerunButton pipeline={pipeline} from={[stage.key]} label={`Re-run from ${stage.key}`} />
    </div>
  );
}

/** The lineage facts: the pipeline this one re-runs (and from which stages), and its re-runs. */
export function Lineage({ pipeline }: { pipeline: Pipeline }) {
  const reruns = pipeline.reruns ?? [];
  if (!pipeline.rerunOf && reruns.length === 0) return null;
  return (
    <>
      {pipeline.rerunOf && (
        <>
          <dt>Re-run of</dt>
          <dd>
            <a href={hrefOf({ page: 'pipeline', id: pipeline.rerunOf })} onClick={onLinkClick}>
              <code>{pipeline.rerunOf}</code>
            </a>{' '}
            from {(pipeline.rerunFrom ?? []).join(', ')}
          </dd>
        </>
      )}
      {reruns.length > 0 && (
        <>
          <dt>Re-runs</dt>
          <dd>
            <ul class="plain" aria-label="Re-runs of this pipeline">
              {reruns.map((r) => (
                <li key={r.id}>
                  <a href={hrefOf({ page: 'pipeline', id: r.id })} onClick={onLinkClick}>
                    <code>{r.id}</code>
                  </a>{' '}
                  <StatusBadge status={r.status} /> {formatTime(r.createdAt)}
                </li>
              ))}
            </ul>
          </dd>
        </>
      )}
    </>
  );
}
