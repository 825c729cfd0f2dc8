// Cold start of a replica at N relationships: rebuilding the graph from the relationship set in
// Redis versus loading the compiled graph snapshot cached in Redis; the snapshot's size and Redis
// memory per relationship with one snapshot; and the catch-up rate of a replica that starts from
// a snapshot taken before C changes. Starts its own redis-server on a free loopback port.
//
// Run: npx tsx bench/store/graph-snapshot-redis.ts --size 1m [--changes 100000] [--seed 1]
//        [--rounds 3] [--base DIR] [--no-rebuild]
//
// --base DIR: another checkout (e.g. `git archive main` into DIR, with node_modules linked) whose
//   snapshot cache and decoder load the same snapshot, rounds alternating base/this, medians.
// --no-rebuild: the graph is built in this process from the generated relationships and the
//   store holds only the catch-up changes (the rebuild-from-Redis time and Redis memory per
//   relationship are then not measured): what a 10M run needs to fit in minutes, not hours.
//   A replica's work is the same either way: it loads the snapshot and replays the changelog.
//
// CPU seconds are this process's (user + system), beside wall time; "Redis CPU" is the
// redis-server's own (INFO cpu) over the same span.
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { type decodeGraphSnapshot, GraphIndex } from '../../server/src/graph/index.js';
import type { Relationship } from '../../server/src/model/relationship.js';
import type { Schema } from '../../server/src/schema/schema.js';
import { GraphReplica } from '../../server/src/service/graph-replica.js';
import { collectSnapshot } from '../../server/src/store/collect-snapshot.js';
import { GraphSnapshotCache } from '../../server/src/store/redis/graph-snapshot-cache.js';
import { RedisCompiledGraphSource } from '../../server/src/store/redis/graph-snapshot-source.js';
import { RedisStore } from '../../server/src/store/redis/redis-store.js';
import { RedisServer } from '../../test/support/redis-server.js';
import { generateGroupVisibility } from '../datasets/group-visibility.js';
import { parseSize } from '../engine/bench-support.js';
import { redisCpuSeconds } from './redis-cpu.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '1m' },
    seed: { type: 'string', default: '1' },
    changes: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '3' },
    base: { type: 'string' },
    'no-rebuild': { type: 'boolean', default: false },
  },
});

const ENGINE = { maxDepth: 50, maxLookupPageSize: 1000 };
const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? Number.NaN);
}

function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

async function uptime(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  return (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
}

interface Measured {
  wallMs: number;
  cpuS: number;
  redisCpuS: number;
  /** This process's CPU seconds fetching (with the cache's checksum) and decoding (codec checks included). */
  fetchCpuS?: number;
  decodeCpuS?: number;
}

async function measure<T>(admin: Redis, run: () => Promise<T>): Promise<[T, Measured]> {
  const redis0 = await redisCpuSeconds(admin);
  const cpu0 = cpuSeconds();
  const t = performance.now();
  const out = await run();
  const wallMs = performance.now() - t;
  const cpuS = cpuSeconds() - cpu0;
  return [out, { wallMs, cpuS, redisCpuS: (await redisCpuSeconds(admin)) - redis0 }];
}

/** What a loader needs of a checkout: its cache and codec (this one's or --base's). */
interface Loader {
  readonly name: string;
  load(
    schema: Schema,
    epoch: string,
  ): Promise<[GraphIndex | undefined, { fetchCpuS: number; decodeCpuS: number }]>;
}

async function loaderFrom(dir: string | undefined, admin: Redis): Promise<Loader> {
  const root = dir === undefined ? '../..' : dir;
  const cacheMod = (await import(`${root}/server/src/store/redis/graph-snapshot-cache.ts`)) as {
    GraphSnapshotCache: typeof GraphSnapshotCache;
  };
  const codecMod = (await import(`${root}/server/src/graph/snapshot-codec.ts`)) as {
    decodeGraphSnapshot: typeof decodeGraphSnapshot;
  };
  const cache = new cacheMod.GraphSnapshotCache({ redis: admin, keyPrefix: '{gatehouse:bench}' });
  // What RedisCompiledGraphSource.load does (the base ignores `adopt`), split into its two steps.
  return {
    name: dir === undefined ? 'this checkout' : `base ${dir}`,
    load: async (schema, epoch) => {
      const cpu0 = cpuSeconds();
      const found = await cache.loadNewest(schema.hash, epoch);
      const cpu1 = cpuSeconds();
      if (found.status !== 'hit') return [undefined, { fetchCpuS: cpu1 - cpu0, decodeCpuS: 0 }];
      const graph = codecMod.decodeGraphSnapshot(schema, found.chunks, { adopt: true });
      return [graph, { fetchCpuS: cpu1 - cpu0, decodeCpuS: cpuSeconds() - cpu1 }];
    },
  };
}

async function main(): Promise<void> {
  const size = parseSize(values.size);
  const changes = Number(values.changes);
  const rounds = Number(values.rounds);
  const rebuild = !values['no-rebuild'];
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
    console.log(`load average at start: ${await uptime()}`);
    const dataset = generateGroupVisibility({ relationships: size, seed: Number(values.seed) });
    const schema = dataset.schema;
    const baseline = await usedMemory(admin);
    let built: GraphIndex;
    let rebuildMs = Number.NaN;
    let afterSeed = Number.NaN;
    if (rebuild) {
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
      afterSeed = await usedMemory(admin);
      // 1. Rebuild: what a replica without a cached graph does (read every relationship, build).
      const t = performance.now();
      const snapshot = await store.snapshot();
      const rels = await collectSnapshot(snapshot);
      built = GraphIndex.build(schema, rels, snapshot.revision);
      rebuildMs = performance.now() - t;
      rels.length = 0;
    } else {
      // One write so the store has a revision the snapshot can stand at.
      await store.write([
        {
          operation: 'touch',
          relationship: {
            resource: { type: 'group', id: 'seed' },
            relation: 'member',
            subject: { type: 'user', id: 'seed' },
          },
        },
      ]);
      built = GraphIndex.build(schema, dataset.relationships(), await store.revision());
      built.add({
        resource: { type: 'group', id: 'seed' },
        relation: 'member',
        subject: { type: 'user', id: 'seed' },
      });
    }
    const { epoch } = await store.identity();
    const n = built.relationshipCount;
    console.log(
      `redis-server, ${n} relationships (group-visibility seed ${values.seed})${rebuild ? '' : ', graph built in-process (--no-rebuild)'}`,
    );

    // 2. Publish one compiled snapshot and measure it.
    const cache = new GraphSnapshotCache({ redis: admin, keyPrefix: '{gatehouse:bench}' });
    const publisher = new RedisCompiledGraphSource({ cache });
    let t = performance.now();
    publisher.observe(built, schema, epoch);
    await publisher.settled();
    const publishMs = performance.now() - t;
    const afterSnapshot = await usedMemory(admin);
    const snapshotBytes = publisher.stats.lastPublishBytes;
    const builtRevision = built.revision;
    built = undefined as unknown as GraphIndex; // let it go before the loads

    // 3. Cold start from the snapshot (fetch + verify + decode), rounds alternating base/this.
    const loaders = [await loaderFrom(undefined, admin)];
    if (values.base !== undefined) loaders.unshift(await loaderFrom(values.base, admin));
    const results = new Map<string, Measured[]>(loaders.map((l) => [l.name, []]));
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? loaders : [...loaders].reverse();
      for (const loader of order) {
        (globalThis as { gc?: () => void }).gc?.();
        const [[graph, split], m] = await measure(admin, () => loader.load(schema, epoch));
        if (graph?.relationshipCount !== n) throw new Error(`${loader.name}: snapshot load failed`);
        results.get(loader.name)!.push({ ...m, ...split });
        console.log(
          `round ${round + 1} ${loader.name}: ${seconds(m.wallMs)} wall, ${m.cpuS.toFixed(2)} CPU s (fetch ${split.fetchCpuS.toFixed(2)}, decode ${split.decodeCpuS.toFixed(2)}), Redis ${m.redisCpuS.toFixed(2)} CPU s (load ${await uptime()})`,
        );
      }
    }
    console.log(
      `\n| cold start at ${n} | wall (median of ${rounds}) | per million | CPU s | CPU s per million | fetch / decode CPU s | Redis CPU s |`,
    );
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    if (rebuild) {
      console.log(
        `| rebuild from the relationships in Redis | ${seconds(rebuildMs)} | ${((rebuildMs / n) * 1e3).toFixed(2)} s | — | — | — | — |`,
      );
    }
    for (const [name, ms] of results) {
      const wall = median(ms.map((m) => m.wallMs));
      const cpu = median(ms.map((m) => m.cpuS));
      console.log(
        `| from the snapshot, ${name} | ${seconds(wall)} | ${((wall / n) * 1e3).toFixed(2)} s | ${cpu.toFixed(2)} | ${((cpu / n) * 1e6).toFixed(2)} | ${median(ms.map((m) => m.fetchCpuS ?? 0)).toFixed(2)} / ${median(ms.map((m) => m.decodeCpuS ?? 0)).toFixed(2)} | ${median(ms.map((m) => m.redisCpuS)).toFixed(2)} |`,
      );
    }
    const mine = median(results.get(loaders.at(-1)!.name)!.map((m) => m.wallMs));
    if (rebuild) console.log(`speed-up over the rebuild: ${(rebuildMs / mine).toFixed(1)}×`);
    console.log(
      `snapshot ${snapshotBytes} bytes (${(snapshotBytes / n).toFixed(1)} B/rel), published in ${seconds(publishMs)}`,
    );
    if (rebuild) {
      console.log(
        `Redis used_memory per relationship: store ${((afterSeed - baseline) / n).toFixed(1)} B, store + one snapshot ${((afterSnapshot - baseline) / n).toFixed(1)} B`,
      );
    }

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
    (globalThis as { gc?: () => void }).gc?.();
    t = performance.now();
    const cpu0 = cpuSeconds();
    const replica = await GraphReplica.start(schema, store, {
      engine: ENGINE,
      graphSource: new RedisCompiledGraphSource({ cache, everyChanges: 1e12, everyMs: 1e12 }),
    });
    const startedMs = performance.now() - t;
    const cpu1 = cpuSeconds();
    while (replica.revision < head) await new Promise((r) => setTimeout(r, 1));
    const replayMs = performance.now() - t - startedMs;
    const replayCpu = cpuSeconds() - cpu1;
    console.log(
      `\ncatch-up: ${changes} changes in ${head - builtRevision} revisions replayed in ${seconds(replayMs)} (${replayCpu.toFixed(2)} CPU s) after a ${seconds(startedMs)} (${(cpu1 - cpu0).toFixed(2)} CPU s) start from the snapshot: ${Math.round(changes / (replayMs / 1000))} changes/s wall, ${Math.round(changes / replayCpu)} per CPU-second (load ${await uptime()})`,
    );
    await replica.close();
  } finally {
    await store.close();
    admin.disconnect();
    await server.stop();
  }
}

await main();
