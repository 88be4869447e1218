// The ports of pausing and resuming a pipeline: its pause mark and its stages' moves in Postgres
// (infra/db/pipeline-pause.repository.ts).
import type { PipelineStatus } from '../domain/status.js';
import type { AuditOf } from './identity.ports.js';
import type { DispatchedStage } from './queue.ports.js';

/** What a pause statement found and did. */
export interface PauseOutcome {
  status: PipelineStatus;
  cancelRequested: boolean;
  /** This call paused it (false: it was paused already, finished, or has a cancel request). */
  changed: boolean;
  alreadyPaused: boolean;
  /** The keys of the stages it moved from queued to paused. */
  held: string[];
}

/** What a resume statement found and did. */
export interface ResumeOutcome {
  status: PipelineStatus;
  /** This call resumed it (false: it was not paused, or is finished). */
  changed: boolean;
  /**
   * The keys of the stages it queued again, in key order: the list its `pipeline.resumed` event
   * records (one source, the statement's update). Empty when it resumed nothing.
   */
  resumed: string[];
  /** The stages it queued again, each with its new job id: their jobs are to be added. */
  queued: DispatchedStage[];
  /**
   * Set when the pipeline was paused by someone the caller may not lift a pause of (`mayLift`
   * said no, under the row lock): nothing changed. `pausedBy` is who paused it.
   */
  refused?: { pausedBy: string };
}

export interface PipelinePauseRepository {
  /** Pauses a pipeline that is not finished, paused or being cancelled; null: no such pipeline. `audit`'s event commits with the pause. */
  pause(args: { pipelineId: string; by: string; reason: string | null }, audit?: AuditOf<PauseOutcome>): Promise<PauseOutcome | null>;
  /**
   * Resumes a paused pipeline; each stage queued again runs under `<stage id>-<jobSuffix>`; null:
   * no such pipeline. `mayLift` (default: any pause) is asked, with the pipeline row locked, whether
   * the caller may lift the pause `pausedBy` made of the pipeline as it is (`status`); no: `refused`,
   * nothing changed. `audit`'s event commits with the resume.
   */
  resume(
    args: {
      pipelineId: string;
      by: string;
      jobSuffix: string;
      mayLift?: (pipeline: { status: PipelineStatus; pausedBy: string }) => boolean;
    },
    audit?: AuditOf<ResumeOutcome>,
  ): Promise<ResumeOutcome | null>;
}
