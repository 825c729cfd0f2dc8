// GraphReplica with a compiled-graph source: the first replica publishes its graph to Redis, a
// second starts from it and replays only the later changes, answering exactly as the first; a
// corrupted cached graph makes the replica rebuild from the store instead.
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relationship } from '../../server/src/model/relationship.js';
import { GraphReplica } from '../../server/src/service/graph-replica.js';
import { MemoryStore } from '../../server/src/store/memory-store.js';
import { GraphSnapshotCache } from '../../server/src/store/redis/graph-snapshot-cache.js';
import { RedisCompiledGraphSource } from '../../server/src/store/redis/graph-snapshot-source.js';
import { scenarioArb } from '../engine/arbitraries.js';
import { RedisServer } from '../support/redis-server.js';
import { waitUntil } from '../support/wait-until.js';
import { replicaAnswers } from './replica-answers.js';

let redis: RedisServer;
let client: Redis;
let n = 0;
const ENGINE = { maxDepth: 50, maxLookupPageSize: 1000 };
beforeAll(async () => {
  redis = await RedisServer.start();
  client = new Redis(redis.port, '127.0.0.1');
});
afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

describe('GraphReplica with a Redis compiled-graph source', () => {
  it('a replica started from the cached graph replays only later changes and answers like the first', async () => {
    const [first, later] = fc
      .sample(
        scenarioArb.filter((s) => s.relationships.length > 6),
        { numRuns: 1, seed: 5 },
      )
      .map((s): [typeof s, Relationship[]] => [
        s,
        s.relationships.splice(Math.floor(s.relationships.length / 2)),
      ])[0]!;
    const { schema, relationships } = first;
    const store = MemoryStore.withRelationships(relationships);
    const cache = new GraphSnapshotCache({ redis: client, keyPrefix: `{gatehouse:rc${n++}}` });
    const sourceA = new RedisCompiledGraphSource({ cache });
    const a = await GraphReplica.start(schema, store, { engine: ENGINE, graphSource: sourceA });
    await sourceA.settled();
    expect(sourceA.stats.published).toBe(1);
    for (const rel of later) await store.write([{ operation: 'touch', relationship: rel }]);
    const head = await store.revision();
    const sourceB = new RedisCompiledGraphSource({ cache });
    const b = await GraphReplica.start(schema, store, { engine: ENGINE, graphSource: sourceB });
    expect(sourceB.stats.hits).toBe(1);
    await waitUntil('both replicas at the head', () => a.revision === head && b.revision === head);
    expect(replicaAnswers(b)).toEqual(replicaAnswers(a));
    await a.close();
    await b.close();
  });

  it('a corrupted cached graph is refused and the replica rebuilds from the store', async () => {
    const { schema, relationships } = fc.sample(
      scenarioArb.filter((s) => s.relationships.length > 6),
      { numRuns: 1, seed: 9 },
    )[0]!;
    const store = MemoryStore.withRelationships(relationships);
    const cache = new GraphSnapshotCache({ redis: client, keyPrefix: `{gatehouse:rc${n++}}` });
    const sourceA = new RedisCompiledGraphSource({ cache });
    const a = await GraphReplica.start(schema, store, { engine: ENGINE, graphSource: sourceA });
    await sourceA.settled();
    const [key] = await cache.list(schema.hash);
    const chunk = Buffer.from((await client.getBuffer(cache.chunkKey(key!, 0)))!);
    chunk[chunk.length - 1] = (chunk[chunk.length - 1] ?? 0) ^ 0x5a;
    await client.set(cache.chunkKey(key!, 0), chunk);
    const sourceB = new RedisCompiledGraphSource({ cache });
    const b = await GraphReplica.start(schema, store, { engine: ENGINE, graphSource: sourceB });
    expect(sourceB.stats.hits).toBe(0);
    expect(sourceB.stats.corrupt).toBe(1);
    expect(replicaAnswers(b)).toEqual(replicaAnswers(a));
    await a.close();
    await b.close();
  });
});
