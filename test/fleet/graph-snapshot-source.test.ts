// A replica started from a compiled graph cached in Redis answers exactly as one rebuilt from the
// relationships (property test over random schemas and graphs); a corrupted chunk is refused and
// the replica rebuilds; a replica with another schema publishes its own snapshot.
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../server/src/engine/create-engine.js';
import { GraphIndex } from '../../server/src/graph/graph-index.js';
import type { SubjectRef } from '../../server/src/model/relationship.js';
import type { Schema } from '../../server/src/schema/schema.js';
import { GraphSnapshotCache } from '../../server/src/store/redis/graph-snapshot-cache.js';
import { RedisCompiledGraphSource } from '../../server/src/store/redis/graph-snapshot-source.js';
import { DOC_PERMISSIONS, ID_POOLS, scenarioArb } from '../engine/arbitraries.js';
import { RedisServer } from '../support/redis-server.js';

let redis: RedisServer;
let client: Redis;
let n = 0;

beforeAll(async () => {
  redis = await RedisServer.start();
  client = new Redis(redis.port, '127.0.0.1');
});
afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

const SUBJECTS: readonly SubjectRef[] = [
  { type: 'user', id: 'u0' },
  { type: 'user', id: 'u1' },
  { type: 'user', id: 'unseen' },
  { type: 'group', id: 'g0', relation: 'member' },
];

function answers(schema: Schema, graph: GraphIndex): unknown[] {
  const engine = createEngine(schema, graph);
  const out: unknown[] = [graph.revision, graph.relationshipCount];
  for (const subject of SUBJECTS) {
    for (const permission of DOC_PERMISSIONS) {
      for (const id of [...ID_POOLS.doc!, 'unseen']) {
        out.push(engine.check({ resource: { type: 'doc', id }, permission, subject }));
      }
      out.push(engine.lookupResources({ resourceType: 'doc', permission, subject }).resourceIds);
    }
  }
  return out;
}

/** Two "replicas" sharing one store prefix: the first publishes, the second starts from the cache. */
function pair(chunkBytes = 1024): {
  publisher: RedisCompiledGraphSource;
  joiner: RedisCompiledGraphSource;
  cache: GraphSnapshotCache;
} {
  const cache = new GraphSnapshotCache({ redis: client, keyPrefix: `{gatehouse:src${n++}}`, chunkBytes });
  return {
    cache,
    publisher: new RedisCompiledGraphSource({ cache, chunkBytes }),
    joiner: new RedisCompiledGraphSource({ cache, chunkBytes }),
  };
}

describe('RedisCompiledGraphSource', () => {
  it('a graph loaded from the cache answers like the graph built from the relationships', async () => {
    await fc.assert(
      fc.asyncProperty(
        scenarioArb,
        fc.integer({ min: 1, max: 1000 }),
        async ({ schema, relationships }, revision) => {
          const built = GraphIndex.build(schema, relationships, revision);
          const { publisher, joiner } = pair();
          publisher.observe(built, schema, 'e1');
          await publisher.settled();
          expect(publisher.stats.published).toBe(1);
          const loaded = await joiner.load(schema, 'e1');
          expect(loaded).toBeDefined();
          expect(answers(schema, loaded!)).toEqual(answers(schema, built));
        },
      ),
      { numRuns: 30 },
    );
  });

  it('refuses a snapshot with a corrupted chunk, so the replica rebuilds', async () => {
    const { schema, relationships } = fc.sample(
      scenarioArb.filter((s) => s.relationships.length > 5),
      { numRuns: 1, seed: 7 },
    )[0]!;
    const built = GraphIndex.build(schema, relationships, 42);
    const { publisher, joiner, cache } = pair(1024);
    publisher.observe(built, schema, 'e1');
    await publisher.settled();
    const [key] = await cache.list(schema.hash);
    const chunk = await client.getBuffer(cache.chunkKey(key!, 0));
    chunk![chunk!.length - 1] = (chunk![chunk!.length - 1] ?? 0) ^ 0xff;
    await client.set(cache.chunkKey(key!, 0), chunk!);
    expect(await joiner.load(schema, 'e1')).toBeUndefined();
    expect(joiner.stats.corrupt).toBe(1);
    // The rebuilt replica publishes a good one in its place, which the next replica loads.
    joiner.observe(GraphIndex.build(schema, relationships, 42), schema, 'e1');
    await joiner.settled();
    const third = new RedisCompiledGraphSource({ cache, chunkBytes: 1024 });
    const loaded = await third.load(schema, 'e1');
    expect(answers(schema, loaded!)).toEqual(answers(schema, built));
  });

  it('a replica with another schema finds nothing to load and publishes its own', async () => {
    const [a, b] = fc
      .sample(
        scenarioArb.filter((s) => s.relationships.length > 0),
        { numRuns: 20, seed: 11 },
      )
      .filter((s, i, all) => all.findIndex((t) => t.schema.hash === s.schema.hash) === i);
    expect(a!.schema.hash).not.toBe(b!.schema.hash);
    const { publisher, joiner, cache } = pair();
    publisher.observe(GraphIndex.build(a!.schema, a!.relationships, 5), a!.schema, 'e1');
    await publisher.settled();
    expect(await joiner.load(b!.schema, 'e1')).toBeUndefined();
    joiner.observe(GraphIndex.build(b!.schema, b!.relationships, 5), b!.schema, 'e1');
    await joiner.settled();
    expect((await cache.list(a!.schema.hash)).length).toBe(1);
    expect((await cache.list(b!.schema.hash)).length).toBe(1);
  });

  it('publishes again only when the policy says (N changes)', async () => {
    const { schema, relationships } = fc.sample(scenarioArb, { numRuns: 1, seed: 3 })[0]!;
    const cache = new GraphSnapshotCache({ redis: client, keyPrefix: `{gatehouse:src${n++}}` });
    let now = 0;
    const source = new RedisCompiledGraphSource({
      cache,
      everyChanges: 10,
      everyMs: 1_000_000,
      now: () => now,
    });
    for (const revision of [1, 5, 10, 11, 12]) {
      now += 1;
      source.observe(GraphIndex.build(schema, relationships, revision), schema, 'e1');
      await source.settled();
    }
    expect((await cache.list(schema.hash)).map((k) => k.revision)).toEqual([11, 1]);
  });
});
