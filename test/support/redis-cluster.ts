// A private 3-master Redis Cluster for tests: three `redis-server --cluster-enabled yes` on free
// ports (each with a free cluster-bus port), joined by `redis-cli --cluster create
// --cluster-replicas 0`, ready once every node says cluster_state:ok; close() kills them by PID
// and removes their directory. The machine's shared Redis is never touched.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { freePort, pollUntil } from './chaos/free-port.js';
import { onProcessExit } from './chaos/exit-cleanup.js';
import { withOneShotRedis } from './chaos/private-redis.js';

const run = promisify(execFile);

export interface RedisClusterHandle {
  /** `127.0.0.1:<port>` of each master. */
  nodes: string[];
  /** A URL of the first node: REDIS_URL for a cluster without a password. */
  url: string;
  /** The environment that points the platform at this cluster. */
  env: { REDIS_URL: string; REDIS_CLUSTER_NODES: string };
  /** A new cluster client (disconnect it when done). */
  client(): Cluster;
  /** Every key matching `pattern` on every master, with the master that holds it. */
  keysOf(pattern: string): Promise<{ key: string; node: string }[]>;
  /** Kills the servers and removes their directory. Idempotent. */
  close(): Promise<void>;
}

function nodeClient<T>(port: number, fn: (redis: Redis) => Promise<T>): Promise<T> {
  return withOneShotRedis(`redis://127.0.0.1:${port}`, fn);
}

/** Starts a 3-master cluster on free ports; call close() when done. */
export async function startRedisCluster(masters = 3): Promise<RedisClusterHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
  const children: ChildProcess[] = [];
  const removeExitHook = onProcessExit(() => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const ports: number[] = [];
  const close = async () => {
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      }),
    );
    children.length = 0;
    rmSync(dir, { recursive: true, force: true });
    removeExitHook();
  };
  try {
    for (let i = 0; i < masters; i++) {
      const port = await freePort();
      // Redis' default bus port is port + 10000, which may be taken or past 65535: pick one.
      const busPort = await freePort();
      ports.push(port);
      let log = '';
      const child = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--cluster-port',
          String(busPort),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, `nodes-${port}.conf`),
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          'no',
          '--maxmemory-policy',
          'noeviction',
          '--daemonize',
          'no',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      children.push(child);
      child.stdout?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-10_000)));
      child.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-10_000)));
      await pollUntil(
        `redis-server (cluster node) on port ${port}`,
        async () => {
          if (child.exitCode !== null) throw new Error(`redis-server exited: ${log}`);
          return (await nodeClient(port, (r) => r.ping())) === 'PONG';
        },
        10_000,
        50,
      );
    }
    const nodes = ports.map((port) => `127.0.0.1:${port}`);
    await run('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 });
    await pollUntil(
      'cluster_state:ok on every node',
      async () => {
        const infos = await Promise.all(ports.map((port) => nodeClient(port, (r) => r.cluster('INFO'))));
        return infos.every((info) => String(info).includes('cluster_state:ok'));
      },
      30_000,
      100,
    );
    const url = `redis://${nodes[0]!}`;
    const client = () =>
      new Cluster(
        ports.map((port) => ({ host: '127.0.0.1', port })),
        { redisOptions: { maxRetriesPerRequest: null } },
      );
    return {
      nodes,
      url,
      env: { REDIS_URL: url, REDIS_CLUSTER_NODES: nodes.join(',') },
      client,
      async keysOf(pattern) {
        const found: { key: string; node: string }[] = [];
        for (const port of ports) {
          const keys = await nodeClient(port, async (r) => {
            const all: string[] = [];
            let cursor = '0';
            do {
              const [next, batch] = await r.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
              cursor = next;
              all.push(...batch);
            } while (cursor !== '0');
            return all;
          });
          found.push(...keys.map((key) => ({ key, node: `127.0.0.1:${port}` })));
        }
        return found;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
