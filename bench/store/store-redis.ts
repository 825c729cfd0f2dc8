// RedisStore write speed and Redis memory per relationship, against a redis-server this script
// starts on a free loopback port (never 6379) and stops: loads N relationships of the
// group-visibility dataset through the store in batches (relationships/s), then reads Redis's
// own accounting (INFO memory, MEMORY USAGE per key: the version hash, the changelog and the
// relationship images the store published meanwhile), then runs single-relationship writes from
// C concurrent callers (writes/s).
//
// Run: npx tsx bench/store/store-redis.ts --size 1m [--batch 1000] [--concurrency 16]
//      [--inflight 1] [--singles 20000] [--retention 10000] [--aof no|everysec|always] [--seed 1]
//      [--image-every 50000]   (relationship images every N revisions: the store's default; with
//      fewer revisions than that in the load no image exists, and the changelog keeps every change)
//      [--probe-reads MS]      (during the load, read one object through the writing store every MS
//      ms and report those reads' latency: what images published meanwhile cost its readers)
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import type { Relationship } from '../../server/src/model/relationship.js';
import { storeKeys } from '../../server/src/store/redis/redis-layout.js';
import { RedisStore } from '../../server/src/store/redis/redis-store.js';
import type { RelationshipUpdate } from '../../server/src/store/store.js';
import { RedisServer } from '../../test/support/redis-server.js';
import { generateGroupVisibility } from '../datasets/group-visibility.js';
import { parseSize } from '../engine/bench-support.js';
import { redisCpuSeconds } from './redis-cpu.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '1m' },
    seed: { type: 'string', default: '1' },
    batch: { type: 'string', default: '1000' },
    inflight: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '16' },
    singles: { type: 'string', default: '20000' },
    retention: { type: 'string', default: '10000' },
    aof: { type: 'string', default: 'no' },
    'image-every': { type: 'string', default: '50000' },
    'probe-reads': { type: 'string', default: '0' },
  },
});

const touch = (relationship: Relationship): RelationshipUpdate => ({ operation: 'touch', relationship });
const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN);
}

/** MEMORY USAGE summed over the keys matching `pattern` (and how many there are). */
async function usageOf(redis: Redis, pattern: string): Promise<{ bytes: number; keys: number }> {
  let bytes = 0;
  let keys = 0;
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    for (const key of found) {
      bytes += Number(await redis.memory('USAGE', key, 'SAMPLES', '0'));
      keys++;
    }
    cursor = next;
  } while (cursor !== '0');
  return { bytes, keys };
}

/** Waits until no relationship image is being published (its lease is free twice in a row). */
async function imagesSettled(redis: Redis, store: string): Promise<void> {
  for (let quiet = 0; quiet < 2; ) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    quiet = (await redis.exists(`{gatehouse:${store}}:image:lease`)) === 0 ? quiet + 1 : 0;
  }
}

/** This process's CPU seconds (user + sys) so far. */
function clientCpu(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** CPU per unit of both sides of a phase: where the time goes. */
function cpuLine(units: number, unit: string, redisSeconds: number, clientSeconds: number): string {
  const us = (s: number): string => ((s * 1e6) / units).toFixed(1);
  return `  CPU per ${unit}: Redis ${us(redisSeconds)} µs, client ${us(clientSeconds)} µs`;
}

async function main(): Promise<void> {
  const size = parseSize(values.size);
  const batch = Number(values.batch);
  // Batch writes in flight at once: above 1 the client builds the next while Redis runs one.
  const inflight = Number(values.inflight);
  const concurrency = Number(values.concurrency);
  const singles = Number(values.singles);
  const retention = Number(values.retention);
  const aof = values.aof;
  const config: Record<string, string> =
    aof === 'no' ? {} : { appendonly: 'yes', appendfsync: aof, 'aof-use-rdb-preamble': 'yes' };
  const server = await RedisServer.start({ config });
  const admin = new Redis(server.port, '127.0.0.1');
  try {
    const version = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1];
    console.log(`redis-server ${version}, AOF ${aof}, changelog retention ${retention}`);
    const dataset = generateGroupVisibility({ relationships: size, seed: Number(values.seed) });
    const relationships = [...dataset.relationships()];
    const baseline = await usedMemory(admin);

    // 1. Batches: the whole dataset, `batch` touches per write (one revision each).
    const store = await RedisStore.connect({
      url: server.url,
      storeName: 'bench',
      changelogRetention: retention,
      commandTimeoutMs: 30_000,
      imageEveryChanges: Number(values['image-every']),
    });
    let pending: RelationshipUpdate[] = [];
    let loaded = 0;
    let writes = 0;
    const running = new Set<Promise<void>>();
    const send = async (updates: RelationshipUpdate[]): Promise<void> => {
      const p = store.write(updates).then((c) => {
        loaded += c.changes.length;
        writes++;
        running.delete(p);
      });
      running.add(p);
      if (running.size >= inflight) await Promise.race(running);
    };
    const probeMs = Number(values['probe-reads']);
    const readLatencies: number[] = [];
    let probing = probeMs > 0;
    const prober = (async (): Promise<void> => {
      while (probing) {
        const t = performance.now();
        await store.read({ resourceType: 'document', resourceId: 'd1' }, { limit: 10 });
        readLatencies.push(performance.now() - t);
        await new Promise((resolve) => setTimeout(resolve, probeMs));
      }
    })();
    const redisCpu0 = await redisCpuSeconds(admin);
    const clientCpu0 = clientCpu();
    const started = performance.now();
    const loop0 = performance.eventLoopUtilization();
    for (const r of relationships) {
      pending.push(touch(r));
      if (pending.length === batch) {
        await send(pending);
        pending = [];
      }
    }
    if (pending.length > 0) await send(pending);
    await Promise.all(running);
    const batchSeconds = (performance.now() - started) / 1000;
    const batchClientCpu = clientCpu() - clientCpu0;
    const batchRedisCpu = (await redisCpuSeconds(admin)) - redisCpu0;
    console.log(
      `batches of ${batch} (${inflight} in flight): ${loaded} relationships in ${writes} writes, ${batchSeconds.toFixed(1)} s = ${Math.round(loaded / batchSeconds)} relationships/s`,
    );
    console.log(cpuLine(loaded, 'relationship', batchRedisCpu, batchClientCpu));
    // Near 1: the writing process is the bottleneck. Well below it with Redis's CPU low too: the
    // two wait for each other (what pipelining with --inflight 2 or more is for).
    const loop = performance.eventLoopUtilization(loop0).utilization;
    console.log(`  event loop busy ${(loop * 100).toFixed(0)}% of the load (the writing process)`);
    probing = false;
    await prober;
    if (readLatencies.length > 0) {
      const sorted = readLatencies.sort((a, b) => a - b);
      const at = (q: number): string =>
        (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number).toFixed(1);
      console.log(
        `  reads through the writing store during the load (one every ${probeMs} ms): ${sorted.length}, p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`,
      );
    }

    // 2. Memory, as Redis accounts it, once the images published during the load have settled.
    // The changelog is as the load left it: trimmed only behind the images, when a write crosses
    // another sixteenth of changelogMaxBytes.
    await imagesSettled(admin, 'bench');
    const total = (await usedMemory(admin)) - baseline;
    const keys = storeKeys('bench');
    const versions =
      Number(await admin.memory('USAGE', keys.versions, 'SAMPLES', '0')) +
      Number((await admin.memory('USAGE', keys.previousVersions, 'SAMPLES', '0')) ?? 0);
    const versionFields = (await admin.hlen(keys.versions)) + (await admin.hlen(keys.previousVersions));
    const changelog = Number(await admin.memory('USAGE', keys.changelog, 'SAMPLES', '0'));
    const images = await usageOf(admin, '{gatehouse:bench}:image:*');
    const imageCount = await admin.zcard(keys.images);
    const logLength = await admin.xlen(keys.changelog);
    const per = (bytes: number): string => `${mb(bytes)} = ${Math.round(bytes / loaded)} B/relationship`;
    console.log(`used_memory growth: ${per(total)}`);
    console.log(`  versions, both generations ${per(versions)} (${versionFields} fields)`);
    console.log(`  changelog stream ${per(changelog)}, holding ${logLength} change sets`);
    console.log(`  relationship images ${per(images.bytes)} (${imageCount} kept, ${images.keys} keys)`);

    // 3. Single-relationship writes from `concurrency` callers, on a separate store.
    const singlesStore = await RedisStore.connect({ url: server.url, storeName: 'bench-singles' });
    let next = 0;
    const singlesRedisCpu0 = await redisCpuSeconds(admin);
    const singlesClientCpu0 = clientCpu();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < singles; i = next++) {
          await singlesStore.write([
            touch({
              resource: { type: 'document', id: `s${i}` },
              relation: 'viewer',
              subject: { type: 'user', id: `u${i % 1000}` },
            }),
          ]);
        }
      }),
    );
    const singleSeconds = (performance.now() - t0) / 1000;
    const singlesClientCpu = clientCpu() - singlesClientCpu0;
    const singlesRedisCpu = (await redisCpuSeconds(admin)) - singlesRedisCpu0;
    console.log(
      `single-relationship writes at c=${concurrency}: ${singles} in ${singleSeconds.toFixed(1)} s = ${Math.round(singles / singleSeconds)} writes/s`,
    );
    console.log(cpuLine(singles, 'write', singlesRedisCpu, singlesClientCpu));
    await Promise.all([store.close(), singlesStore.close()]);
  } finally {
    admin.disconnect();
    await server.stop();
  }
}

await main();
