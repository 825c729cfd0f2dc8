// Redis restarted empty under two `gatehouse serve` replicas: one replica wins the re-seed lease
// and writes its graph back, so after a bounded wait the relationships are back, every replica
// answers as before, and each reports the revisions that were lost.
import { afterEach, describe, expect, it } from 'vitest';
import type { GatehouseClient } from '../e2e/support/sdk.js';
import { startFleet } from '../support/gatehouse-fleet.js';
import { RedisServer } from '../support/redis-server.js';
import { waitUntil } from '../support/wait-until.js';
import { clientFor, readAll } from './support.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function metric(http: string, name: string): Promise<number> {
  const text = await (await fetch(`http://${http}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('Redis restarted empty', () => {
  it('a replica re-seeds it from its graph; replicas answer as before and report lost revisions', async () => {
    const redis = await RedisServer.start();
    cleanups.push(() => redis.stop());
    const fleet = await startFleet({ redisUrl: redis.url, replicas: 2, store: 'reseed' });
    cleanups.push(() => fleet.stop());
    const clients: GatehouseClient[] = fleet.replicas.map((r) =>
      clientFor(r, { defaultTimeoutMs: 30_000, retries: false }),
    );
    cleanups.push(async () => {
      await Promise.all(clients.map((c) => c.close()));
    });
    for (let i = 0; i < 5; i++) await clients[0]!.write({ touch: [`group:kept#member@user:k${i}`] });
    await waitUntil(
      'replica 1 to apply the writes',
      async () => (await clients[1]!.check('group:kept#member@user:k4')).allowed,
    );
    const before = await Promise.all(['group', 'contact'].map((t) => readAll(clients[0]!, t)));
    expect(before[0]).toContain('group:kept#member@user:k4');

    await redis.restart({ empty: true });
    for (const replica of fleet.replicas) {
      await waitUntil(
        'the replica to report lost revisions',
        async () => (await metric(replica.http, 'gatehouse_replica_lost_revisions')) > 0,
        30_000,
        200,
      );
    }
    // Fully consistent reads go to the store itself: the relationships are back in Redis.
    for (const client of clients) {
      await waitUntil(
        'the relationships to be back',
        async () => {
          const now = await Promise.all(['group', 'contact'].map((t) => readAll(client, t)));
          return JSON.stringify(now) === JSON.stringify(before);
        },
        30_000,
        200,
      );
      await expect(client.check('group:kept#member@user:k4')).resolves.toMatchObject({ allowed: true });
      await expect(client.check('contact:prospect1#view@user:mike')).resolves.toMatchObject({
        allowed: true,
      });
    }
    const seeded = fleet.replicas.filter((r) =>
      r.output.some((l) => l.includes("re-seeded the emptied store from this replica's graph")),
    );
    expect(seeded).toHaveLength(1);
  }, 120_000);
});
