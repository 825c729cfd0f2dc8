// The store factory: the memory store seeded with the policy relationships as its first
// revision, or (with a Redis URL) the Redis module's store, connected with the config's
// settings and seeded only when empty. The Redis module is stood in for here; its own tests
// (branch redis) run it against real redis-server processes.

import { expect, it } from 'vitest';
import { parseRelationship } from '../../server/src/model/relationship.js';
import type { RedisMetricsSource } from '../../server/src/observability/redis-metrics.js';
import type { RedisStoreOptions, SeedableStore } from '../../server/src/store/create-store.js';
import { createStore } from '../../server/src/store/create-store.js';
import { collectSnapshot, MemoryStore } from '../../server/src/store/index.js';

const seed = ['doc:a#viewer@user:x', 'doc:b#viewer@user:y'].map((s) => parseRelationship(s));

it('opens a memory store named by the config, holding the seed at revision 1', async () => {
  const { store, seeded } = await createStore({ redis: undefined, store: 'crm', redisWaitReplicas: 0 }, [
    seed,
  ]);
  expect(seeded).toBe(true);
  expect(store.kind).toBe('memory');
  expect((await store.identity()).name).toBe('crm');
  expect(await store.revision()).toBe(1);
  expect(await collectSnapshot(await store.snapshot())).toHaveLength(2);
  await store.close();
});

it('connects the Redis module with the config settings and seeds only an empty store', async () => {
  const connected: RedisStoreOptions[] = [];
  const seededWith: number[] = [];
  const inner = new MemoryStore();
  const fake = Object.assign(inner, {
    seedIfEmpty: async (rels: Iterable<unknown>): Promise<boolean> => {
      seededWith.push([...rels].length);
      return false; // another replica seeded first
    },
    stats: () => ({ errors: {}, reconnects: 0 }),
    changelogLength: async () => 0,
  }) as MemoryStore & SeedableStore & RedisMetricsSource;
  const opened: unknown[] = [];
  const { store, seeded, graphSource, redisMetrics } = await createStore(
    {
      redis: 'redis://127.0.0.1:7777/0',
      store: 'crm',
      redisWaitReplicas: 2,
      redisChangelogRetention: 500,
      redisChangelogMaxBytes: 0,
    },
    [seed],
    {
      openGraphSource: async (options) => {
        opened.push(options);
        return { source: {} as never, reseedHook: () => async () => undefined, close: async () => undefined };
      },
      loadRedis: async () => ({
        RedisStore: {
          connect: async (options) => {
            connected.push(options);
            return fake;
          },
        },
      }),
    },
  );
  expect(store).toBe(fake);
  expect(seeded).toBe(false);
  expect(connected).toEqual([
    {
      url: 'redis://127.0.0.1:7777/0',
      storeName: 'crm',
      waitReplicas: 2,
      changelogRetention: 500,
      changelogMaxBytes: 0,
    },
  ]);
  expect(seededWith).toEqual([2]);
  // The compiled-graph cache lives in the same Redis, under the same store name.
  expect(opened).toEqual([{ url: 'redis://127.0.0.1:7777/0', storeName: 'crm', logger: undefined }]);
  expect(graphSource).toBeDefined();
  // The store's own series (errors, reconnects, changelog length) go to /metrics.
  expect(redisMetrics).toBe(fake);
});

it('closes the Redis store and the graph cache again when seeding fails', async () => {
  let closed = false;
  let cacheClosed = false;
  const inner = new MemoryStore();
  const fake = Object.assign(inner, {
    seedIfEmpty: async (): Promise<boolean> => {
      throw new Error('READONLY');
    },
    close: async (): Promise<void> => {
      closed = true;
    },
    stats: () => ({ errors: {}, reconnects: 0 }),
    changelogLength: async () => 0,
  }) as MemoryStore & SeedableStore & RedisMetricsSource;
  await expect(
    createStore({ redis: 'redis://h:1', store: 'default', redisWaitReplicas: 0 }, [seed], {
      loadRedis: async () => ({ RedisStore: { connect: async () => fake } }),
      openGraphSource: async () => ({
        source: {} as never,
        reseedHook: () => async () => undefined,
        close: async () => {
          cacheClosed = true;
        },
      }),
    }),
  ).rejects.toThrow('READONLY');
  expect(closed).toBe(true);
  expect(cacheClosed).toBe(true);
});
