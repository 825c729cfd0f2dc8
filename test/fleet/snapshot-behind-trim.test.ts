// Why the changelog may be trimmed by retention (behind the relationship images) while compiled
// graph snapshots are cached: a replica that starts from a graph snapshot older than the trimmed
// changelog cannot replay the gap, is told so (ChangelogTruncatedError), and resyncs from a full
// store snapshot; it never misses a change.
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relationship } from '../../server/src/model/relationship.js';
import { GraphReplica } from '../../server/src/service/graph-replica.js';
import { GraphSnapshotCache } from '../../server/src/store/redis/graph-snapshot-cache.js';
import { RedisCompiledGraphSource } from '../../server/src/store/redis/graph-snapshot-source.js';
import { RedisStore } from '../../server/src/store/redis/redis-store.js';
import { scenarioArb } from '../engine/arbitraries.js';
import { RedisServer } from '../support/redis-server.js';
import { waitUntil } from '../support/wait-until.js';
import { replicaAnswers } from './replica-answers.js';

let redis: RedisServer;
let client: Redis;
const ENGINE = { maxDepth: 50, maxLookupPageSize: 1000 };
beforeAll(async () => {
  redis = await RedisServer.start();
  client = new Redis(redis.port, '127.0.0.1');
});
afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

describe('a cached graph older than the trimmed changelog', () => {
  it('makes the replica resync from the store, ending at the head with the same answers', async () => {
    const scenario = fc.sample(
      scenarioArb.filter((s) => s.relationships.length > 8),
      { numRuns: 1, seed: 11 },
    )[0]!;
    const { schema } = scenario;
    const later: Relationship[] = scenario.relationships.splice(
      Math.floor(scenario.relationships.length / 2),
    );
    // Retention 2, and a relationship image after every change (the changelog is trimmed only
    // behind them): the changes written after the snapshot are trimmed past its revision.
    const store = await RedisStore.connect({
      url: redis.url,
      storeName: 'trim',
      changelogRetention: 2,
      imageEveryChanges: 1,
    });
    expect(await store.seedIfEmpty(scenario.relationships)).toBe(true);
    const cache = new GraphSnapshotCache({ redis: client, keyPrefix: '{gatehouse:trim}' });
    const sourceA = new RedisCompiledGraphSource({ cache });
    const a = await GraphReplica.start(schema, store, { engine: ENGINE, graphSource: sourceA });
    await sourceA.settled();
    const snapshotRevision = a.revision;
    expect(sourceA.stats.published).toBe(1);
    for (const rel of later) await store.write([{ operation: 'touch', relationship: rel }]);
    // Images are published in the background and a write trims: write (nothing) until the
    // changelog no longer holds the revision right after the snapshot.
    await waitUntil('the changelog trimmed past the snapshot', async () => {
      await store.write([]);
      const [first] = await client.xrange('{gatehouse:trim}:changelog', '-', '+', 'COUNT', 1);
      return Number(first?.[0].split('-')[0]) > snapshotRevision + 1;
    });
    const head = await store.revision();

    const sourceB = new RedisCompiledGraphSource({ cache });
    const b = await GraphReplica.start(schema, store, { engine: ENGINE, graphSource: sourceB });
    expect(sourceB.stats.hits).toBe(1);
    await waitUntil('both replicas at the head', () => a.revision === head && b.revision === head, 30_000);
    expect(b.status().resyncs).toBeGreaterThanOrEqual(1);
    expect(replicaAnswers(b)).toEqual(replicaAnswers(a));
    await a.close();
    await b.close();
    await store.close();
  });
});
