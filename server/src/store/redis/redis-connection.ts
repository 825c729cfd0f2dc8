// Opens ioredis connections for a parsed --redis target so that nothing ever waits for a
// Redis that is not there: no offline queue (a command while disconnected fails at once), a
// connect timeout and a command timeout, and background reconnects for the shared client.
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { UnavailableError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { REDIS_ERROR_KINDS } from '../../observability/redis-metrics.js';
import type { RedisAddress, RedisTarget } from './redis-url.js';

export type RedisClient = Redis | Cluster;

export interface ConnectionOptions {
  readonly connectTimeoutMs: number;
  /** A command without a reply after this long fails (the connection is then presumed dead). */
  readonly commandTimeoutMs: number;
  /** Reconnect in the background (the shared client) or fail for good on loss (a watcher's). */
  readonly reconnect: boolean;
  readonly connectionName: string;
  readonly logger?: Logger | undefined;
  /**
   * Send the commands issued in one event-loop turn in one socket write (ioredis auto-
   * pipelining). On the shared connection, where concurrent writes each send a script: a write
   * syscall on loopback costs ~100 µs here, more than the script itself. Not on a watcher's
   * connections, which send one command at a time.
   */
  readonly autoPipelining?: boolean | undefined;
}

/** Background reconnect delay: quick first retries, capped so a returning Redis is seen within a second. */
function retryDelay(times: number): number {
  return Math.min(50 * 2 ** Math.min(times, 5), 1000);
}

export async function openRedisClient(target: RedisTarget, options: ConnectionOptions): Promise<RedisClient> {
  const { Cluster, Redis } = await import('ioredis');
  const common: RedisOptions = {
    username: target.username,
    password: target.password,
    tls: target.tls ? {} : undefined,
    connectTimeout: options.connectTimeoutMs,
    commandTimeout: options.commandTimeoutMs,
    connectionName: options.connectionName,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableAutoPipelining: options.autoPipelining === true,
  };
  const retryStrategy = options.reconnect ? retryDelay : (): null => null;
  let client: RedisClient;
  if (target.mode === 'cluster') {
    client = new Cluster(
      target.nodes.map((n) => ({ host: n.host, port: n.port })),
      {
        redisOptions: common,
        enableOfflineQueue: false,
        clusterRetryStrategy: retryStrategy,
        slotsRefreshTimeout: options.connectTimeoutMs,
        lazyConnect: true,
        enableAutoPipelining: options.autoPipelining === true,
      },
    );
  } else if (target.mode === 'sentinel') {
    client = new Redis({
      ...common,
      sentinels: target.sentinels.map((s) => ({ host: s.host, port: s.port })),
      name: target.masterName,
      db: target.db,
      enableTLSForSentinelMode: target.tls,
      enableOfflineQueue: false,
      retryStrategy,
      sentinelRetryStrategy: options.reconnect ? retryDelay : (): null => null,
    });
  } else {
    client = new Redis({
      ...common,
      host: target.address.host,
      port: target.address.port,
      db: target.db,
      enableOfflineQueue: false,
      retryStrategy,
    });
  }
  watchErrors(client, options);
  try {
    await client.connect();
  } catch (err) {
    client.disconnect();
    throw unavailable(err, 'connecting');
  }
  return client;
}

/** ioredis reports every failed reconnect as an 'error' event; log each distinct failure once. */
function watchErrors(client: RedisClient, options: ConnectionOptions): void {
  let last = '';
  client.on('error', (err: Error) => {
    if (err.message === last) return;
    last = err.message;
    options.logger?.warn({ err, connection: options.connectionName }, 'Redis connection error');
  });
  client.on('ready', () => {
    if (last !== '')
      options.logger?.info({ connection: options.connectionName }, 'Redis connection ready again');
    last = '';
  });
}

/** Any failure to get an answer from Redis, as the UnavailableError callers retry on. */
export function unavailable(err: unknown, doing: string): UnavailableError {
  if (err instanceof UnavailableError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new UnavailableError(`the Redis store is unavailable while ${doing}: ${detail}`, { cause: err });
}

/** Bounded error kinds for metrics: what went wrong talking to Redis, never the message itself. */
export type RedisErrorKind = (typeof REDIS_ERROR_KINDS)[number];

export function classifyRedisError(err: unknown): RedisErrorKind {
  const message = err instanceof Error ? err.message : String(err);
  if (/timed? ?out/i.test(message)) return 'timeout';
  if (/^READONLY/.test(message)) return 'readonly';
  if (/^OOM/.test(message)) return 'oom';
  if (/^LOADING/.test(message)) return 'loading';
  if (/^BUSY/.test(message)) return 'busy';
  if (/^(CLUSTERDOWN|MOVED|ASK|TRYAGAIN|CROSSSLOT|MASTERDOWN)/.test(message)) return 'cluster';
  if (
    /Connection is closed|isn't writeable|ECONNREFUSED|ECONNRESET|EPIPE|ENOTFOUND|EHOSTUNREACH|not ready|startup nodes/i.test(
      message,
    )
  ) {
    return 'connection';
  }
  return 'other';
}

/** The Cluster slot of `key` (its hash tag's), as the Cluster computes it. */
export async function clusterSlotOf(cluster: Cluster, key: string): Promise<number> {
  return Number(await cluster.call('CLUSTER', 'KEYSLOT', key));
}

/**
 * The master the Cluster client routes `slot` to, from its slot table (no round trip; stale until
 * the client is told MOVED); undefined before it knows one. A bulk read over a connection of its
 * own to it gets MOVED once the slot has moved, and falls back to the client.
 */
export function slotMaster(cluster: Cluster, slot: number): RedisAddress | undefined {
  const owner = cluster.slots[slot]?.[0];
  if (owner === undefined) return undefined;
  const colon = owner.lastIndexOf(':');
  return { host: owner.slice(0, colon), port: Number(owner.slice(colon + 1)) };
}

/**
 * The master of `slot` as the Cluster says right now (CLUSTER SLOTS), not as the client last
 * learnt it: a client that only watches sends no keyed command, so it would never see the MOVED
 * that refreshes its table after the slot moved. Undefined when no range holds the slot or the
 * node announces no address (then the client's table decides).
 */
export async function askSlotMaster(cluster: Cluster, slot: number): Promise<RedisAddress | undefined> {
  const ranges = (await cluster.call('CLUSTER', 'SLOTS')) as [
    number,
    number,
    [string, number, ...unknown[]],
  ][];
  for (const [start, end, master] of ranges) {
    if (slot < start || slot > end) continue;
    const [host, port] = master;
    return host === '' || host === '?' ? slotMaster(cluster, slot) : { host, port: Number(port) };
  }
  return slotMaster(cluster, slot);
}
