// The Redis test harness itself: each helper the fault tests rely on does what it says, against
// real processes (a harness that silently did nothing would make every fault test pass vacuously).
import { Cluster, Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { MASTER_NAME, startRedisSentinel } from '../support/redis-sentinel.js';
import { RedisCluster, RedisServer, redisCli } from '../support/redis-server.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { waitUntil } from '../support/wait-until.js';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

describe('RedisServer', () => {
  it('keeps acknowledged data across kill -9 with AOF always, and loses it on an empty restart', async () => {
    const redis = await RedisServer.start({ config: { appendonly: 'yes', appendfsync: 'always' } });
    cleanups.push(() => redis.stop());
    expect(redis.port).not.toBe(6379);
    await redis.cli('SET', 'k', 'v1');
    await redis.kill();
    await redis.restart();
    expect(await redis.cli('GET', 'k')).toBe('v1');
    await redis.restart({ empty: true });
    expect(await redis.cli('GET', 'k')).toBe('');
  });

  it('freezes on freeze() and answers again after thaw()', async () => {
    const redis = await RedisServer.start();
    cleanups.push(() => redis.stop());
    redis.freeze();
    await expect(
      redisCli(redis.port, ['PING'], 1_000).then(
        () => 'answered',
        () => 'no answer',
      ),
    ).resolves.toBe('no answer');
    redis.thaw();
    await waitUntil('PING after SIGCONT', async () => (await redis.cli('PING')) === 'PONG');
  }, 40_000);
});

describe('RedisCluster', () => {
  it('forms three masters that share every slot, reachable through a cluster client', async () => {
    const cluster = await RedisCluster.start();
    cleanups.push(() => cluster.stop());
    const nodes = await cluster.nodes[0]!.cli('CLUSTER', 'NODES');
    expect(nodes.split('\n').filter((l) => l.includes('master')).length).toBe(3);
    const client = new Cluster(cluster.nodes.map((n) => ({ host: n.host, port: n.port })));
    try {
      for (const key of ['a', 'b', 'c', '{gatehouse:x}:y']) await client.set(key, key);
      expect(await client.get('{gatehouse:x}:y')).toBe('{gatehouse:x}:y');
    } finally {
      client.disconnect();
    }
  });
});

describe('startRedisSentinel', () => {
  it('fails over to the replica, and a sentinel client follows it', async () => {
    const setup = await startRedisSentinel();
    cleanups.push(setup.stop);
    const client = new Redis({
      sentinels: setup.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
      name: MASTER_NAME,
    });
    try {
      await client.set('before', '1');
      const before = await setup.masterPort();
      const after = await setup.failover();
      expect(after).not.toBe(before);
      expect(setup.servers.map((s) => s.port)).toContain(after);
      await waitUntil(
        'a write through the sentinel client after failover',
        async () => (await client.set('after', '2')) === 'OK',
      );
      expect(await setup.servers.find((s) => s.port === after)!.cli('GET', 'after')).toBe('2');
    } finally {
      client.disconnect();
    }
  }, 60_000);
});

describe('startTcpProxy', () => {
  it('relays, cuts a reply mid-read, and lets the client reconnect', async () => {
    const redis = await RedisServer.start();
    cleanups.push(() => redis.stop());
    const proxy = await startTcpProxy(redis.port);
    cleanups.push(proxy.close);
    const client = new Redis(proxy.port, '127.0.0.1', { maxRetriesPerRequest: 0 });
    await client.set('big', 'x'.repeat(200_000));
    const errors: string[] = [];
    client.on('error', (err: Error) => errors.push(err.message));
    try {
      expect(await client.ping()).toBe('PONG');
      const cut = proxy.cutNextReply();
      const read = client.get('big').then(
        (v) => `value of ${v?.length}`,
        (err: Error) => `failed: ${err.message}`,
      );
      await cut;
      expect(await read).toMatch(/^failed/);
      await waitUntil(
        'the client to reconnect through the proxy',
        async () => (await client.ping()) === 'PONG',
      );
      expect((await client.get('big'))?.length).toBe(200_000);
      proxy.refuse(true);
      proxy.cutAll();
      await expect(client.ping()).rejects.toThrow();
      proxy.refuse(false);
      await waitUntil(
        'the client to reconnect after refusal ends',
        async () => (await client.ping()) === 'PONG',
      );
    } finally {
      client.disconnect();
    }
  });
});
