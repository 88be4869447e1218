// Replays of one failed job that overlap, against real Redis and Postgres: the DLQ service is
// built on the real dead letters and replay repository, with each job retry held until the test
// releases it, so the interleavings are chosen rather than raced. Whatever the order, the
// failure is recorded once (one `dlq.replayed` pipeline event, one audit row) and the stage runs
// once; a replay that found the job moved by another answers 409 DLQ_JOB_NOT_FAILED.
import { expect } from 'chai';
import { createAgentQueues, type AgentQueuesHandle } from '../../src/infra/queue/agent.queues.js';
import { createDeadLetters } from '../../src/infra/queue/dead-letters.js';
import { createReplayRepository } from '../../src/infra/db/replay.repository.js';
import { createAuditRepository } from '../../src/infra/db/audit.repository.js';
import { createLogger } from '../../src/infra/telemetry/logger.js';
import { terminalActor } from '../../src/services/api-key.service.js';
import { createDlqService, type DlqService } from '../../src/services/dlq.service.js';
import type { DeadLetter, DeadLetterQueue } from '../../src/services/dlq.ports.js';
import { AppError } from '../../src/domain/errors.js';
import { startHarness, type Harness } from '../support/harness.js';
import { submitFailedOnce, waitForPipeline } from '../support/http.js';

interface HeldRetry {
  /** Lets the held retry go on to Redis (or fail with `error`). */
  release(error?: Error): void;
}

describe('DLQ: overlapping replays of one failed job (integration)', () => {
  let h: Harness;
  let queues: AgentQueuesHandle;
  let service: DlqService;
  /** Job retries waiting for the test, in the order they arrived; `arrived` wakes a waiting test. */
  const held: HeldRetry[] = [];
  let arrived: () => void = () => undefined;
  const ops = terminalActor('ops');

  /** Resolves once `n` job retries are held. */
  const heldCount = (n: number) =>
    new Promise<void>((resolve) => {
      const check = () => (held.length >= n ? resolve() : (arrived = check));
      check();
    });

  before(async () => {
    h = await startHarness({ workers: 1 });
    queues = createAgentQueues(h.connection(), h.config.QUEUE_PREFIX, ['fail']);
    const dead = createDeadLetters({ queues: new Map([['fail', queues.queueFor('fail')]]) });
    const holding: DeadLetterQueue = {
      ...dead,
      retry: (job: DeadLetter) =>
        new Promise((resolve, reject) => {
          held.push({ release: (error) => (error ? reject(error) : resolve(dead.retry(job))) });
          arrived();
        }),
    };
    service = createDlqService({
      dlq: holding,
      replays: createReplayRepository(h.db),
      agentQueues: queues,
      audit: createAuditRepository(h.db),
      logger: createLogger({ level: 'error', service: 'test', silent: true }),
    });
  });
  beforeEach(() => {
    held.length = 0;
  });
  after(async () => {
    await queues.close();
    await h.close();
  });

  /** A pipeline whose one stage failed for good on attempt 1 and succeeds on attempt 2. */
  const failedOnce = (name: string) => submitFailedOnce(h.baseUrl, name);
  /** The records of a job's replays: pipeline events and audit rows, and the stage's runs. */
  const recordsOf = async (pipelineId: string, jobId: string) => {
    const events = await h.db.pool.query("SELECT 1 FROM pipeline_events WHERE pipeline_id = $1 AND type = 'dlq.replayed'", [pipelineId]);
    const audits = await h.db.pool.query("SELECT 1 FROM audit_events WHERE action = 'dlq.replayed' AND target_id = $1", [jobId]);
    const runs = await h.db.pool.query('SELECT status FROM stage_runs WHERE stage_id = $1 ORDER BY attempt', [jobId]);
    return { events: events.rowCount, audits: audits.rowCount, runs: runs.rows.map((r: { status: string }) => r.status) };
  };
  const codeOf = (outcome: PromiseSettledResult<unknown>) =>
    outcome.status === 'rejected' && outcome.reason instanceof AppError ? outcome.reason.code : outcome.status;

  it('second replay moves the job while the first waits to: the failure is recorded once, by the first, and runs once', async () => {
    const { pipelineId, jobId } = await failedOnce('dlq-overlap-second-moves');

    const first = service.replay(jobId, ops);
    await heldCount(1); // the first committed its reopen and waits to retry the job
    const second = service.replay(jobId, ops);
    await heldCount(2);
    held[1]!.release();
    const secondReceipt = await second;
    held[0]!.release();
    const firstReceipt = await first;

    expect(firstReceipt).to.include({ mode: 'reopened' });
    expect(secondReceipt).to.include({ mode: 'resumed' });
    expect((await waitForPipeline(h.baseUrl, pipelineId)).status).to.equal('succeeded');
    expect(await recordsOf(pipelineId, jobId)).to.deep.equal({ events: 1, audits: 1, runs: ['failed', 'succeeded'] });
  });

  it('first replay moves the job before the second: the second answers 409 DLQ_JOB_NOT_FAILED and records nothing', async () => {
    const { pipelineId, jobId } = await failedOnce('dlq-overlap-first-moves');

    const first = service.replay(jobId, ops);
    await heldCount(1);
    const second = service.replay(jobId, ops);
    await heldCount(2);
    held[0]!.release();
    await first;
    held[1]!.release();
    const [outcome] = await Promise.allSettled([second]);

    expect(codeOf(outcome!)).to.equal('DLQ_JOB_NOT_FAILED');
    expect((await waitForPipeline(h.baseUrl, pipelineId)).status).to.equal('succeeded');
    expect(await recordsOf(pipelineId, jobId)).to.deep.equal({ events: 1, audits: 1, runs: ['failed', 'succeeded'] });
  });

  it('a repeat after DLQ_REPLAY_INCOMPLETE retries the job without recording the replay a second time', async () => {
    const { pipelineId, jobId } = await failedOnce('dlq-overlap-repeat');

    const incomplete = service.replay(jobId, ops);
    await heldCount(1);
    held[0]!.release(new Error('Connection is closed.'));
    const [outcome] = await Promise.allSettled([incomplete]);
    expect(codeOf(outcome!)).to.equal('DLQ_REPLAY_INCOMPLETE');
    const repeat = service.replay(jobId, ops);
    await heldCount(2);
    held[1]!.release();

    expect(await repeat).to.include({ mode: 'resumed' });
    expect((await waitForPipeline(h.baseUrl, pipelineId)).status).to.equal('succeeded');
    expect(await recordsOf(pipelineId, jobId)).to.deep.equal({ events: 1, audits: 1, runs: ['failed', 'succeeded'] });
  });
});
