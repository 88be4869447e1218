// The ports of the clarification use cases: questions asked at submission or by a stage, and
// their answers. infra/db implements them (clarification.repository.ts, clarification.sql.ts).
import type { JsonValue } from '../domain/json.js';
import type { ClarificationQuestion } from '../domain/requirements-check.js';
import type { ClarificationStatus } from '../domain/status.js';
import type { AuditOf } from './identity.ports.js';
import type { DispatchedStage } from './queue.ports.js';

export interface ClarificationView {
  id: string;
  pipelineId: string;
  /** Null: asked at submission (the pipeline's roots wait for it). */
  stageKey: string | null;
  status: ClarificationStatus;
  questions: ClarificationQuestion[];
  answers: Record<string, string> | null;
  askedBy: string;
  answeredBy: string | null;
  createdAt: Date;
  answeredAt: Date | null;
}

/** A clarification to open (at submission, or when a handler asks). */
export interface NewClarification {
  id: string;
  pipelineId: string;
  stageKey: string | null;
  questions: ClarificationQuestion[];
  askedBy: string;
}

export interface ClarificationListQuery {
  status?: ClarificationView['status'];
  pipelineId?: string;
  limit: number;
  cursor?: { createdAt: Date; id: string };
}

export type ClarificationAnswerResult =
  | { kind: 'not_found' }
  | { kind: 'closed'; status: string }
  | {
      kind: 'answered';
      clarification: ClarificationView;
      /** The stage to run again with the answers (asked by a stage). */
      released: DispatchedStage | null;
      /** Asked at submission: the roots are pending again, for the conductor to start. */
      rootsReleased: boolean;
    };

/** What answering did, before the clarification is read back. */
export type ClarificationAnswered = Omit<Extract<ClarificationAnswerResult, { kind: 'answered' }>, 'clarification'>;

export interface ClarificationRepository {
  list(query: ClarificationListQuery): Promise<ClarificationView[]>;
  get(id: string): Promise<ClarificationView | null>;
  /** Stores the answers and merges them into the waiting stage's (or the pipeline's) input; `audit`'s event commits with them. */
  answer(
    args: { id: string; actor: string; answers: Record<string, string>; merged: JsonValue },
    audit?: AuditOf<ClarificationAnswered>,
  ): Promise<ClarificationAnswerResult>;
}
