// `gatehouse serve --redis` with the compiled-graph cache: the first replica publishes the graph
// it built, a replica started later loads that snapshot (its ready line says so), replays the
// changes written since, and answers exactly as the first.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatehouseProcess } from '../e2e/support/gatehouse-process.js';
import type { GatehouseClient } from '../e2e/support/sdk.js';
import { type GatehouseFleet, startFleet } from '../support/gatehouse-fleet.js';
import { RedisServer } from '../support/redis-server.js';
import { waitUntil } from '../support/wait-until.js';
import { clientFor, readAll } from './support.js';

let redis: RedisServer;
let probe: Redis;
let fleet: GatehouseFleet;
const clients: GatehouseClient[] = [];

beforeAll(async () => {
  redis = await RedisServer.start();
  probe = new Redis(redis.port, '127.0.0.1');
  fleet = await startFleet({ redisUrl: redis.url, store: 'gcache', replicas: 1 });
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await fleet?.stop();
  probe?.disconnect();
  await redis?.stop();
});

/** A replica's ready line. */
function readyLine(replica: GatehouseProcess): Record<string, unknown> | undefined {
  for (const line of replica.output) {
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry.msg === 'ready') return entry;
    } catch {
      // not a log line
    }
  }
  return undefined;
}

/** One unlabelled series of a replica's /metrics. */
async function metric(replica: GatehouseProcess, name: string): Promise<number | undefined> {
  const text = await (await fetch(`http://${replica.http}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

/** The `graphSnapshotLoaded` field of a replica's ready line. */
function snapshotLoaded(replica: GatehouseProcess): unknown {
  return readyLine(replica)?.graphSnapshotLoaded;
}

describe('serve --redis with the compiled-graph cache', () => {
  it('a replica started after the first published its graph starts from it and answers the same', async () => {
    const first = fleet.replicas[0]!;
    // The first replica found no snapshot, built the graph itself and publishes it in the background.
    expect(snapshotLoaded(first)).toBe(0);
    expect(readyLine(first)).not.toHaveProperty('graphSnapshotBytes');
    await waitUntil(
      'the first replica to publish its graph',
      async () => (await probe.zcard('{gatehouse:gcache}:gsnap:hashes')) > 0,
    );
    clients.push(clientFor(first));
    // A change after the snapshot: the second replica must replay it on top of the loaded graph.
    await clients[0]!.write({ touch: ['contact:cached1#owner@user:cora'] });

    const second = await fleet.add();
    clients.push(clientFor(second));
    expect(snapshotLoaded(second)).toBe(1);
    // With the load's wall time and the snapshot's size, as stored in Redis.
    const published = await probe.keys('{gatehouse:gcache}:gsnap:*:c:*');
    let bytes = 0;
    for (const key of published) bytes += await probe.strlen(key);
    expect(readyLine(second)).toMatchObject({
      graphSnapshotLoadMs: expect.any(Number),
      graphSnapshotBytes: bytes,
    });
    // The same on /metrics: one load of that size, no corrupt snapshot; the first published.
    expect(await metric(second, 'gatehouse_graph_snapshot_loads_total')).toBe(1);
    expect(await metric(second, 'gatehouse_graph_snapshot_load_bytes')).toBe(bytes);
    expect(await metric(second, 'gatehouse_graph_snapshot_load_seconds')).toBeGreaterThan(0);
    expect(await metric(second, 'gatehouse_graph_snapshot_corrupt_total')).toBe(0);
    expect(await metric(first, 'gatehouse_graph_snapshot_loads_total')).toBe(0);
    expect(await metric(first, 'gatehouse_graph_snapshot_publishes_total')).toBeGreaterThanOrEqual(1);
    await waitUntil(
      'the later write to reach the second replica',
      async () => (await clients[1]!.check('contact:cached1#view@user:cora')).allowed,
    );
    for (const type of ['group', 'contact']) {
      expect(await readAll(clients[1]!, type)).toEqual(await readAll(clients[0]!, type));
    }
    for (const rel of ['contact:prospect1#view@user:mike', 'contact:cached1#view@user:mike']) {
      const [a, b] = await Promise.all(clients.map((c) => c.check(rel)));
      expect(b!.allowed).toBe(a!.allowed);
    }
  });
});
