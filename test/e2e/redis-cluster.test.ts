// The platform on a real 3-master Redis Cluster started by the test (test/support/redis-cluster.ts):
// pipelines with fan-out and fan-in, retries, an approved decision, a cancel (the cross-process
// cancel is pub/sub), a DLQ replay, SSE events, rate limits, the reconciler after every key is
// deleted, and two worker processes; then every key under the prefix is in one slot, on one master.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { startHarness, deleteKeys, type Harness } from '../support/harness.js';
import { bearer, request, waitForPipeline, waitUntil, withAuth, type Loose } from '../support/http.js';
import { spawnWorker, startEntry, waitForOutput, type WorkerProcess } from '../support/processes.js';
import { startRedisCluster, type RedisClusterHandle } from '../support/redis-cluster.js';
import { freePort } from '../support/chaos/free-port.js';
import { enforceEvictionPolicy, probeRedis } from '../../src/infra/boot/boot-checks.js';
import { BootError } from '../../src/domain/boot-error.js';

const PIPELINES = '/api/v1/pipelines';
const fastRetry = (attempts: number) => ({ attempts, backoff: { type: 'fixed', delayMs: 20, jitter: 0 } });
const stageOf = (p: Loose, key: string): Loose => (p.stages as Loose[]).find((s) => s.key === key)!;

/** Every key under `prefix` on the cluster: they must share one slot and one master. */
async function expectOneSlot(cluster: RedisClusterHandle, prefix: string): Promise<string[]> {
  const found = await cluster.keysOf(`${prefix}:*`);
  expect(found.length, 'keys under the prefix').to.be.greaterThan(0);
  expect(new Set(found.map((f) => f.node)).size, `masters holding ${prefix}`).to.equal(1);
  const client = cluster.client();
  try {
    const slots = await Promise.all(found.map((f) => client.cluster('KEYSLOT', f.key)));
    expect(new Set(slots).size, 'CLUSTER KEYSLOT of every key').to.equal(1);
  } finally {
    client.disconnect();
  }
  return found.map((f) => f.key);
}

/** Reads SSE frames from `url` until aborted; `events()` parses the data of each event frame. */
function openStream(url: string): { events(): Loose[]; close(): void; opened: Promise<number> } {
  const controller = new AbortController();
  const frames: string[] = [];
  const opened = fetch(url, { headers: withAuth(new URL(url).origin, { accept: 'text/event-stream' }), signal: controller.signal }).then(
    (res) => {
      void (async () => {
        const decoder = new TextDecoder();
        let text = '';
        try {
          for await (const chunk of res.body!) {
            text += decoder.decode(chunk, { stream: true });
            let end: number;
            while ((end = text.indexOf('\n\n')) >= 0) {
              frames.push(text.slice(0, end));
              text = text.slice(end + 2);
            }
          }
        } catch {
          // Aborted by close().
        }
      })();
      return res.status;
    },
  );
  return {
    opened,
    events: () =>
      frames.flatMap((frame) => {
        const data = /^data: ?(.*)$/m.exec(frame);
        return /^event: /m.test(frame) && data ? [JSON.parse(data[1]!) as Loose] : [];
      }),
    close: () => controller.abort(),
  };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Redis Cluster (e2e, a private 3-master cluster)', function () {
  this.timeout(120_000);
  let cluster: RedisClusterHandle;

  before(async () => {
    cluster = await startRedisCluster();
  });
  after(async () => {
    await cluster?.close();
  });

  describe('one API and one worker runtime', () => {
    let h: Harness;
    let approver: { key: string; id: string };

    before(async () => {
      h = await startHarness({ workers: 1, env: { ...cluster.env, RECONCILE_EVERY_MS: '1000' } });
      expect(h.config.REDIS_CLUSTER_NODES).to.deep.equal(cluster.nodes);
      approver = await h.createKey('cluster-approver', ['approver', 'engineering_manager']);
    });
    after(async () => {
      await h?.close();
    });

    it('fan-out and fan-in with a retried stage: every stage once, the retry on its third attempt; SSE streams the events', async () => {
      const stream = openStream(`${h.baseUrl}/api/v1/events`);
      expect(await stream.opened).to.equal(200);
      try {
        const created = await request(h.baseUrl, 'POST', PIPELINES, {
          name: 'cluster-fan',
          stages: [
            { key: 'build', agent: 'noop' },
            { key: 'a', agent: 'noop', dependsOn: ['build'] },
            { key: 'b', agent: 'fail', dependsOn: ['build'], input: { failAttempts: 2 }, retry: fastRetry(3) },
            { key: 'c', agent: 'sleep', dependsOn: ['build'], input: { ms: 50 } },
            { key: 'join', agent: 'noop', dependsOn: ['a', 'b', 'c'] },
          ],
        });
        expect(created.status, JSON.stringify(created.body)).to.equal(202);
        const done = await waitForPipeline(h.baseUrl, created.body.id);
        expect(done.status).to.equal('succeeded');
        expect(stageOf(done, 'b')).to.include({ status: 'succeeded', attempts: 3 });
        const runs = (await request(h.baseUrl, 'GET', `${PIPELINES}/${done.id}/runs`)).body.items as Loose[];
        expect(
          runs
            .filter((r) => r.status === 'succeeded')
            .map((r) => r.stageKey)
            .sort(),
        ).to.deep.equal(['a', 'b', 'build', 'c', 'join']);
        expect(runs.filter((r) => r.stageKey === 'b').map((r) => r.status)).to.deep.equal(['failed', 'failed', 'succeeded']);

        const finished = await waitFor('pipeline.finished on the stream', () =>
          stream.events().find((e) => e.pipelineId === done.id && e.type === 'pipeline.finished'),
        );
        expect(finished.data.status).to.equal('succeeded');
        const started = stream.events().filter((e) => e.pipelineId === done.id && e.type === 'stage.started');
        expect(started.map((e) => e.stageKey).filter((k) => k === 'join')).to.deep.equal(['join']);
      } finally {
        stream.close();
      }
    });

    it('a held deployment is approved and runs; a cancel aborts a running stage in the worker (pub/sub)', async () => {
      const held = await request(h.baseUrl, 'POST', PIPELINES, {
        name: 'cluster-approve',
        stages: [
          { key: 'build', agent: 'noop' },
          { key: 'deploy', agent: 'sim_deployment', dependsOn: ['build'] },
        ],
      });
      expect(held.status).to.equal(202);
      const waiting = await waitUntil(h.baseUrl, held.body.id, (p) => (p.decisions as Loose[]).some((d) => d.status === 'pending'));
      const decision = (waiting.decisions as Loose[]).find((d) => d.status === 'pending')!;
      const approved = await request(h.baseUrl, 'POST', `/api/v1/decisions/${decision.id}/approve`, {}, bearer(approver.key));
      expect(approved.status, JSON.stringify(approved.body)).to.equal(200);
      expect((await waitForPipeline(h.baseUrl, held.body.id)).status).to.equal('succeeded');

      const long = await request(h.baseUrl, 'POST', PIPELINES, {
        name: 'cluster-cancel',
        stages: [
          { key: 'long', agent: 'sleep', input: { ms: 60_000 } },
          { key: 'after', agent: 'noop', dependsOn: ['long'] },
        ],
      });
      await waitUntil(h.baseUrl, long.body.id, (p) => stageOf(p, 'long').status === 'running');
      const cancel = await request(h.baseUrl, 'POST', `${PIPELINES}/${long.body.id}/cancel`);
      expect(cancel.status, JSON.stringify(cancel.body)).to.equal(202);
      const cancelled = await waitForPipeline(h.baseUrl, long.body.id);
      expect(cancelled.status).to.equal('cancelled');
      expect(stageOf(cancelled, 'long').status).to.equal('cancelled');
      expect(stageOf(cancelled, 'after').status).to.equal('cancelled');
      // Aborted by the worker, not left to run its minute: its run is recorded.
      const runs = (await request(h.baseUrl, 'GET', `${PIPELINES}/${long.body.id}/runs`)).body.items as Loose[];
      expect(runs.map((r) => [r.stageKey, r.status])).to.deep.equal([['long', 'cancelled']]);
    });

    it('a dead-lettered stage is listed in the DLQ and replayed; the pipeline then succeeds', async () => {
      const created = await request(h.baseUrl, 'POST', PIPELINES, {
        name: 'cluster-dlq',
        stages: [
          { key: 'charge', agent: 'fail', input: { failAttempts: 2 }, retry: fastRetry(2) },
          { key: 'ship', agent: 'noop', dependsOn: ['charge'] },
        ],
      });
      const failed = await waitForPipeline(h.baseUrl, created.body.id);
      expect(failed.status).to.equal('failed');
      const charge = stageOf(failed, 'charge');
      const dlq = await request(h.baseUrl, 'GET', `/api/v1/dlq?pipelineId=${created.body.id}`);
      expect(dlq.status, JSON.stringify(dlq.body)).to.equal(200);
      expect((dlq.body.items as Loose[]).map((i) => i.jobId)).to.deep.equal([charge.id]);

      const replay = await request(h.baseUrl, 'POST', `/api/v1/dlq/${charge.id}/retry`);
      expect(replay.status, JSON.stringify(replay.body)).to.equal(202);
      expect(replay.body.restored).to.deep.equal(['ship']);
      const done = await waitForPipeline(h.baseUrl, created.body.id);
      expect(done.status).to.equal('succeeded');
      expect(stageOf(done, 'charge')).to.include({ status: 'succeeded', attempts: 3 });
    });

    it('every key of the prefix (agent queues, the control queue, breaker states) is in one slot on one master', async () => {
      const keys = await expectOneSlot(cluster, h.config.QUEUE_PREFIX);
      const p = h.config.QUEUE_PREFIX;
      for (const part of [`${p}:agent.noop:`, `${p}:agent.fail:`, `${p}:control:`, `${p}:breaker:`])
        expect(
          keys.some((k) => k.startsWith(part)),
          part,
        ).to.equal(true);
    });

    it('the reconciler brings running pipelines back after every key of the prefix is deleted', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await request(h.baseUrl, 'POST', PIPELINES, {
          name: `cluster-reconcile-${i}`,
          stages: [
            { key: 'first', agent: 'sleep', input: { ms: 300 } },
            { key: 'second', agent: 'sleep', dependsOn: ['first'], input: { ms: 300 } },
            { key: 'third', agent: 'noop', dependsOn: ['second'] },
          ],
        });
        ids.push(res.body.id);
      }
      await waitUntil(h.baseUrl, ids[0]!, (p) => stageOf(p, 'first').status === 'running');
      await deleteKeys(h.config.REDIS_URL, h.config.QUEUE_PREFIX, h.config.REDIS_CLUSTER_NODES);
      const done = await Promise.all(ids.map((id) => waitForPipeline(h.baseUrl, id, 60_000)));
      expect(done.map((p) => p.status)).to.deep.equal(Array(5).fill('succeeded'));
      const runs = await h.db.prisma.stageRun.findMany({
        where: { pipelineId: { in: ids }, status: 'succeeded' },
        select: { stageId: true },
      });
      expect(runs).to.have.length(15);
      expect(new Set(runs.map((r) => r.stageId)).size).to.equal(15);
      await expectOneSlot(cluster, h.config.QUEUE_PREFIX);
    });
  });

  describe('boot checks', () => {
    it('reads every master: noeviction passes; one evicting master is named in the refusal', async () => {
      const target = { url: cluster.url, clusterNodes: cluster.nodes };
      expect(await probeRedis(target, () => undefined)).to.deep.equal({ evictionPolicy: 'noeviction' });
      const last = cluster.nodes[2]!;
      const node = new Redis(`redis://${last}`);
      try {
        await node.config('SET', 'maxmemory-policy', 'allkeys-lru');
        try {
          const facts = await probeRedis(target, () => undefined);
          expect(facts).to.deep.equal({ evictionPolicy: 'allkeys-lru', node: last });
          let refused: unknown;
          try {
            enforceEvictionPolicy(target, facts.evictionPolicy, { mode: 'refuse', warn: () => undefined }, facts.node);
          } catch (error) {
            refused = error;
          }
          expect(refused).to.be.instanceOf(BootError);
          expect((refused as BootError).message)
            .to.contain(`master ${last}`)
            .and.to.contain('REDIS_CLUSTER_NODES');
        } finally {
          await node.config('SET', 'maxmemory-policy', 'noeviction');
        }
      } finally {
        node.disconnect();
      }
    });

    it('seeds that do not answer: DEPENDENCY_UNAVAILABLE naming REDIS_CLUSTER_NODES', async () => {
      const nowhere = `127.0.0.1:${await freePort()}`;
      let failed: unknown;
      try {
        await probeRedis({ url: `redis://${nowhere}`, clusterNodes: [nowhere] }, () => undefined);
      } catch (error) {
        failed = error;
      }
      expect(failed).to.be.instanceOf(BootError);
      expect((failed as BootError).code).to.equal('DEPENDENCY_UNAVAILABLE');
      expect((failed as BootError).message).to.contain(`${nowhere} (REDIS_CLUSTER_NODES)`);
    });
  });

  describe('rate limits counted in the cluster', () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ workers: 0, env: { ...cluster.env, RATE_LIMIT_SUBMIT: '2', RATE_LIMIT_WINDOW_MS: '60000' } });
    });
    after(async () => {
      await h?.close();
    });

    it('the third submission in the window gets 429 SUBMIT_RATE_LIMITED; the counters share the prefix slot', async () => {
      const body = { name: 'cluster-limited', stages: [{ key: 'a', agent: 'noop' }] };
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await request(h.baseUrl, 'POST', PIPELINES, body)).status);
      expect(statuses).to.deep.equal([202, 202, 429]);
      const keys = await expectOneSlot(cluster, h.config.QUEUE_PREFIX);
      expect(keys.some((k) => k.startsWith(`${h.config.QUEUE_PREFIX}:rl:`))).to.equal(true);
    });
  });

  describe('the API entry (npm run api)', () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ workers: 0, env: cluster.env });
    });
    after(async () => {
      await h?.close();
    });

    it('answers its first submission, sent once it says it listens, with 202, and never warns that its queue connection was not ready', async () => {
      const port = await freePort();
      const api = startEntry('src/server.ts', {
        ...cluster.env,
        DATABASE_URL: h.config.DATABASE_URL,
        QUEUE_PREFIX: h.config.QUEUE_PREFIX,
        PORT: String(port),
      });
      try {
        await waitForOutput(api, /api listening/);
        const body = { name: 'cluster-first-request', stages: [{ key: 'a', agent: 'noop' }] };
        const res = await request(`http://127.0.0.1:${port}`, 'POST', PIPELINES, body, bearer(h.adminKey));
        expect(res.status, JSON.stringify(res.body)).to.equal(202);
        expect(api.output()).to.not.contain('is not ready yet');
      } finally {
        expect(await api.stop(), api.output()).to.equal(0);
      }
    });
  });

  describe('two worker processes', () => {
    let h: Harness;
    let workers: WorkerProcess[] = [];
    before(async () => {
      h = await startHarness({ workers: 0, env: cluster.env });
      workers = [spawnWorker(h.config, ['--concurrency', '8']), spawnWorker(h.config, ['--concurrency', '8'])];
      await waitFor(
        'two sleep workers online',
        async () => {
          const { body } = await request(h.baseUrl, 'GET', '/api/v1/agents');
          return (body.items as Loose[]).find((a) => a.type === 'sleep')!.workersOnline >= 2 ? true : undefined;
        },
        60_000,
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${workers.map((w) => w.output()).join('\n')}`);
      });
    });
    after(async () => {
      const codes = await Promise.all(workers.map((w) => w.stop('SIGTERM')));
      await h?.close();
      expect(codes, 'worker exit codes after SIGTERM').to.deep.equal([0, 0]);
    });

    it('100 stages over 2 pipelines: both processes take some, each stage runs once, the keys stay in one slot', async () => {
      const ids: string[] = [];
      for (let p = 0; p < 2; p++) {
        const stages = Array.from({ length: 50 }, (_, i) => ({ key: `s${i}`, agent: 'sleep', input: { ms: 20 } }));
        const res = await request(h.baseUrl, 'POST', PIPELINES, { name: `cluster-scale-${p}`, stages });
        expect(res.status).to.equal(202);
        ids.push(res.body.id);
      }
      const finished = await Promise.all(ids.map((id) => waitForPipeline(h.baseUrl, id, 60_000)));
      expect(finished.map((p) => p.status)).to.deep.equal(['succeeded', 'succeeded']);
      const runs = await h.db.prisma.stageRun.findMany({ where: { pipelineId: { in: ids } }, select: { stageId: true, workerId: true } });
      expect(runs).to.have.length(100);
      expect(new Set(runs.map((r) => r.stageId)).size).to.equal(100);
      const pids = new Set(runs.map((r) => r.workerId.split(':')[1]));
      expect([...pids].sort()).to.deep.equal(workers.map((w) => String(w.child.pid)).sort());
      await expectOneSlot(cluster, h.config.QUEUE_PREFIX);
    });
  });
});
