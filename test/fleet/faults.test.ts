// Redis failures under real `gatehouse serve` replicas: kill -9 mid-load (AOF always), SIGSTOP for
// 3 s, a TCP proxy cutting a replica's connection mid-read, Redis restarted empty, and a Sentinel
// failover. Each bounded in count and time; none asserts on measured time.
import { afterEach, describe, expect, it } from 'vitest';
import type { GatehouseClient } from '../e2e/support/sdk.js';
import { type GatehouseFleet, startFleet } from '../support/gatehouse-fleet.js';
import { startRedisSentinel } from '../support/redis-sentinel.js';
import { RedisServer } from '../support/redis-server.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { waitUntil } from '../support/wait-until.js';
import { clientFor, readAll, tokenEpoch, tokenRevision } from './support.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function fleetOn(
  redisUrl: string | string[],
  replicas = 2,
): Promise<{ fleet: GatehouseFleet; clients: GatehouseClient[] }> {
  const fleet = await startFleet({ redisUrl, replicas, store: 'faults' });
  cleanups.push(() => fleet.stop());
  const clients = fleet.replicas.map((r) => clientFor(r, { defaultTimeoutMs: 30_000, retries: false }));
  cleanups.push(async () => {
    await Promise.all(clients.map((c) => c.close()));
  });
  return { fleet, clients };
}

/** Checks that must keep answering, in a loop until stopped; returns the failures. */
function checkLoop(clients: readonly GatehouseClient[]): {
  stop(): Promise<{ ok: number; failed: string[] }>;
} {
  let running = true;
  let ok = 0;
  const failed: string[] = [];
  const loop = (async () => {
    for (let i = 0; running; i++) {
      try {
        const result = await clients[i % clients.length]!.check('contact:prospect1#view@user:mike');
        if (result.allowed) ok += 1;
        else failed.push('answered denied');
      } catch (err) {
        failed.push(`${(err as Error).name}: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { ok, failed };
    },
  };
}

/** Wait until every client reads the same `group` relationships, and return them. */
async function converged(clients: readonly GatehouseClient[]): Promise<string[]> {
  let sets: string[][] = [];
  await waitUntil(
    'every replica to read the same relationships',
    async () => {
      sets = await Promise.all(clients.map((c) => readAll(c, 'group')));
      return sets.every((s) => JSON.stringify(s) === JSON.stringify(sets[0]));
    },
    30_000,
    200,
  );
  return sets[0]!;
}

async function metric(http: string, name: string): Promise<number> {
  const text = await (await fetch(`http://${http}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** The sum of every series of `name` (all label sets) a replica serves. */
async function metricSum(http: string, name: string): Promise<number> {
  const text = await (await fetch(`http://${http}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

describe('Redis faults under three-replica load', () => {
  it('kill -9 mid-load: checks never fail, writes fail UNAVAILABLE, every acknowledged write survives', async () => {
    const redis = await RedisServer.start({ config: { appendonly: 'yes', appendfsync: 'always' } });
    cleanups.push(() => redis.stop());
    const { fleet, clients } = await fleetOn(redis.url, 3);
    const checks = checkLoop(clients);
    const acknowledged: string[] = [];
    const writeErrors: string[] = [];
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing && i < 5000; i++) {
        const rel = `group:load#member@user:w${i}`;
        try {
          await clients[i % 3]!.write({ touch: [rel] });
          acknowledged.push(rel);
        } catch (err) {
          writeErrors.push((err as Error).name);
        }
      }
    })();
    await waitUntil('some writes acknowledged', () => acknowledged.length >= 20);
    await redis.kill('SIGKILL');
    await waitUntil('writes to fail while Redis is down', () => writeErrors.length >= 3, 30_000);
    await redis.restart();
    await waitUntil('writes to succeed again', async () => {
      const before = acknowledged.length;
      await new Promise((r) => setTimeout(r, 100));
      return acknowledged.length > before;
    });
    writing = false;
    await writer;
    const { ok, failed } = await checks.stop();
    expect(failed).toEqual([]);
    expect(ok).toBeGreaterThan(0);
    expect(new Set(writeErrors)).toEqual(new Set(['UnavailableError']));
    const final = await converged(clients);
    for (const rel of acknowledged) expect(final).toContain(rel);
    // The outage shows on /metrics: failed Redis calls by kind, reconnects, and the changelog
    // holding (at least) one change set per acknowledged write.
    const https = fleet.replicas.map((r) => r.http);
    const sum = async (name: string): Promise<number> =>
      (await Promise.all(https.map((h) => metricSum(h, name)))).reduce((a, b) => a + b, 0);
    expect(await sum('gatehouse_redis_errors_total')).toBeGreaterThanOrEqual(writeErrors.length);
    expect(await sum('gatehouse_redis_reconnects_total')).toBeGreaterThanOrEqual(3);
    expect(await metric(https[0] as string, 'gatehouse_redis_changelog_entries')).toBeGreaterThanOrEqual(
      acknowledged.length,
    );
  }, 120_000);

  it('SIGSTOP for 3 s: checks keep answering, then replicas catch up', async () => {
    const redis = await RedisServer.start();
    cleanups.push(() => redis.stop());
    const { clients } = await fleetOn(redis.url);
    const checks = checkLoop(clients);
    redis.freeze();
    await new Promise((r) => setTimeout(r, 3_000));
    redis.thaw();
    await waitUntil('a write after SIGCONT', async () => {
      await clients[0]!.write({ touch: ['group:afterstop#member@user:a'] });
      return true;
    });
    const { failed } = await checks.stop();
    expect(failed).toEqual([]);
    expect(await converged(clients)).toContain('group:afterstop#member@user:a');
  }, 90_000);

  it("a proxy cutting a replica's Redis connection mid-read: it reconnects and misses nothing", async () => {
    const redis = await RedisServer.start();
    cleanups.push(() => redis.stop());
    const proxy = await startTcpProxy(redis.port);
    cleanups.push(() => proxy.close());
    const { clients } = await fleetOn([redis.url, proxy.url]);
    for (let round = 0; round < 3; round++) {
      const cut = proxy.cutNextReply();
      // The change set this write produces is the reply the proxied replica's blocking read gets.
      await clients[0]!.write({ touch: [`group:cut#member@user:r${round}`] });
      await cut;
      await clients[0]!.write({ touch: [`group:cut#member@user:after${round}`] });
    }
    const final = await converged(clients);
    for (let round = 0; round < 3; round++) {
      expect(final).toContain(`group:cut#member@user:r${round}`);
      expect(final).toContain(`group:cut#member@user:after${round}`);
    }
  }, 90_000);

  it('Redis restarted empty: a new epoch is detected, lost revisions reported, old tokens refused', async () => {
    const redis = await RedisServer.start();
    cleanups.push(() => redis.stop());
    const { fleet, clients } = await fleetOn(redis.url);
    let token = '';
    for (let i = 0; i < 5; i++)
      token = (await clients[0]!.write({ touch: [`group:lost#member@user:l${i}`] })).writtenAt;
    await waitUntil(
      'replica 1 to apply the writes',
      async () => (await clients[1]!.check('group:lost#member@user:l4')).allowed,
    );
    await redis.restart({ empty: true });
    for (const replica of fleet.replicas) {
      await waitUntil(
        'the replica to report lost revisions',
        async () => (await metric(replica.http, 'gatehouse_replica_lost_revisions')) > 0,
        30_000,
        200,
      );
    }
    await waitUntil('a write in the new epoch', async () => {
      const { writtenAt } = await clients[1]!.write({ touch: ['group:reborn#member@user:x'] });
      return tokenEpoch(writtenAt) !== tokenEpoch(token);
    });
    const refused = await clients[1]!
      .check('group:lost#member@user:l4', { consistency: { atLeastAsFresh: token } })
      .then(
        () => 'answered',
        (err: Error) => err.name,
      );
    expect(refused).toBe('FailedPreconditionError');
    expect(await converged(clients)).toContain('group:reborn#member@user:x');
    expect(tokenRevision(token)).toBeGreaterThan(0);
  }, 90_000);

  it('Sentinel failover: replicas follow the new master and keep writing', async () => {
    const sentinel = await startRedisSentinel({ appendfsync: 'always' });
    cleanups.push(() => sentinel.stop());
    const { clients } = await fleetOn(sentinel.url);
    await clients[0]!.write({ touch: ['group:failover#member@user:before'] });
    await converged(clients);
    const checks = checkLoop(clients);
    await sentinel.failover();
    await waitUntil(
      'a write through each replica after failover',
      async () => {
        for (const [i, client] of clients.entries())
          await client.write({ touch: [`group:failover#member@user:after${i}`] });
        return true;
      },
      60_000,
      500,
    );
    const { failed } = await checks.stop();
    expect(failed).toEqual([]);
    const final = await converged(clients);
    expect(final).toEqual(
      expect.arrayContaining(['group:failover#member@user:after0', 'group:failover#member@user:after1']),
    );
  }, 120_000);
});
