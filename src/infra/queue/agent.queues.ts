// Producers for the agent queues: one job per dispatched stage, whose id is the stage id, so
// dispatching the same stage twice adds one job. Failed jobs are kept by the failed-job retention:
// they are the DLQ (retention.ts, docs/retention.md).
import { Queue } from 'bullmq';
import type { RedisClient } from './redis-connection.js';
import type { AgentQueues, DispatchedStage } from '../../services/queue.ports.js';
import { backoffOption } from './backoff.js';
import type { StageJob } from './job-payloads.js';
import { agentQueueName, STAGE_JOB } from './queue-names.js';
import { bullmqTelemetryWhenExported } from '../telemetry/bullmq-telemetry.js';
import { activeTraceparent } from '../telemetry/traceparent.js';
import { FIRST_CONTRACT_VERSION } from '../../domain/stage-envelope.js';
import { jobPriority } from '../../domain/pipeline-priority.js';
import { DEFAULT_QUEUE_RETENTION, retentionQueueOptions, type QueueRetention } from './retention.js';

export interface AgentQueuesHandle extends AgentQueues {
  queueFor(agentType: string): Queue<StageJob>;
  all(): Queue<StageJob>[];
  close(): Promise<void>;
}

/**
 * `retention`: how long finished jobs stay (the Retention variables); `failFast` runs before each
 * dispatch (the API passes assertRedisReady; workers wait instead).
 */
export function createAgentQueues(
  connection: RedisClient,
  prefix: string,
  agentTypes: readonly string[],
  retention: QueueRetention = DEFAULT_QUEUE_RETENTION,
  failFast: () => void = () => undefined,
): AgentQueuesHandle {
  // The keep rules are the queue's default job options: every add through it carries them.
  const queues = new Map<string, Queue<StageJob>>(
    agentTypes.map((type) => [
      type,
      new Queue<StageJob>(agentQueueName(type), {
        connection,
        prefix,
        telemetry: bullmqTelemetryWhenExported(),
        ...retentionQueueOptions(retention),
      }),
    ]),
  );
  // BullMQ prints errors of a Queue nobody listens to; the connection's own listener already
  // logs them (throttled, see redis-connection.ts).
  for (const queue of queues.values()) queue.on('error', () => undefined);
  const queueFor = (type: string) => {
    const queue = queues.get(type);
    if (!queue) throw new Error(`no queue for agent type "${type}"`);
    return queue;
  };

  /**
   * One add per agent queue: `add` for a single stage (the common case: a root, a released
   * dependant), `addBulk` for more. addBulk goes through an ioredis pipeline, whose constructor
   * copies every Lua script BullMQ defines onto it (3.6% of the API's CPU in bench --only http);
   * `add` sends its one script call directly. The job id is the stage id unless the stage names one.
   */
  async function add(pipelineId: string, stages: readonly DispatchedStage[], meta?: { requestId?: string }) {
    const byAgent = new Map<string, DispatchedStage[]>();
    const traceparent = activeTraceparent();
    // A queue without the adapter (spans not exported here) writes the job's trace metadata as
    // the adapter would, so a worker that exports spans still continues the producer's trace.
    const carried = traceparent ? { metadata: JSON.stringify({ traceparent }) } : undefined;
    for (const stage of stages) {
      const group = byAgent.get(stage.agent);
      if (group) group.push(stage);
      else byAgent.set(stage.agent, [stage]);
    }
    const jobOf = (stage: DispatchedStage, queue: Queue<StageJob>) => ({
      name: STAGE_JOB,
      // The envelope's header only (domain/stage-envelope.ts): the claim reads the rest.
      data: {
        v: 2 as const,
        // Absent when the statement that queued it did not read it: the claim reads it then.
        contractVersion: stage.contractVersion ?? FIRST_CONTRACT_VERSION,
        pipelineId,
        stageId: stage.id,
        stageKey: stage.key,
        ...(traceparent ? { traceparent } : {}),
        ...(meta?.requestId ? { correlationId: meta.requestId } : {}),
      },
      opts: {
        jobId: stage.jobId ?? stage.id,
        // Never 0: BullMQ takes jobs without a priority before every prioritized one.
        priority: jobPriority(stage.priority),
        attempts: stage.retry.attempts,
        backoff: backoffOption(stage.retry.backoff),
        ...(carried && !queue.opts.telemetry ? { telemetry: carried } : {}),
      },
    });
    await Promise.all(
      [...byAgent].map(async ([agent, group]) => {
        const queue = queueFor(agent);
        if (group.length === 1) {
          const { name, data, opts } = jobOf(group[0]!, queue);
          await queue.add(name, data, opts);
        } else await queue.addBulk(group.map((stage) => jobOf(stage, queue)));
      }),
    );
  }

  return {
    queueFor,
    all: () => [...queues.values()],
    async dispatch(pipelineId, stages, meta) {
      failFast();
      await add(pipelineId, stages, meta);
    },
    async reprioritize(jobs, priority) {
      failFast();
      let changed = 0;
      for (const { agent, jobId } of jobs) {
        const queue = queues.get(agent);
        const job = queue ? await queue.getJob(jobId) : undefined;
        // A waiting job moves in its queue; a delayed or running one keeps the number for its
        // next try (BullMQ reads it then). A finished one is left alone.
        if (!job || job.finishedOn) continue;
        await job.changePriority({ priority: jobPriority(priority) });
        changed++;
      }
      return changed;
    },
    async workersOnline(agentType) {
      return queues.has(agentType) ? queueFor(agentType).getWorkersCount() : 0;
    },
    async close() {
      await Promise.all([...queues.values()].map((q) => q.close()));
    },
  };
}
