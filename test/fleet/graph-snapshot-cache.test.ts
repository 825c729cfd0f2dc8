// GraphSnapshotCache against a real Redis (standalone and a three-master Cluster): bytes come back
// exactly, only the newest two are kept, one publisher at a time, and a corrupt or truncated entry
// is reported and dropped rather than returned.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphIndex } from '../../server/src/graph/graph-index.js';
import { createLogger } from '../../server/src/observability/logger.js';
import {
  GraphSnapshotCache,
  type GraphSnapshotCacheOptions,
  type SnapshotRedis,
  SnapshotSchedule,
} from '../../server/src/store/redis/graph-snapshot-cache.js';
import type { RedisCompiledGraphSource } from '../../server/src/store/redis/graph-snapshot-source.js';
import { openGraphSource } from '../../server/src/store/redis/open-graph-source.js';
import { fixturePolicySet } from '../service/fixture.js';
import { RedisCluster, RedisServer } from '../support/redis-server.js';
import { waitUntil } from '../support/wait-until.js';

let redis: RedisServer;
let client: Redis;
let prefixCounter = 0;
const freshPrefix = (): string => `{gatehouse:snaptest${prefixCounter++}}`;

beforeAll(async () => {
  redis = await RedisServer.start();
  client = new Redis(redis.port, '127.0.0.1');
});
afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

function split(bytes: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const size of sizes) {
    if (offset >= bytes.length) break;
    parts.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  if (offset < bytes.length) parts.push(bytes.subarray(offset));
  return parts;
}

// Every behaviour holds whichever way a load reads its chunks: through the shared client, or over
// the cache's own connection (bulk-value-reader.ts), which falls back to the client on any doubt.
describe.each([
  ['through the client', false],
  ['over its own connection', true],
])('GraphSnapshotCache, loads reading %s', (_name, ownConnection) => {
  const newCache = (options: Omit<GraphSnapshotCacheOptions, 'redis'>): GraphSnapshotCache =>
    new GraphSnapshotCache({
      redis: client,
      ...options,
      ...(ownConnection ? { bulkEndpoint: () => ({ host: '127.0.0.1', port: redis.port, db: 0 }) } : {}),
    });

  it('returns exactly the bytes published, chunk for chunk, however they were split', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 0, maxLength: 5000 }),
        fc.array(fc.integer({ min: 1, max: 700 }), { maxLength: 20 }),
        fc.integer({ min: 1, max: 1024 }),
        async (bytes, sizes, chunkBytes) => {
          const cache = newCache({ keyPrefix: freshPrefix(), chunkBytes });
          const key = { schemaHash: 'h1', epoch: 'e1', revision: 7 };
          expect(await cache.publish(key, split(bytes, sizes))).toBe('published');
          const loaded = await cache.loadNewest('h1', 'e1');
          expect(loaded.status).toBe('hit');
          if (loaded.status === 'hit')
            expect(Buffer.concat(loaded.chunks).equals(Buffer.from(bytes))).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('writes no chunk larger than chunkBytes', async () => {
    const prefix = freshPrefix();
    const cache = newCache({ keyPrefix: prefix, chunkBytes: 1000 });
    const key = { schemaHash: 'h', epoch: 'e', revision: 1 };
    await cache.publish(key, [randomBytes(2500), randomBytes(1821)]);
    const lengths: number[] = [];
    for (let i = 0; ; i++) {
      const len = await client.strlen(cache.chunkKey(key, i));
      if (len === 0) break;
      lengths.push(len);
    }
    expect(lengths).toEqual([1000, 1000, 500, 1000, 821]);
  });

  it('keeps the newest two per schema hash and pins the changelog at the oldest kept', async () => {
    const cache = newCache({ keyPrefix: freshPrefix() });
    for (const revision of [10, 20, 30]) {
      expect(
        await cache.publish({ schemaHash: 'a', epoch: 'e', revision }, [Buffer.from(`a${revision}`)]),
      ).toBe('published');
    }
    await cache.publish({ schemaHash: 'b', epoch: 'e', revision: 25 }, [Buffer.from('b25')]);
    expect((await cache.list('a')).map((k) => k.revision)).toEqual([30, 20]);
    expect(await cache.oldestNeededRevision()).toBe(20);
    const hit = await cache.loadNewest('a', 'e');
    expect(hit.status === 'hit' && Buffer.concat(hit.chunks).toString()).toBe('a30');
    const older = await cache.loadNewest('a', 'e', 29);
    expect(older.status === 'hit' && Buffer.concat(older.chunks).toString()).toBe('a20');
    expect(await cache.publish({ schemaHash: 'a', epoch: 'e', revision: 30 }, [Buffer.from('x')])).toBe(
      'exists',
    );
  });

  it('lets one replica publish at a time', async () => {
    const prefix = freshPrefix();
    const first = newCache({ keyPrefix: prefix });
    const second = newCache({ keyPrefix: prefix });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* slow(): AsyncIterable<Uint8Array> {
      yield Buffer.from('part one');
      await gate;
      yield Buffer.from('part two');
    }
    const publishing = first.publish({ schemaHash: 'h', epoch: 'e', revision: 1 }, slow());
    // The first publisher holds the lease until its iterator finishes.
    await waitUntil(
      'the first publisher to hold the lease',
      async () => (await client.exists(`${prefix}:gsnap:lease`)) === 1,
    );
    expect(await second.publish({ schemaHash: 'h', epoch: 'e', revision: 2 }, [Buffer.from('y')])).toBe(
      'lease-held',
    );
    release();
    expect(await publishing).toBe('published');
    expect(await second.publish({ schemaHash: 'h', epoch: 'e', revision: 2 }, [Buffer.from('y')])).toBe(
      'published',
    );
  });

  it('reports a corrupted chunk, drops the entry, and never returns its bytes', async () => {
    const cache = newCache({ keyPrefix: freshPrefix(), chunkBytes: 100 });
    const key = { schemaHash: 'h', epoch: 'e', revision: 5 };
    await cache.publish(key, [randomBytes(1000)]);
    const original = await client.getBuffer(cache.chunkKey(key, 3));
    const flipped = Buffer.from(original!);
    flipped[17] = (flipped[17]! + 1) % 256;
    await client.set(cache.chunkKey(key, 3), flipped);
    const result = await cache.loadNewest('h', 'e');
    expect(result).toMatchObject({ status: 'corrupt', reason: 'checksum mismatch' });
    expect(await cache.loadNewest('h', 'e')).toEqual({ status: 'miss' });
    expect(await client.exists(cache.chunkKey(key, 0))).toBe(0);
  });

  it('checks an entry written before the CRC-32 (SHA-256 only) by its SHA-256', async () => {
    const cache = newCache({ keyPrefix: freshPrefix(), chunkBytes: 100 });
    const intact = { schemaHash: 'h', epoch: 'e', revision: 1 };
    const bytes = randomBytes(1000);
    await cache.publish(intact, [bytes]);
    const meta = (key: typeof intact): string => cache.chunkKey(key, 0).replace(/:c:0$/, ':meta');
    expect(await client.hdel(meta(intact), 'crc32')).toBe(1);
    const loaded = await cache.loadNewest('h', 'e');
    expect(loaded.status).toBe('hit');
    expect(Buffer.concat(loaded.status === 'hit' ? loaded.chunks : [])).toEqual(bytes);
    const altered = { schemaHash: 'h', epoch: 'e', revision: 2 };
    await cache.publish(altered, [bytes]);
    await client.hdel(meta(altered), 'crc32');
    const chunk = Buffer.from((await client.getBuffer(cache.chunkKey(altered, 2)))!);
    chunk[5] = (chunk[5]! + 1) % 256;
    await client.set(cache.chunkKey(altered, 2), chunk);
    expect(await cache.loadNewest('h', 'e')).toMatchObject({
      status: 'corrupt',
      reason: 'checksum mismatch',
    });
  });

  it('reports a truncated entry (a chunk gone, or cut short)', async () => {
    const cache = newCache({ keyPrefix: freshPrefix(), chunkBytes: 100 });
    const gone = { schemaHash: 'h', epoch: 'e', revision: 1 };
    await cache.publish(gone, [randomBytes(500)]);
    await client.del(cache.chunkKey(gone, 4));
    expect(await cache.loadNewest('h', 'e')).toMatchObject({
      status: 'corrupt',
      reason: 'chunk 4 of 5 is missing',
    });
    const short = { schemaHash: 'h', epoch: 'e', revision: 2 };
    await cache.publish(short, [randomBytes(500)]);
    await client.set(cache.chunkKey(short, 4), randomBytes(40));
    expect(await cache.loadNewest('h', 'e')).toMatchObject({ status: 'corrupt' });
  });

  it('never returns a snapshot from another store epoch', async () => {
    const cache = newCache({ keyPrefix: freshPrefix() });
    await cache.publish({ schemaHash: 'h', epoch: 'old', revision: 9 }, [Buffer.from('old')]);
    expect(await cache.loadNewest('h', 'new')).toEqual({ status: 'miss' });
  });

  it('refuses keys that would escape the key layout', async () => {
    const cache = newCache({ keyPrefix: freshPrefix() });
    await expect(cache.publish({ schemaHash: 'a:b', epoch: 'e', revision: 1 }, [])).rejects.toThrow(
      RangeError,
    );
    await expect(cache.publish({ schemaHash: 'a', epoch: 'e', revision: -1 }, [])).rejects.toThrow(
      RangeError,
    );
  });
});

describe('GraphSnapshotCache on a Redis Cluster', () => {
  let cluster: RedisCluster;
  let clusterClient: SnapshotRedis;
  beforeAll(async () => {
    cluster = await RedisCluster.start();
    clusterClient = new Cluster(cluster.nodes.map((n) => ({ host: n.host, port: n.port })));
  });
  afterAll(async () => {
    clusterClient?.disconnect();
    await cluster?.stop();
  });

  it('keeps every key of a store on one slot (no CROSSSLOT) and round-trips', async () => {
    for (const store of ['default', 'tenant-a', 'tenant-b']) {
      const cache = new GraphSnapshotCache({
        redis: clusterClient,
        keyPrefix: `{gatehouse:${store}}`,
        chunkBytes: 64,
      });
      const bytes = randomBytes(1000);
      for (const revision of [1, 2, 3]) {
        expect(await cache.publish({ schemaHash: 'h', epoch: 'e', revision }, [bytes])).toBe('published');
      }
      const hit = await cache.loadNewest('h', 'e');
      expect(hit.status === 'hit' && Buffer.concat(hit.chunks).equals(bytes)).toBe(true);
      expect((await cache.list('h')).length).toBe(2);
    }
  });

  it('loads a replica snapshot over a connection of its own to the master of the store slot', async () => {
    const set = fixturePolicySet();
    const graph = GraphIndex.build(
      set.schema,
      set.relationships.map((r) => r.relationship),
      7,
    );
    const lines: string[] = [];
    const logger = createLogger('debug', { write: (line: string) => void lines.push(line) });
    const opened = await Promise.all(
      [0, 1].map(() => openGraphSource({ url: cluster.url, storeName: 'bulk-cluster', logger })),
    );
    try {
      const [publisher, joiner] = opened.map((o) => o.source) as [
        RedisCompiledGraphSource,
        RedisCompiledGraphSource,
      ];
      publisher.observe(graph, set.schema, 'e1');
      await publisher.settled();
      const loaded = await joiner.load(set.schema, 'e1');
      expect(loaded?.relationshipCount).toBe(graph.relationshipCount);
      expect(joiner.stats.hits).toBe(1);
      expect(lines.filter((l) => l.includes('reading through the client'))).toEqual([]);
      // It read over its own connection, from the master that holds the store's slot.
      const own = lines
        .map((l) => JSON.parse(l) as { msg?: string; port?: number })
        .filter((l) => l.msg === 'snapshot read over its own connection');
      expect(own).toHaveLength(1);
      const slot = String(await clusterClient.call('CLUSTER', 'KEYSLOT', '{gatehouse:bulk-cluster}'));
      const holder = cluster.nodes.find((node) => node.port === own[0]?.port);
      expect(holder).toBeDefined();
      expect(Number(await holder?.cli('CLUSTER', 'COUNTKEYSINSLOT', slot))).toBeGreaterThan(0);
    } finally {
      await Promise.all(opened.map((o) => o.close()));
    }
  });
});

describe('SnapshotSchedule', () => {
  it('is due after N changes or T ms with a change, never without one', () => {
    const schedule = new SnapshotSchedule({ everyChanges: 100, everyMs: 60_000, revision: 50, now: 0 });
    expect(schedule.due(50, 1_000_000)).toBe(false);
    expect(schedule.due(149, 1000)).toBe(false);
    expect(schedule.due(150, 1000)).toBe(true);
    expect(schedule.due(51, 60_000)).toBe(true);
    schedule.published(150, 1000);
    expect(schedule.due(160, 2000)).toBe(false);
    expect(schedule.due(160, 61_000)).toBe(true);
  });
});
