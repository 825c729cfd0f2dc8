// A replica's compiled-graph source backed by Redis: loads the newest verified snapshot for its
// schema (decoded by the graph snapshot codec) and publishes its own on a policy, in the background.
import { SnapshotCorruptError } from '../../errors.js';
import { decodeGraphSnapshot, encodeGraphSnapshot, type GraphIndex } from '../../graph/index.js';
import type { Logger } from '../../observability/index.js';
import type { Schema } from '../../schema/schema.js';
import type { Revision } from '../store.js';
import { type GraphSnapshotCache, type SnapshotKey, SnapshotSchedule } from './graph-snapshot-cache.js';

/** What a replica asks of a compiled-graph cache (the seam GraphReplica accepts; Redis is one kind). */
export interface CompiledGraphSource {
  /** The newest cached graph for `schema` in `epoch`, verified and decoded; undefined means build one. */
  load(schema: Schema, epoch: string): Promise<GraphIndex | undefined>;
  /** Called after a build and after applied changes: publishes in the background when the policy says. */
  observe(graph: GraphIndex, schema: Schema, epoch: string): void;
  /** Counters for metrics and logs. */
  readonly stats: CompiledGraphStats;
}

export interface CompiledGraphStats {
  loads: number;
  hits: number;
  /** Snapshots refused by a checksum, a missing chunk or the codec (the replica rebuilt instead). */
  corrupt: number;
  published: number;
  /** The last successful load: wall time (fetch, verify, decode) and the snapshot's bytes. */
  lastLoadMs: number;
  lastLoadBytes: number;
  lastPublishMs: number;
  lastPublishBytes: number;
}

export interface RedisCompiledGraphOptions {
  readonly cache: GraphSnapshotCache;
  /** Publish after this many revisions (default 10 000)… */
  readonly everyChanges?: number | undefined;
  /** …or after this long with at least one change (default 5 minutes). */
  readonly everyMs?: number | undefined;
  /** The codec's chunk size: at most the cache's, so chunks are stored as encoded (default 256 KiB). */
  readonly chunkBytes?: number | undefined;
  readonly logger?: Logger | undefined;
  readonly now?: (() => number) | undefined;
}

/** Compiled graphs through a GraphSnapshotCache, encoded with the graph snapshot codec. */
export class RedisCompiledGraphSource implements CompiledGraphSource {
  readonly stats: CompiledGraphStats = {
    loads: 0,
    hits: 0,
    corrupt: 0,
    published: 0,
    lastLoadMs: 0,
    lastLoadBytes: 0,
    lastPublishMs: 0,
    lastPublishBytes: 0,
  };
  readonly #options: RedisCompiledGraphOptions;
  readonly #now: () => number;
  #schedule: SnapshotSchedule | undefined;
  #publishing: Promise<void> | undefined;

  constructor(options: RedisCompiledGraphOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  async load(schema: Schema, epoch: string): Promise<GraphIndex | undefined> {
    const started = performance.now();
    this.stats.loads += 1;
    const found = await this.#options.cache.loadNewest(schema.hash, epoch);
    if (found.status === 'miss') return undefined;
    if (found.status === 'corrupt') {
      this.stats.corrupt += 1;
      return undefined;
    }
    try {
      // The cache loaded the chunks into one buffer of their own: the graph keeps it as its tables.
      const graph = decodeGraphSnapshot(schema, found.chunks, { adopt: true });
      this.stats.hits += 1;
      this.stats.lastLoadMs = performance.now() - started;
      this.stats.lastLoadBytes = found.chunks.reduce((sum, c) => sum + c.byteLength, 0);
      // A loaded graph counts as published at its revision: no replica re-publishes it at once.
      this.#schedule ??= this.#newSchedule(graph.revision);
      return graph;
    } catch (err) {
      if (!(err instanceof SnapshotCorruptError)) throw err;
      this.stats.corrupt += 1;
      this.#options.logger?.warn(
        { schemaHash: schema.hash, revision: found.key.revision, reason: err.reason, err: err.message },
        'cached graph snapshot refused by the codec; rebuilding from the relationships',
      );
      return undefined;
    }
  }

  observe(graph: GraphIndex, schema: Schema, epoch: string): void {
    const now = this.#now();
    if (this.#publishing !== undefined) return;
    if (this.#schedule === undefined) {
      // The first graph a replica builds itself is published at once: that is what spares the next
      // replica the rebuild. After that, the policy decides.
      this.#schedule = this.#newSchedule(graph.revision);
    } else if (this.#schedule.due(graph.revision, now)) {
      this.#schedule.published(graph.revision, now);
    } else {
      return;
    }
    const started = performance.now();
    // Encoding is synchronous, so the chunks hold exactly this revision even as changes keep coming.
    const chunks = encodeGraphSnapshot(graph, schema.hash, {
      chunkBytes: this.#options.chunkBytes ?? 256 * 1024,
    });
    const key: SnapshotKey = { schemaHash: schema.hash, epoch, revision: graph.revision };
    this.#publishing = this.#options.cache
      .publish(key, chunks)
      .then((result) => {
        if (result !== 'published') return;
        this.stats.published += 1;
        this.stats.lastPublishMs = performance.now() - started;
        this.stats.lastPublishBytes = chunks.reduce((sum, c) => sum + c.byteLength, 0);
      })
      .catch((err: unknown) => {
        this.#options.logger?.warn(
          { err: (err as Error).message },
          'graph snapshot publish failed; will retry on schedule',
        );
      })
      .finally(() => {
        this.#publishing = undefined;
      });
  }

  /** Resolves when no publish is in flight (tests and shutdown). */
  async settled(): Promise<void> {
    await this.#publishing;
  }

  #newSchedule(revision: Revision): SnapshotSchedule {
    return new SnapshotSchedule({
      everyChanges: this.#options.everyChanges ?? 10_000,
      everyMs: this.#options.everyMs ?? 5 * 60_000,
      revision,
      now: this.#now(),
    });
  }
}
