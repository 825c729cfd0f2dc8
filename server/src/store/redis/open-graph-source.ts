// Opens the compiled-graph cache `gatehouse serve --redis` uses: its own Redis client (chunk
// transfers must not queue behind the store's commands), keys under the store's hash tag.
import type { Logger } from '../../observability/logger.js';
import { GraphSnapshotCache } from './graph-snapshot-cache.js';
import { RedisCompiledGraphSource } from './graph-snapshot-source.js';
import { openRedisClient } from './redis-connection.js';
import { checkStoreName } from './redis-layout.js';
import { parseRedisUrl } from './redis-url.js';

/** A compiled-graph source with the client it owns; `close()` waits for a publish in flight. */
export interface OpenedGraphSource {
  readonly source: RedisCompiledGraphSource;
  close(): Promise<void>;
}

export interface OpenGraphSourceOptions {
  readonly url: string;
  readonly storeName: string;
  readonly logger?: Logger | undefined;
  readonly connectTimeoutMs?: number | undefined;
}

/** Connect a RedisCompiledGraphSource for `storeName` on the Redis named by `url`. */
export async function openGraphSource(options: OpenGraphSourceOptions): Promise<OpenedGraphSource> {
  checkStoreName(options.storeName);
  const client = await openRedisClient(parseRedisUrl(options.url), {
    connectTimeoutMs: options.connectTimeoutMs ?? 1000,
    // A snapshot chunk is up to 256 KiB: allow a slow link more than the store's per-command bound.
    commandTimeoutMs: 10_000,
    reconnect: true,
    connectionName: `gatehouse:${options.storeName}:graph-cache`,
    logger: options.logger,
  });
  const cache = new GraphSnapshotCache({
    redis: client,
    keyPrefix: `{gatehouse:${options.storeName}}`,
    logger: options.logger,
  });
  const source = new RedisCompiledGraphSource({ cache, logger: options.logger });
  return {
    source,
    close: async () => {
      await source.settled().catch(() => undefined);
      client.disconnect();
    },
  };
}
