// The ports of the decision use cases: decisions as they are read, answered and expired.
// infra/db implements them (decision.repository.ts).
import type { AnswerRefusal, DecisionToAnswer } from '../domain/approval-rules.js';
import type { DecisionCategory } from '../domain/decision-policy.js';
import type { JsonObject } from '../domain/json.js';
import type { DecisionStatus } from '../domain/status.js';
import type { AuditOf } from './identity.ports.js';
import type { DispatchedStage } from './queue.ports.js';

export interface DecisionSummary {
  id: string;
  pipelineId: string;
  stageKey: string;
  category: DecisionCategory;
  status: DecisionStatus;
  confidence: number;
  deadlineAt: Date;
  createdAt: Date;
  resolvedAt: Date | null;
}

export interface DecisionVoteView {
  actor: string;
  verdict: 'approve' | 'reject';
  comment: string | null;
  at: Date;
}

export interface DecisionView extends DecisionSummary {
  stageId: string;
  threshold: number;
  policyVersion: string;
  quorum: number;
  /** Who may decide: roles or names from the policy (the escalation's once escalated). */
  approvers: string[];
  /** The identity that submitted the pipeline (separation of duties). */
  submitter: string;
  onDeadline: 'reject' | 'escalate';
  evidence: JsonObject;
  votes: DecisionVoteView[];
  resolvedBy: string | null;
  comment: string | null;
  updatedAt: Date;
}

export interface DecisionListQuery {
  status?: DecisionStatus;
  category?: string;
  pipelineId?: string;
  limit: number;
  cursor?: { createdAt: Date; id: string };
}

export type DecisionAnswerResult =
  | { kind: 'not_found' }
  | { kind: 'closed'; status: string }
  | { kind: 'already_voted' }
  | { kind: 'refused'; refusal: AnswerRefusal }
  | {
      kind: 'recorded';
      decision: DecisionView;
      /** Null while a quorum still waits for more approvals. */
      resolved: 'approved' | 'rejected' | null;
      /** The stage an approval queued: its job to add. */
      released: DispatchedStage | null;
      pipelineId: string;
    };

export type DeadlineResult =
  | { kind: 'closed' }
  | { kind: 'not_yet'; deadlineAt: Date }
  | { kind: 'escalated'; deadlineAt: Date; pipelineId: string }
  | { kind: 'expired'; pipelineId: string };

/** One identity's answer to a decision. */
export interface DecisionVote {
  id: string;
  actor: string;
  verdict: 'approve' | 'reject';
  comment: string | null;
  /**
   * Whether this identity may answer the decision as the vote's transaction locked it (its
   * approvers after an escalation, its category, its pipeline's submitter); a refusal records
   * nothing. Absent: anyone may.
   */
  refuse?: (decision: DecisionToAnswer) => AnswerRefusal | null;
}

/** What a recorded vote did: the resolution it brought (null: the quorum still waits), and its pipeline. */
export interface RecordedVote {
  resolved: 'approved' | 'rejected' | null;
  pipelineId: string;
  category: DecisionCategory;
}

export interface DecisionRepository {
  list(query: DecisionListQuery): Promise<DecisionSummary[]>;
  get(id: string): Promise<DecisionView | null>;
  /** Records a vote; `audit`'s event (for a recorded vote) commits with it. */
  answer(args: DecisionVote, audit?: AuditOf<RecordedVote>): Promise<DecisionAnswerResult>;
  /** The deadline passed: escalate (pending with onDeadline escalate) or expire and fail the stage. */
  applyDeadline(args: { id: string; escalation: { approvers: string[]; deadlineMs: number } }): Promise<DeadlineResult>;
}
