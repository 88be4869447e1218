// Unit tests for the stage lifecycle table (src/domain/stage-lifecycle.ts), its SQL rendering
// (src/infra/db/lifecycle-sql.ts) and the one status module (src/domain/status.ts).
import { expect } from 'chai';
import * as $Enums from '../../src/generated/prisma/enums.js';
import {
  autoApproved,
  fromStatuses,
  initialStageStatus,
  STAGE_EVENTS,
  STAGE_TRANSITIONS,
  transition,
} from '../../src/domain/stage-lifecycle.js';
import { PIPELINE_STATUSES, RUN_STATUSES, STAGE_STATUSES, TERMINAL_STAGE_STATUSES } from '../../src/domain/status.js';
import { expandLifecycle, statusGuard, unfinishedStageGuard } from '../../src/infra/db/lifecycle-sql.js';

describe('stage lifecycle', () => {
  it('the status lists are the database enums, in order', () => {
    expect([...STAGE_STATUSES]).to.deep.equal(Object.values($Enums.StageStatus));
    expect([...PIPELINE_STATUSES]).to.deep.equal(Object.values($Enums.PipelineStatus));
    expect([...RUN_STATUSES]).to.deep.equal(Object.values($Enums.RunStatus));
  });

  it('every status × event pair: allowed exactly from the row’s from-statuses, to its target', () => {
    for (const event of STAGE_EVENTS) {
      for (const status of STAGE_STATUSES) {
        const result = transition(status, event);
        if (STAGE_TRANSITIONS[event].from.includes(status))
          expect(result, `${status} ${event}`).to.deep.equal({ ok: true, to: STAGE_TRANSITIONS[event].to });
        else expect(result.ok, `${status} ${event}`).to.equal(false);
      }
    }
  });

  it('a terminal stage moves only through a DLQ replay or restore', () => {
    for (const status of TERMINAL_STAGE_STATUSES) {
      const allowed = STAGE_EVENTS.filter((e) => transition(status, e).ok);
      expect(
        allowed.every((e) => e === 'replay' || e === 'restore'),
        `${status}: ${allowed.join(', ')}`,
      ).to.equal(true);
    }
  });

  it('pause and resume: only a queued stage is paused, only a paused one resumed, and a paused one can be cancelled', () => {
    expect(STAGE_EVENTS.filter((e) => transition('paused', e).ok)).to.deep.equal(['cancel', 'resume']);
    expect(transition('queued', 'pause')).to.deep.equal({ ok: true, to: 'paused' });
    expect(transition('paused', 'resume')).to.deep.equal({ ok: true, to: 'queued' });
    expect(transition('paused', 'cancel')).to.deep.equal({ ok: true, to: 'cancelled' });
    // Running stages finish; pending ones are held when released (their claim), not before.
    expect(transition('running', 'pause').ok).to.equal(false);
    expect(transition('pending', 'pause').ok).to.equal(false);
    expect(transition('waiting', 'pause').ok).to.equal(false);
    expect(transition('queued', 'resume').ok).to.equal(false);
  });

  it('refusals say why', () => {
    const refused = transition('running', 'release');
    expect(refused).to.deep.equal({ ok: false, reason: 'a running stage cannot release (only from pending)' });
  });

  it('fromStatuses: the union, in the order of the status list', () => {
    expect(fromStatuses('cancel')).to.deep.equal(['pending', 'queued', 'waiting', 'paused']);
    expect(fromStatuses('claim', 'reclaim')).to.deep.equal(['queued', 'running']);
  });

  it('autoApproved: approved, or confidence (100 if none) at or above a threshold', () => {
    expect(autoApproved({ approved: true, autoApproveAt: null, confidence: 0 })).to.equal(true);
    expect(autoApproved({ approved: false, autoApproveAt: null, confidence: 100 })).to.equal(false);
    expect(autoApproved({ approved: false, autoApproveAt: 80, confidence: 80 })).to.equal(true);
    expect(autoApproved({ approved: false, autoApproveAt: 80, confidence: 79.9 })).to.equal(false);
    expect(autoApproved({ approved: false, autoApproveAt: 80, confidence: null })).to.equal(true);
  });

  it('initialStageStatus: roots queued when admitted and auto-approved, waiting behind a clarification', () => {
    const root = { root: true, autoApproveAt: 80, confidence: 90 };
    expect(initialStageStatus(root, { clarifying: false, admitted: true })).to.equal('queued');
    expect(initialStageStatus(root, { clarifying: false, admitted: false })).to.equal('pending');
    expect(initialStageStatus(root, { clarifying: true, admitted: true })).to.equal('waiting');
    expect(initialStageStatus({ ...root, confidence: 10 }, { clarifying: false, admitted: true })).to.equal('pending');
    expect(initialStageStatus({ ...root, root: false }, { clarifying: true, admitted: true })).to.equal('pending');
  });

  it('SQL: guards and targets come from the table; an unknown event or placeholder fails at load', () => {
    expect(statusGuard('d.status', 'cancel')).to.equal("d.status IN ('pending', 'queued', 'waiting', 'paused')");
    expect(unfinishedStageGuard('s.status')).to.equal("s.status IN ('pending', 'queued', 'running', 'waiting', 'paused')");
    expect(expandLifecycle('SET status = @to(claim) WHERE @from(status; claim)', 'x.sql')).to.equal(
      `SET status = 'running'::"StageStatus" WHERE status IN ('queued')`,
    );
    expect(expandLifecycle('WHERE NOT @terminalPipeline(p.status)', 'x.sql')).to.equal(
      "WHERE NOT p.status IN ('succeeded', 'failed', 'cancelled')",
    );
    expect(() => expandLifecycle('@from(status; launch)', 'x.sql')).to.throw('unknown lifecycle event "launch"');
    expect(() => expandLifecycle('@form(status; claim)', 'x.sql')).to.throw('unknown placeholder @form(');
  });
});
