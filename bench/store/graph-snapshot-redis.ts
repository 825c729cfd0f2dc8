// Cold start of a replica at N relationships: rebuilding the graph from the relationship set in
// Redis versus loading the compiled graph snapshot cached in Redis; the snapshot's size and Redis
// memory per relationship with one snapshot; and the catch-up rate of a replica that starts from
// a snapshot taken before C changes. Starts its own redis-server on a free loopback port.
//
// Run: npx tsx bench/store/graph-snapshot-redis.ts --size 1m [--changes 100000] [--seed 1]
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { decodeGraphSnapshot, GraphIndex } from '../../server/src/graph/index.js';
import type { Relationship } from '../../server/src/model/relationship.js';
import { GraphReplica } from '../../server/src/service/graph-replica.js';
import { collectSnapshot } from '../../server/src/store/collect-snapshot.js';
import { GraphSnapshotCache } from '../../server/src/store/redis/graph-snapshot-cache.js';
import { RedisCompiledGraphSource } from '../../server/src/store/redis/graph-snapshot-source.js';
import { RedisStore } from '../../server/src/store/redis/redis-store.js';
import { RedisServer } from '../../test/support/redis-server.js';
import { generateGroupVisibility } from '../datasets/group-visibility.js';
import { parseSize } from '../engine/bench-support.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '1m' },
    seed: { type: 'string', default: '1' },
    changes: { type: 'string', default: '100000' },
  },
});

const ENGINE = { maxDepth: 50, maxLookupPageSize: 1000 };
const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? Number.NaN);
}

async function main(): Promise<void> {
  const size = parseSize(values.size);
  const changes = Number(values.changes);
  const server = await RedisServer.start();
  const admin = new Redis(server.port, '127.0.0.1');
  const store = await RedisStore.connect({
    url: server.url,
    storeName: 'bench',
    changelogRetention: changes + 10,
    // A loaded host can stall one batch past the 1 s default; this bench measures, it does not probe.
    commandTimeoutMs: 30_000,
  });
  try {
    const dataset = generateGroupVisibility({ relationships: size, seed: Number(values.seed) });
    const schema = dataset.schema;
    const baseline = await usedMemory(admin);
    // Batches of 1000 (one Lua call for a million would outlast the seed timeout on a busy host).
    let batch: { operation: 'touch'; relationship: Relationship }[] = [];
    for (const relationship of dataset.relationships()) {
      batch.push({ operation: 'touch', relationship });
      if (batch.length === 1000) {
        await store.write(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await store.write(batch);
    const afterSeed = await usedMemory(admin);
    const { epoch } = await store.identity();
    const n = dataset.relationshipCount;
    console.log(`redis-server, ${n} relationships (group-visibility seed ${values.seed})`);

    // 1. Rebuild: what a replica without a cached graph does (read every relationship, build).
    let t = performance.now();
    const snapshot = await store.snapshot();
    const rels = await collectSnapshot(snapshot);
    const built = GraphIndex.build(schema, rels, snapshot.revision);
    const rebuildMs = performance.now() - t;
    rels.length = 0;

    // 2. Publish one compiled snapshot and measure it.
    const cache = new GraphSnapshotCache({ redis: admin, keyPrefix: '{gatehouse:bench}' });
    const publisher = new RedisCompiledGraphSource({ cache });
    t = performance.now();
    publisher.observe(built, schema, epoch);
    await publisher.settled();
    const publishMs = performance.now() - t;
    const afterSnapshot = await usedMemory(admin);

    // 3. Cold start from the snapshot (load + verify + decode).
    const loader = new RedisCompiledGraphSource({ cache });
    t = performance.now();
    const loaded = await loader.load(schema, epoch);
    const loadMs = performance.now() - t;
    if (loaded?.relationshipCount !== built.relationshipCount) throw new Error('snapshot load failed');
    // Where the load's time goes: fetching the chunks (with their SHA-256 checks) vs decoding.
    t = performance.now();
    const fetched = await cache.loadNewest(schema.hash, epoch);
    const fetchMs = performance.now() - t;
    if (fetched.status !== 'hit') throw new Error('snapshot fetch failed');
    t = performance.now();
    decodeGraphSnapshot(schema, fetched.chunks);
    const decodeMs = performance.now() - t;
    console.log(`snapshot load again, split: fetch ${seconds(fetchMs)}, decode ${seconds(decodeMs)}`);

    console.log(
      '\n| cold start at | rebuild from relationships | from compiled snapshot | speed-up | snapshot bytes | publish |',
    );
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
    console.log(
      `| ${n} | ${seconds(rebuildMs)} (${((rebuildMs / n) * 1e3).toFixed(2)} s/M) | ${seconds(loadMs)} (${((loadMs / n) * 1e3).toFixed(2)} s/M) | ${(rebuildMs / loadMs).toFixed(1)}× | ${publisher.stats.lastPublishBytes} (${(publisher.stats.lastPublishBytes / n).toFixed(1)} B/rel) | ${seconds(publishMs)} |`,
    );
    console.log(
      `\nRedis used_memory per relationship: store ${((afterSeed - baseline) / n).toFixed(1)} B, store + one snapshot ${((afterSnapshot - baseline) / n).toFixed(1)} B`,
    );

    // 4. Catch-up: `changes` single-relationship changes committed after the snapshot (batches of
    //    1000 touches), then a replica starts from the snapshot and replays them.
    const user = (i: number): Relationship => ({
      resource: { type: 'group', id: `catchup${i % 1000}` },
      relation: 'member',
      subject: { type: 'user', id: `cu${i}` },
    });
    for (let i = 0; i < changes; i += 1000) {
      const batch = [];
      for (let j = i; j < Math.min(changes, i + 1000); j++)
        batch.push({ operation: 'touch' as const, relationship: user(j) });
      await store.write(batch);
    }
    const head = await store.revision();
    t = performance.now();
    const replica = await GraphReplica.start(schema, store, {
      engine: ENGINE,
      graphSource: new RedisCompiledGraphSource({ cache, everyChanges: 1e12, everyMs: 1e12 }),
    });
    const startedMs = performance.now() - t;
    while (replica.revision < head) await new Promise((r) => setTimeout(r, 1));
    const replayMs = performance.now() - t - startedMs;
    console.log(
      `\ncatch-up: ${changes} changes in ${head - built.revision} revisions replayed in ${seconds(replayMs)} after a ${seconds(startedMs)} start from the snapshot: ${Math.round(changes / (replayMs / 1000))} changes/s`,
    );
    await replica.close();
  } finally {
    await store.close();
    admin.disconnect();
    await server.stop();
  }
}

await main();
