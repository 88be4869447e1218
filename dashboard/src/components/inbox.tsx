// What waits for a person: pending decisions with their evidence (approve, or reject with a
// comment) and open clarifications (an answer per question). Kept live by the event stream.
import { useEffect, useState } from 'preact/hooks';
import { OPEN_DECISION_STATUSES, type DecisionStatus } from '../../../src/domain/status.js';
import { messageOf, query } from '../api.js';
import { formatTime, pretty } from '../format.js';
import { useLiveRefresh, LIST_PAGE_MAX, usePagedList, useResource } from '../hooks.js';
import { hrefOf, onLinkClick } from '../router.js';
import type { StreamEvent } from '../sse.js';
import {
  clarificationSchema,
  decisionSchema,
  decisionSummarySchema,
  pageOf,
  type Clarification,
  type DecisionSummary,
} from '../schemas.js';
import { useSession } from '../session-context.js';
import { LiveIndicator } from './live-indicator.js';
import { StatusBadge } from './status-badge.js';
import { Alert } from './alert.js';
import { LoadMore } from './load-more.js';

/**
 * One pending decision. `round` grows when something happened to this decision (an answer given
 * here, an event naming it) or possibly to any (a reconnect): the card then reads its votes
 * again, so a vote that leaves the decision pending (a quorum of two) shows up instead of leaving
 * the card as it was. Only then: with hundreds of cards, every event re-reading each one was
 * hundreds of requests against the key's rate limit.
 */
function DecisionCard({ summary, round, onAnswered }: { summary: DecisionSummary; round: number; onAnswered(id: string): void }) {
  const { api, can } = useSession();
  const detail = useResource(() => api.get(`/api/v1/decisions/${encodeURIComponent(summary.id)}`, decisionSchema), [summary.id, round]);
  const [comment, setComment] = useState('');
  const [state, setState] = useState<{ busy: boolean; error?: string; message?: string }>({ busy: false });
  const idBase = `decision-${summary.id}`;
  const answer = async (verdict: 'approve' | 'reject') => {
    if (verdict === 'reject' && !comment.trim()) {
      setState({ busy: false, error: 'Say why: a comment is required to reject.' });
      return;
    }
    setState({ busy: true });
    try {
      await api.post(`/api/v1/decisions/${encodeURIComponent(summary.id)}/${verdict}`, comment.trim() ? { comment: comment.trim() } : {});
      setComment('');
      setState({ busy: false, message: `Your ${verdict === 'approve' ? 'approval' : 'rejection'} is recorded.` });
      onAnswered(summary.id);
    } catch (error) {
      setState({ busy: false, error: messageOf(error) });
    }
  };
  const d = detail.data;
  return (
    <article class="card" aria-labelledby={`${idBase}-title`} data-decision={summary.id} data-pipeline={summary.pipelineId}>
      <h3 id={`${idBase}-title`}>
        Decision {summary.id}: {summary.stageKey} ({summary.category})
      </h3>
      <p>
        <StatusBadge status={summary.status} /> · confidence {summary.confidence.toFixed(2)} · deadline {formatTime(summary.deadlineAt)} ·{' '}
        <a href={hrefOf({ page: 'pipeline', id: summary.pipelineId })} onClick={onLinkClick}>
          pipeline
        </a>
      </p>
      {detail.error && <p class="error">{detail.error}</p>}
      {d && (
        <>
          <p>
            Approvers: {d.approvers.join(', ') || '—'} · quorum {d.quorum} · submitted by <bdi>{d.submitter}</bdi>
            {d.votes.length > 0 && ` · votes: ${d.votes.map((v) => `${v.actor} ${v.verdict}`).join(', ')}`}
          </p>
          <details>
            <summary>Evidence</summary>
            <pre class="output">{pretty(d.evidence)}</pre>
          </details>
        </>
      )}
      {can('decide') ? (
        <form onSubmit={(e) => e.preventDefault()}>
          <label for={`${idBase}-comment`}>Comment (required to reject)</label>
          <textarea id={`${idBase}-comment`} rows={2} value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
          <div class="actions">
            <button type="button" disabled={state.busy} onClick={() => answer('approve')}>
              Approve
            </button>
            <button type="button" class="danger" disabled={state.busy} onClick={() => answer('reject')}>
              Reject
            </button>
          </div>
          {state.message && <p role="status">{state.message}</p>}
          <Alert message={state.error} />
        </form>
      ) : (
        <p class="help">Your roles cannot answer decisions (the approver role can).</p>
      )}
    </article>
  );
}

function ClarificationCard({ clarification, onAnswered }: { clarification: Clarification; onAnswered(): void }) {
  const { api, can } = useSession();
  const [answers, setAnswers] = useState<Record<string, string>>({});
  const [state, setState] = useState<{ busy: boolean; error?: string }>({ busy: false });
  const idBase = `clarification-${clarification.id}`;
  const submit = async (event: Event) => {
    event.preventDefault();
    setState({ busy: true });
    try {
      await api.post(`/api/v1/clarifications/${clarification.id}/answer`, { answers });
      setState({ busy: false });
      onAnswered();
    } catch (error) {
      setState({ busy: false, error: messageOf(error) });
    }
  };
  return (
    <article class="card" aria-labelledby={`${idBase}-title`}>
      <h3 id={`${idBase}-title`}>
        Questions {clarification.stageKey ? `from stage ${clarification.stageKey}` : 'at submission'} (asked by {clarification.askedBy})
      </h3>
      <p>
        <a href={hrefOf({ page: 'pipeline', id: clarification.pipelineId })} onClick={onLinkClick}>
          pipeline
        </a>{' '}
        · {formatTime(clarification.createdAt)}
      </p>
      {can('decide') ? (
        <form onSubmit={submit}>
          {clarification.questions.map((q) => (
            <div class="field" key={q.id}>
              <label for={`${idBase}-${q.id}`}>{q.question}</label>
              <input
                id={`${idBase}-${q.id}`}
                required
                value={answers[q.id] ?? ''}
                onInput={(e) => setAnswers({ ...answers, [q.id]: e.currentTarget.value })}
              />
            </div>
          ))}
          <button type="submit" disabled={state.busy}>
            Answer
          </button>
          <Alert message={state.error} />
        </form>
      ) : (
        <ul>
          {clarification.questions.map((q) => (
            <li key={q.id}>{q.question}</li>
          ))}
        </ul>
      )}
    </article>
  );
}

/** The decisions the events name (`data.decisionId` of decision.* events). */
function decisionIdsOf(events: readonly StreamEvent[]): string[] {
  return events.flatMap((e) => {
    const data = (e as { data?: unknown }).data;
    const id = data !== null && typeof data === 'object' ? (data as { decisionId?: unknown }).decisionId : undefined;
    return typeof id === 'string' ? [id] : [];
  });
}

/**
 * The open decisions of one status, newest first, a page at a time. Each open status has its
 * list: an escalated decision (a confidence under the policy's floor, for its escalation
 * approvers) is as much waiting for a person as a pending one.
 */
function DecisionList({
  status,
  round,
  cardRound,
  onAnswered,
}: {
  status: DecisionStatus;
  round: number;
  cardRound(id: string): number;
  onAnswered(id: string): void;
}) {
  const { api } = useSession();
  // 100 a page (the API's most): a busy installation has more, read with Load more.
  const decisions = usePagedList(
    (cursor) => api.get(`/api/v1/decisions${query({ status, limit: LIST_PAGE_MAX, cursor })}`, pageOf(decisionSummarySchema)),
    [],
  );
  const { reload } = decisions;
  useEffect(() => {
    if (round > 0) reload();
  }, [round, reload]);
  const title = `${status[0]!.toUpperCase()}${status.slice(1)} decisions`;
  return (
    <section aria-labelledby={`${status}-decisions-title`}>
      <h2 id={`${status}-decisions-title`}>{title}</h2>
      <Alert message={decisions.error} />
      {decisions.items?.length === 0 && <p>No {status} decision waits.</p>}
      {decisions.items?.map((d) => (
        <DecisionCard key={d.id} summary={d} round={cardRound(d.id)} onAnswered={onAnswered} />
      ))}
      <LoadMore list={decisions} noun={`${status} decisions`} id={`${status}-decisions-more`} />
    </section>
  );
}

export function Inbox() {
  const { api } = useSession();
  const questions = usePagedList(
    (cursor) => api.get(`/api/v1/clarifications${query({ status: 'open', limit: LIST_PAGE_MAX, cursor })}`, pageOf(clarificationSchema)),
    [],
  );
  // Lists are read again on every change; a decision's card only when the change names it.
  const [round, setRound] = useState(0);
  const [cards, setCards] = useState<{ all: number; one: ReadonlyMap<string, number> }>({ all: 0, one: new Map() });
  const refresh = (decisionIds: readonly string[] | undefined) => {
    questions.reload();
    setRound((r) => r + 1);
    setCards((c) => {
      if (!decisionIds) return { all: c.all + 1, one: c.one };
      const one = new Map(c.one);
      for (const id of decisionIds) one.set(id, (one.get(id) ?? 0) + 1);
      return { all: c.all, one };
    });
  };
  const cardRound = (id: string) => cards.all + (cards.one.get(id) ?? 0);
  const live = useLiveRefresh(
    '/api/v1/events',
    api,
    (events) => refresh(events && decisionIdsOf(events)),
    (e) => e.type.startsWith('decision.') || e.type.startsWith('clarification.'),
  );
  return (
    <section aria-labelledby="inbox-title">
      <div class="title-row">
        <h1 id="inbox-title">Inbox</h1>
        <LiveIndicator state={live} />
      </div>
      {[...OPEN_DECISION_STATUSES].map((status) => (
        <DecisionList key={status} status={status} round={round} cardRound={cardRound} onAnswered={(id) => refresh([id])} />
      ))}
      <h2>Open questions</h2>
      <Alert message={questions.error} />
      {questions.items?.length === 0 && <p>No question waits.</p>}
      {questions.items?.map((c) => (
        <ClarificationCard key={c.id} clarification={c} onAnswered={() => refresh([])} />
      ))}
      <LoadMore list={questions} noun="open questions" id="questions-more" />
    </section>
  );
}
