// The Redis store's own series (with --redis): failed Redis calls by kind, background reconnects
// of the shared connection, and the changelog's length. Read from the store at scrape time;
// nothing is pushed on a request path. Only a server on Redis serves them.
import { Counter, Gauge, type Registry } from 'prom-client';

/** The kinds RedisStore counts failed calls under (redis-connection.ts classifyRedisError). */
export const REDIS_ERROR_KINDS = [
  'timeout',
  'connection',
  'readonly',
  'oom',
  'loading',
  'busy',
  'cluster',
  'other',
] as const;

/** What these metrics read of a RedisStore. */
export interface RedisMetricsSource {
  stats(): {
    readonly errors: Readonly<Partial<Record<(typeof REDIS_ERROR_KINDS)[number], number>>>;
    readonly reconnects: number;
  };
  /** XLEN of the changelog: one short command per scrape. */
  changelogLength(): Promise<number>;
}

export function registerRedisMetrics(registry: Registry, store: RedisMetricsSource): void {
  new Counter({
    name: 'gatehouse_redis_errors_total',
    help: 'Redis calls of this replica that failed, by kind: timeout, connection, readonly (a replica after failover), oom, loading, busy (a long script), cluster (CLUSTERDOWN, MOVED, …), other.',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      this.reset();
      const { errors } = store.stats();
      // Every kind from the start, at 0: rate() and alerts see a series before its first failure.
      for (const kind of REDIS_ERROR_KINDS) this.labels(kind).inc(errors[kind] ?? 0);
    },
  });
  new Counter({
    name: 'gatehouse_redis_reconnects_total',
    help: 'Times the shared Redis connection started reconnecting after losing Redis.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(store.stats().reconnects);
    },
  });
  let lastLength: number | undefined;
  new Gauge({
    name: 'gatehouse_redis_changelog_entries',
    help: 'Change sets the store changelog holds (XLEN at scrape time; the last value read while Redis does not answer).',
    registers: [registry],
    async collect() {
      try {
        lastLength = await store.changelogLength();
      } catch {
        // Counted in gatehouse_redis_errors_total by the store; the scrape still answers.
      }
      if (lastLength !== undefined) this.set(lastLength);
    },
  });
}
