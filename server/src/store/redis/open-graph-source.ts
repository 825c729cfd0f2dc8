// Opens the compiled-graph cache `gatehouse serve --redis` uses: its own Redis client (chunk
// transfers must not queue behind the store's commands), keys under the store's hash tag; and
// the hook that re-seeds an emptied store from the freshest replica's graph.
import { randomBytes } from 'node:crypto';
import type { Cluster } from 'ioredis';
import type { Relationship } from '../../model/relationship.js';
import type { Logger } from '../../observability/logger.js';
import type { BulkEndpoint } from './bulk-value-reader.js';
import { GraphSnapshotCache } from './graph-snapshot-cache.js';
import { RedisCompiledGraphSource } from './graph-snapshot-source.js';
import { clusterSlotOf, openRedisClient, type RedisClient, slotMaster } from './redis-connection.js';
import { checkStoreName } from './redis-layout.js';
import { parseRedisUrl, type RedisTarget } from './redis-url.js';
import { electReseeder } from './reseed-election.js';

/** A compiled-graph source with the client it owns; `close()` waits for a publish in flight. */
export interface OpenedGraphSource {
  readonly source: RedisCompiledGraphSource;
  /** The GraphReplica `onEpochChanged` hook that re-seeds an emptied `store` from a replica's graph. */
  reseedHook(store: ReseedableStore): (change: ReseedChange) => Promise<void>;
  close(): Promise<void>;
}

/** What the re-seed hook needs of the store (RedisStore.seedIfEmpty). */
export interface ReseedableStore {
  seedIfEmpty(relationships: Iterable<Relationship>): Promise<boolean>;
}

/** The parts of GraphReplica's EpochChange the hook reads (kept structural: the store layer sits below the service). */
export interface ReseedChange {
  readonly current?: { readonly epoch: string } | undefined;
  readonly revision: number;
  readonly graph: { relationships(): Iterable<Relationship>; readonly relationshipCount: number };
}

/** How long one replica holds the right to re-seed a new epoch (the seed itself is atomic). */
const RESEED_LEASE_MS = 120_000;

export interface OpenGraphSourceOptions {
  readonly url: string;
  readonly storeName: string;
  readonly logger?: Logger | undefined;
  readonly connectTimeoutMs?: number | undefined;
  /**
   * How long replicas bid their revisions before the freshest re-seeds an emptied store. Every
   * replica notices a new epoch within its watcher's block time (1 s), so the default is 2 s.
   */
  readonly reseedBidWindowMs?: number | undefined;
}

const DEFAULT_RESEED_BID_WINDOW_MS = 2000;

/**
 * Where snapshot loads read their chunks over a connection of their own: the server the cache's
 * client is connected to right now (for Sentinel, the current master), with the same login; on a
 * Cluster, the master the client routes the store's slot to (`slot`: every snapshot key carries
 * the store's hash tag), where a GET answered MOVED after a slot move fails the read and the load
 * reads through the client. None over TLS (the reader speaks plain TCP).
 */
export function bulkEndpoint(
  target: RedisTarget,
  client: RedisClient,
  slot: number | undefined,
): BulkEndpoint | undefined {
  if (target.tls) return undefined;
  if (target.mode === 'cluster') {
    const master = slot === undefined ? undefined : slotMaster(client as Cluster, slot);
    if (master === undefined) return undefined;
    return { ...master, username: target.username, password: target.password, db: 0 };
  }
  if (!('stream' in client) || client.status !== 'ready') return undefined;
  const { remoteAddress, remotePort } = client.stream;
  if (remoteAddress === undefined || remotePort === undefined) return undefined;
  return {
    host: remoteAddress,
    port: remotePort,
    username: target.username,
    password: target.password,
    db: target.db,
  };
}

/** Connect a RedisCompiledGraphSource for `storeName` on the Redis named by `url`. */
export async function openGraphSource(options: OpenGraphSourceOptions): Promise<OpenedGraphSource> {
  checkStoreName(options.storeName);
  const target = parseRedisUrl(options.url);
  const client = await openRedisClient(target, {
    connectTimeoutMs: options.connectTimeoutMs ?? 1000,
    // A snapshot chunk is up to 256 KiB: allow a slow link more than the store's per-command bound.
    commandTimeoutMs: 10_000,
    reconnect: true,
    connectionName: `gatehouse:${options.storeName}:graph-cache`,
    logger: options.logger,
  });
  // On a Cluster, the store's slot, once: loads look up its master at each load. Without it they
  // read through the client.
  const slot =
    target.mode === 'cluster'
      ? await clusterSlotOf(client as Cluster, `{gatehouse:${options.storeName}}`).catch(() => undefined)
      : undefined;
  const cache = new GraphSnapshotCache({
    redis: client,
    keyPrefix: `{gatehouse:${options.storeName}}`,
    logger: options.logger,
    bulkEndpoint: () => bulkEndpoint(target, client, slot),
  });
  const source = new RedisCompiledGraphSource({ cache, logger: options.logger });
  const tag = `{gatehouse:${options.storeName}}`;
  const log = options.logger;
  const replicaId = randomBytes(8).toString('hex');
  const bidWindowMs = options.reseedBidWindowMs ?? DEFAULT_RESEED_BID_WINDOW_MS;
  return {
    source,
    reseedHook: (store) => async (change) => {
      if (change.current === undefined) return; // store unreachable: the replica resyncs later
      const epoch = change.current.epoch;
      // The freshest replica (highest applied revision) wins; the seed only lands in an empty
      // store, so data written meanwhile in the new epoch is never overwritten.
      const verdict = await electReseeder({
        redis: client,
        key: `${tag}:reseed:${epoch}`,
        candidate: replicaId,
        revision: change.revision,
        leaseMs: RESEED_LEASE_MS,
        waitForBids: () => new Promise((resolve) => setTimeout(resolve, bidWindowMs)),
      });
      if (!verdict.elected) {
        log?.info(
          {
            epoch,
            revision: change.revision,
            freshestReplica: verdict.freshest,
            freshestRevision: verdict.freshestRevision,
          },
          'a fresher replica (or the first to bid) re-seeds the emptied store',
        );
        return;
      }
      const seeded = await store.seedIfEmpty(change.graph.relationships());
      log?.warn(
        {
          epoch,
          seeded,
          fromRevision: change.revision,
          relationships: change.graph.relationshipCount,
        },
        seeded
          ? "re-seeded the emptied store from this replica's graph"
          : 'the new epoch already had data: not re-seeded',
      );
    },
    close: async () => {
      await source.settled().catch(() => undefined);
      client.disconnect();
    },
  };
}
