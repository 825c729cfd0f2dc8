// The store factory of `gatehouse serve`: the embedded memory store, seeded with the policy
// files' relationships, or with `--redis` a RedisStore, loaded by a dynamic import so the
// embedded default never loads a Redis client, and seeded only when it is empty. With
// `--data-dir` the memory store is a DurableStore, seeded only when the directory is new.

import type { Relationship } from '../model/relationship.js';
import type { Logger } from '../observability/logger.js';
import type { RedisMetricsSource } from '../observability/redis-metrics.js';
import { MemoryStore } from './memory-store.js';
import type { OpenedGraphSource, OpenGraphSourceOptions } from './redis/open-graph-source.js';
import type { Store } from './store.js';

/** What the factory needs of the config. */
export interface StoreSettings {
  readonly redis: string | undefined;
  readonly store: string;
  readonly redisWaitReplicas: number;
  /** The Redis changelog's bounds (RedisStore's changelogRetention / changelogMaxBytes); undefined: its defaults. */
  readonly redisChangelogRetention?: number | undefined;
  readonly redisChangelogMaxBytes?: number | undefined;
  /** With the memory store: the data directory that makes it durable (write-ahead log + snapshot). */
  readonly dataDir?: string | undefined;
}

/** The surface of server/src/store/redis/redis-store.ts this factory uses (see STORE-CONTRACT). */
export interface RedisStoreOptions {
  readonly url: string;
  readonly storeName: string;
  readonly waitReplicas?: number;
  readonly connectTimeoutMs?: number;
  readonly logger?: Logger;
  readonly changelogRetention?: number | undefined;
  readonly changelogMaxBytes?: number | undefined;
}

export interface SeedableStore extends Store {
  /** Writes `relationships` only if the store is empty (atomic); false when another replica won. */
  seedIfEmpty(relationships: Iterable<Relationship>): Promise<boolean>;
}

export interface RedisStoreModule {
  readonly RedisStore: { connect(options: RedisStoreOptions): Promise<SeedableStore & RedisMetricsSource> };
}

/** Loads the Redis store module; a parameter so tests can stand one in. */
export type RedisModuleLoader = () => Promise<RedisStoreModule>;

// A variable specifier keeps the compiler (and bundlers) from resolving the module eagerly.
const REDIS_MODULE = './redis/redis-store.js';
const loadRedisModule: RedisModuleLoader = () => import(REDIS_MODULE) as Promise<RedisStoreModule>;

export interface CreatedStore {
  readonly store: Store;
  /** Whether the policy relationships were written (memory: always; Redis: only into an empty store). */
  readonly seeded: boolean;
  /** With --redis: the compiled-graph cache in the same Redis; the caller closes it after the store. */
  readonly graphSource?: OpenedGraphSource | undefined;
  /** With --redis: re-seeds the store from the replica's graph when Redis comes back empty. */
  readonly onEpochChanged?: ReturnType<OpenedGraphSource['reseedHook']> | undefined;
  /** With --redis: the store's errors, reconnects and changelog length, for /metrics. */
  readonly redisMetrics?: RedisMetricsSource | undefined;
}

/** Opens the Redis compiled-graph cache; a parameter so tests can stand one in. */
export type GraphSourceOpener = (options: OpenGraphSourceOptions) => Promise<OpenedGraphSource>;

const GRAPH_SOURCE_MODULE = './redis/open-graph-source.js';
const openRedisGraphSource: GraphSourceOpener = async (o) =>
  ((await import(GRAPH_SOURCE_MODULE)) as { openGraphSource: GraphSourceOpener }).openGraphSource(o);

/** The policy files' relationships, in chunks (bulk files are streamed, never held whole). */
export type SeedChunks = AsyncIterable<readonly Relationship[]> | Iterable<readonly Relationship[]>;

/**
 * Open the configured store and seed it with `seed` (the policy files' `kind: relationships`
 * data) when it is empty. The seed is never re-applied over live data. A PolicyError from the
 * seed (a bad line in a bulk file) propagates, and nothing is left open.
 */
export async function createStore(
  settings: StoreSettings,
  seed: SeedChunks,
  options: {
    readonly logger?: Logger;
    readonly loadRedis?: RedisModuleLoader;
    readonly openGraphSource?: GraphSourceOpener;
  } = {},
): Promise<CreatedStore> {
  if (settings.redis === undefined && settings.dataDir !== undefined) {
    // Seeded only when the directory is new: the log and snapshot are the data from then on.
    const { DurableStore } = await import('./durable/durable-store.js');
    return DurableStore.open(
      {
        dataDir: settings.dataDir,
        storeName: settings.store,
        ...(options.logger === undefined ? {} : { logger: options.logger }),
      },
      toAsync(seed),
    );
  }
  if (settings.redis === undefined) {
    const store = await MemoryStore.withRelationshipChunks(toAsync(seed), { storeName: settings.store });
    return { store, seeded: true };
  }
  const { RedisStore } = await (options.loadRedis ?? loadRedisModule)();
  const store = await RedisStore.connect({
    url: settings.redis,
    storeName: settings.store,
    waitReplicas: settings.redisWaitReplicas,
    changelogRetention: settings.redisChangelogRetention,
    changelogMaxBytes: settings.redisChangelogMaxBytes,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  let graphSource: OpenedGraphSource | undefined;
  try {
    graphSource = await (options.openGraphSource ?? openRedisGraphSource)({
      url: settings.redis,
      storeName: settings.store,
      logger: options.logger,
    });
    // Redis seeds in one atomic step, so the set is gathered first (only when it is empty,
    // where the seed is all the data there is).
    const onEpochChanged = graphSource.reseedHook(store);
    const opened = { store, graphSource, onEpochChanged, redisMetrics: store };
    if ((await store.revision()) !== 0) return { ...opened, seeded: false };
    const all: Relationship[] = [];
    for await (const chunk of toAsync(seed)) for (const r of chunk) all.push(r);
    return { ...opened, seeded: await store.seedIfEmpty(all) };
  } catch (err) {
    await graphSource?.close();
    await store.close();
    throw err;
  }
}

async function* toAsync(chunks: SeedChunks): AsyncGenerator<readonly Relationship[]> {
  yield* chunks;
}
