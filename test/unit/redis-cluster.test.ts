// Unit tests for the Redis Cluster settings: the hash tag rule (src/domain/redis-cluster.ts), the
// seed node syntax, REDIS_CLUSTER_NODES and the QUEUE_PREFIX it requires, the connection options
// per role (src/infra/queue/redis-connection.ts) and the production refusal on plaintext nodes.
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { ConfigError, parseConfig } from '../../src/config.js';
import { productionRefusals } from '../../src/config/production-refusals.js';
import { parseClusterNode, redisHashTag } from '../../src/domain/redis-cluster.js';
import { clusterOptions, isClusterTarget, PRODUCER_COMMAND_TIMEOUT_MS } from '../../src/infra/queue/redis-connection.js';
import { redisTargetOf } from '../../src/composition/redis-target.js';

function configError(env: Record<string, string>): ConfigError {
  try {
    parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const fields = (error: ConfigError) => (error.details as { field: string }[]).map((d) => d.field);

describe('Redis Cluster settings (unit)', () => {
  describe('redisHashTag', () => {
    it('the text between the first { and the first } after it, when not empty', () => {
      expect(redisHashTag('{sdlc}')).to.equal('sdlc');
      expect(redisHashTag('app{jobs}x')).to.equal('jobs');
      expect(redisHashTag('{a}{b}')).to.equal('a');
      expect(redisHashTag('{t-1a2b3c4d}')).to.equal('t-1a2b3c4d');
    });
    it('none when the rest of a key could decide the slot: no brace, an empty tag, an open one', () => {
      for (const prefix of ['sdlc', '{}sdlc', '{}{sdlc}', '{sdlc', 'sdlc}', '}sdlc{'])
        expect(redisHashTag(prefix), prefix).to.equal(undefined);
    });
  });

  describe('parseClusterNode', () => {
    it('host:port, a bare host (port 6379), IPv6 in brackets', () => {
      expect(parseClusterNode('10.0.0.1:7000')).to.deep.equal({ host: '10.0.0.1', port: 7000 });
      expect(parseClusterNode(' redis-0.internal ')).to.deep.equal({ host: 'redis-0.internal', port: 6379 });
      expect(parseClusterNode('[::1]:7001')).to.deep.equal({ host: '::1', port: 7001 });
    });
    it('refuses URLs, empty hosts and ports out of range', () => {
      for (const bad of ['redis://a:1', ':7000', 'a:0', 'a:70000', 'a:b', 'a b:1', '::1:7000'])
        expect(() => parseClusterNode(bad), bad).to.throw(/not a host:port/);
    });
  });

  describe('REDIS_CLUSTER_NODES and QUEUE_PREFIX', () => {
    it('unset: one Redis; set: the seeds as a list, and the target is a cluster', () => {
      const single = parseConfig({});
      expect(single.REDIS_CLUSTER_NODES).to.deep.equal([]);
      expect(isClusterTarget(redisTargetOf(single))).to.equal(false);
      const clustered = parseConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, 10.0.0.2:7000,' });
      expect(clustered.REDIS_CLUSTER_NODES).to.deep.equal(['10.0.0.1:7000', '10.0.0.2:7000']);
      expect(isClusterTarget(redisTargetOf(clustered))).to.equal(true);
    });
    it('a seed that is not host:port is refused, naming the variable', () => {
      expect(fields(configError({ REDIS_CLUSTER_NODES: '10.0.0.1:7000,redis://10.0.0.2:7000' }))).to.deep.equal(['REDIS_CLUSTER_NODES']);
    });
    it('clustered, a QUEUE_PREFIX without a hash tag is refused, naming QUEUE_PREFIX; unclustered it is allowed', () => {
      for (const prefix of ['sdlc', '{}sdlc', 'sdlc}']) {
        const error = configError({ REDIS_CLUSTER_NODES: '127.0.0.1:7000', QUEUE_PREFIX: prefix });
        expect(fields(error), prefix).to.deep.equal(['QUEUE_PREFIX']);
        expect(error.message).to.match(/hash tag/);
        expect(parseConfig({ QUEUE_PREFIX: prefix }).QUEUE_PREFIX).to.equal(prefix);
      }
      expect(parseConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000', QUEUE_PREFIX: 'app{jobs}' }).QUEUE_PREFIX).to.equal('app{jobs}');
      expect(parseConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000' }).QUEUE_PREFIX).to.equal('{sdlc}');
    });
  });

  describe('clusterOptions', () => {
    it('workers: retry forever on every node (BullMQ reads redisOptions), offline queue on, ready check', () => {
      const options = clusterOptions('redis://127.0.0.1:7000', 'worker', 'host:1:abcd');
      expect(options).to.include({ enableOfflineQueue: true, enableReadyCheck: true });
      expect(options.redisOptions).to.include({ maxRetriesPerRequest: null, connectionName: 'agentic-sdlc:worker:host:1:abcd' });
      expect(options.redisOptions).not.to.have.property('password');
      expect(options.redisOptions).not.to.have.property('tls');
    });
    it('producers: fail fast (no offline queue at the cluster, one retry and a command timeout per node)', () => {
      const options = clusterOptions('redis://127.0.0.1:7000', 'producer');
      expect(options.enableOfflineQueue).to.equal(false);
      expect(options.redisOptions).to.include({ maxRetriesPerRequest: 1, commandTimeout: PRODUCER_COMMAND_TIMEOUT_MS });
    });
    it("every node gets REDIS_URL's user, password and TLS; TLS keeps the host names for the certificates", () => {
      const options = clusterOptions('rediss://app:p%40ss@ignored.example.com:6380', 'subscriber');
      expect(options.redisOptions).to.deep.include({ username: 'app', password: 'p@ss', tls: {} });
      expect(options.dnsLookup).to.be.a('function');
    });
  });

  describe('production', () => {
    const strong = (seed: string) => createHash('sha256').update(seed).digest('hex');
    const base = {
      NODE_ENV: 'production',
      DATABASE_URL: `postgresql://agentic:${strong('db')}@db.internal:5432/agentic_sdlc?sslmode=verify-full`,
    };
    it('plaintext nodes off loopback are refused on REDIS_CLUSTER_NODES; rediss:// (or loopback nodes) pass', () => {
      const plain = productionRefusals(
        parseConfig({ ...base, REDIS_URL: `redis://default:${strong('redis')}@127.0.0.1:7000`, REDIS_CLUSTER_NODES: '10.0.0.1:7000' }),
        { redisEvictionPolicy: 'noeviction' },
      );
      expect(plain.map((r) => r.field)).to.deep.equal(['REDIS_CLUSTER_NODES']);
      expect(plain[0]!.message).to.match(/rediss:\/\//);
      const tls = productionRefusals(
        parseConfig({ ...base, REDIS_URL: `rediss://default:${strong('redis')}@10.0.0.1:7000`, REDIS_CLUSTER_NODES: '10.0.0.1:7000' }),
        { redisEvictionPolicy: 'noeviction' },
      );
      expect(tls).to.deep.equal([]);
      const local = productionRefusals(
        parseConfig({ ...base, REDIS_URL: `redis://default:${strong('redis')}@127.0.0.1:7000`, REDIS_CLUSTER_NODES: '127.0.0.1:7000' }),
        { redisEvictionPolicy: 'noeviction' },
      );
      expect(local).to.deep.equal([]);
    });
  });
});
