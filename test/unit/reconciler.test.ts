// The reconciler service over fake ports: bounded pages with a cursor that wraps, the
// re-check in Postgres before a repair, and what each job state leads to.
import { expect } from 'chai';
import type { AgentQueues, ControlQueue, DispatchedStage } from '../../src/services/queue.ports.js';
import type {
  JobPresence,
  ReconcileCursor,
  ReconcileJobRef,
  ReconcileQueues,
  ReconcileRepository,
  StageToReconcile,
} from '../../src/services/reconcile.ports.js';
import { createReconciler } from '../../src/services/reconciler.service.js';
import { reapplyAgentPauses } from '../../src/services/agent-pause.service.js';

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const retry = { attempts: 1, backoff: { type: 'fixed' as const, delayMs: 0, jitter: 0 } } as DispatchedStage['retry'];

function stage(n: number, over: Partial<StageToReconcile> = {}): StageToReconcile & { cursor: ReconcileCursor } {
  const id = `s${String(n).padStart(3, '0')}`;
  return {
    id,
    key: id,
    agent: 'noop',
    retry,
    pipelineId: 'p1',
    status: 'queued',
    jobId: id,
    currentRunId: null,
    priority: 'normal',
    cursor: { at: String(n).padStart(3, '0'), id },
    ...over,
  };
}

function fakes(stages: (StageToReconcile & { cursor: ReconcileCursor })[], presence: (ref: ReconcileJobRef) => JobPresence) {
  const reads: (string | null)[] = [];
  const dispatched: string[] = [];
  const calls: string[] = [];
  let moved = new Set<string>();
  const repo: ReconcileRepository = {
    async stagesToCheck({ after, limit }) {
      reads.push(after?.id ?? null);
      return stages.filter((s) => !after || s.cursor.at > after.at).slice(0, limit);
    },
    async unchanged(list) {
      return new Set(list.map((s) => s.id).filter((id) => !moved.has(id)));
    },
    async failDeadLettered(s, error) {
      if (moved.has(s.id)) return false;
      calls.push(`fail ${s.id} ${error.code}`);
      return true;
    },
    async pipelinesToAdvance() {
      return [];
    },
    async openDecisions() {
      return [];
    },
    async pipelineDeadlines() {
      return [];
    },
  };
  const queues: ReconcileQueues = {
    async presence(refs) {
      return refs.map(presence);
    },
    async retry(ref) {
      calls.push(`retry ${ref.kind === 'stage' ? ref.jobId : ref.decisionId}`);
      return true;
    },
    async remove(ref) {
      calls.push(`remove ${ref.kind === 'stage' ? ref.jobId : ref.decisionId}`);
      return true;
    },
  };
  const agentQueues: AgentQueues = {
    async dispatch(_pipelineId, list) {
      dispatched.push(...list.map((s) => s.jobId ?? s.id));
    },
    async reprioritize() {
      return 0;
    },
    async workersOnline() {
      return 0;
    },
  };
  const control: ControlQueue = {
    async requestAdvance(pipelineId) {
      calls.push(`advance ${pipelineId}`);
    },
    async scheduleDeadline() {},
    async schedulePipelineDeadline() {},
  };
  return { repo, queues, agentQueues, control, reads, dispatched, calls, moveOn: (ids: string[]) => (moved = new Set(ids)) };
}

describe('reconciler service (unit)', () => {
  it('reads at most maxBatches pages per pass, continues from its cursor next pass, and wraps to the start', async () => {
    const f = fakes(
      Array.from({ length: 25 }, (_, n) => stage(n)),
      () => 'live',
    );
    const reconciler = createReconciler({ ...f, logger: silent, lockDurationMs: 1000, batchSize: 10, maxBatches: 2 });

    expect((await reconciler.reconcileNow()).stagesChecked).to.equal(20);
    expect(f.reads).to.deep.equal([null, 's009']);
    // Rows 20–24 (short page: the end), then from the start again.
    expect((await reconciler.reconcileNow()).stagesChecked).to.equal(15);
    expect(f.reads.slice(2)).to.deep.equal(['s019', null]);
  });

  it('repairs by state: missing re-added, completed removed then re-added, failed retried; a stage that moved on is left alone', async () => {
    const states: Record<string, JobPresence> = {
      s000: 'missing',
      s001: 'completed',
      s002: 'failed',
      s003: 'orphaned',
      s004: 'missing',
      s005: 'live',
    };
    const f = fakes(
      Object.keys(states).map((_, n) => stage(n)),
      (ref) => states[(ref as { jobId: string }).jobId]!,
    );
    f.moveOn(['s004']);
    const report = await createReconciler({ ...f, logger: silent, lockDurationMs: 1000 }).reconcileNow();

    expect(f.dispatched.sort()).to.deep.equal(['s000', 's001', 's003']);
    expect(f.calls.sort()).to.deep.equal(['remove s001', 'remove s003', 'retry s002']);
    expect(report).to.include({ queuedReadded: 1, queuedReplaced: 2, queuedRetried: 1, runningReadded: 0 });
  });

  it('a running stage (its worker no longer stamps it: the repository read says so): re-added under its own job id when its job is gone, left while its job is live, recorded failed when BullMQ dead-lettered its job', async () => {
    const f = fakes(
      [
        stage(0, { status: 'running', jobId: 's000-clar', currentRunId: 'r0' }),
        stage(1, { status: 'running', currentRunId: 'r1' }),
        stage(2, { status: 'running', currentRunId: 'r2' }),
      ],
      (ref) => {
        const jobId = (ref as { jobId: string }).jobId;
        return jobId === 's002' ? 'failed' : jobId === 's001' ? 'live' : 'missing';
      },
    );
    const report = await createReconciler({ ...f, logger: silent, lockDurationMs: 1000 }).reconcileNow();

    expect(f.dispatched).to.deep.equal(['s000-clar']);
    expect(f.calls).to.deep.equal(['fail s002 STALLED_TOO_OFTEN', 'advance p1']);
    expect(report).to.include({ runningReadded: 1, runningJobFailed: 1 });
  });

  it('a dead-lettered running stage that moved on meanwhile (a replay took it over) is neither failed nor advanced', async () => {
    const f = fakes([stage(0, { status: 'running', currentRunId: 'r0' })], () => 'failed');
    f.moveOn(['s000']);
    const report = await createReconciler({ ...f, logger: silent, lockDurationMs: 1000 }).reconcileNow();

    expect(f.calls).to.deep.equal([]);
    expect(report).to.include({ runningJobFailed: 0, errors: 0 });
  });

  it('agent pauses: re-applied first, counted; a failure to re-apply is counted as an error and the pass goes on', async () => {
    const f = fakes([stage(0)], () => 'missing');
    const order: string[] = [];
    const reapplied = await createReconciler({
      ...f,
      logger: silent,
      lockDurationMs: 1000,
      agentPauses: {
        reapply: async () => {
          order.push(`reapply (dispatched so far: ${f.dispatched.length})`);
          return ['sim_deployment'];
        },
      },
    }).reconcileNow();
    expect(order).to.deep.equal(['reapply (dispatched so far: 0)']);
    expect(reapplied).to.include({ agentPausesReapplied: 1, queuedReadded: 1, errors: 0 });

    const failing = await createReconciler({
      ...fakes([stage(0)], () => 'missing'),
      logger: silent,
      lockDurationMs: 1000,
      agentPauses: { reapply: () => Promise.reject(new Error('redis down')) },
    }).reconcileNow();
    expect(failing).to.include({ agentPausesReapplied: 0, queuedReadded: 1, errors: 1 });
  });
});

describe('reapplyAgentPauses', () => {
  it('pauses again the recorded types whose queue is not paused; leaves paused ones and types the catalogue no longer knows', async () => {
    const paused = new Set(['b']);
    const calls: string[] = [];
    const record = (agentType: string) => ({ agentType, pausedAt: new Date(0), pausedBy: 'ops', reason: null });
    const repaired = await reapplyAgentPauses({
      store: {
        list: async () => [record('a'), record('b'), record('gone')],
        record: () => Promise.reject(new Error('not used')),
        clear: () => Promise.reject(new Error('not used')),
      },
      queues: {
        isPaused: async (type) => paused.has(type),
        pause: async (type) => void calls.push(`pause ${type}`),
        resume: () => Promise.reject(new Error('not used')),
      },
      types: ['a', 'b', 'c'],
    });
    expect(repaired).to.deep.equal(['a']);
    expect(calls).to.deep.equal(['pause a']);
  });
});
