// The local, in-memory copy of the relationship graph, as a small state machine over the Store
// seam: build (from a chunked snapshot) → follow (one for-await over store.watch, each ChangeSet
// applied incrementally) → on a truncated changelog or a failed apply, resync (a new graph from a
// fresh snapshot while the old one keeps serving, then one swap); on an unavailable store, keep
// serving, report degraded and retry from the last applied revision with capped backoff; on a
// new store epoch, keep serving the last state, tell `onEpochChanged`, then resync.
import { createEngine } from '../engine/create-engine.js';
import type { Engine, EngineOptions } from '../engine/types.js';
import { ChangelogTruncatedError, StoreEpochChangedError } from '../errors.js';
import { GraphIndex } from '../graph/index.js';
import type { Logger } from '../observability/logger.js';
import { preciseWallClock, type WallClock } from '../observability/wall-clock.js';
import type { Schema } from '../schema/schema.js';
import type { CompiledGraphSource } from '../store/redis/graph-snapshot-source.js';
import type { ChangeSet, Revision, Store, StoreIdentity } from '../store/store.js';
import { RevisionWaiters } from './revision-waiters.js';

/**
 * building: the first graph is being built (not serving yet);
 * following: serving and tailing the store's changes;
 * resyncing: serving the old graph while a new one is built from a fresh snapshot;
 * degraded: serving the last state while the store cannot be followed (unavailable, new epoch);
 * closed: stopped.
 */
export type ReplicaState = 'building' | 'following' | 'resyncing' | 'degraded' | 'closed';

export interface ReplicaStatus {
  readonly state: ReplicaState;
  /** The revision the graph stands at. */
  readonly revision: Revision;
  /** The newest store revision this replica knows of, minus its own (0 when caught up). */
  readonly lagRevisions: number;
  /** How far behind in time: 0 when caught up; else since the oldest unapplied commit or since following stopped. */
  readonly lagSeconds: number;
  readonly lastError: string | undefined;
  /** Graphs rebuilt from a snapshot after the first. */
  readonly resyncs: number;
  /** Revisions known lost to a store whose data started anew (0 if none). */
  readonly lostRevisions: number;
  readonly identity: StoreIdentity;
}

/** What `onEpochChanged` is told: the store's data started anew under a new epoch. */
export interface EpochChange {
  readonly previous: StoreIdentity;
  /** The store's identity now, if it could be read. */
  readonly current: StoreIdentity | undefined;
  /** The revision this replica had applied under the previous epoch. */
  readonly revision: Revision;
  /** The graph it still serves (the last state of the previous epoch): what a re-seed copies. */
  readonly graph: GraphIndex;
}

export interface GraphReplicaOptions {
  readonly engine: EngineOptions;
  readonly logger?: Logger | undefined;
  /**
   * Called when the store's epoch changes (e.g. a Redis restarted empty), before the replica
   * resyncs from the store's new data: where a deployment re-seeds the store. Default: none
   * (log, resync, report the lost revisions).
   */
  readonly onEpochChanged?: ((change: EpochChange) => Promise<void> | void) | undefined;
  /** First retry delay after the store became unavailable. Default 100 ms. */
  readonly retryInitialMs?: number | undefined;
  /** The cap of the doubling retry delay. Default 5 000 ms. */
  readonly retryMaxMs?: number | undefined;
  /** ms since the epoch; injectable for tests. Default Date.now. */
  readonly clock?: (() => number) | undefined;
  /**
   * Told, for each change set applied that carries its commit time, the seconds from that commit
   * to its apply here: the replication delay (the gatehouse_replication_delay_seconds histogram).
   * Measured with `wallClock` (default: sub-millisecond, kept on the system clock), so across
   * hosts it includes their clocks' skew.
   */
  readonly applyDelays?: { observe(seconds: number): void } | undefined;
  readonly wallClock?: WallClock | undefined;
  /**
   * Compiled graphs cached outside the process (e.g. in Redis): the first build starts from the
   * newest verified one and replays only the changes after it; the graph is offered back for
   * publishing after builds and applied changes. Resyncs always rebuild from the store.
   */
  readonly graphSource?: CompiledGraphSource | undefined;
}

/** A ChangeSet the graph could not apply: local state diverged from the store. */
class DivergenceError extends Error {
  override readonly name = 'DivergenceError';
}

export class GraphReplica {
  #graph: GraphIndex;
  #engine: Engine;
  #identity: StoreIdentity;
  readonly #schema: Schema;
  readonly #store: Store;
  readonly #options: GraphReplicaOptions;
  readonly #clock: () => number;
  readonly #wallClock: WallClock;
  readonly #waiters = new RevisionWaiters();
  readonly #stop = new AbortController();
  #state: ReplicaState = 'building';
  #lastError: string | undefined;
  #resyncs = 0;
  #lostRevisions = 0;
  #knownStoreRevision: Revision;
  /** committedAt of the last applied ChangeSet, when the store stamps them. */
  #lastCommittedAt: number | undefined;
  /** When following last stopped (degraded/resyncing), for lag in seconds. */
  #behindSince: number | undefined;
  #running: Promise<void> | undefined;

  private constructor(
    schema: Schema,
    store: Store,
    options: GraphReplicaOptions,
    built: { graph: GraphIndex; identity: StoreIdentity },
  ) {
    this.#schema = schema;
    this.#store = store;
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
    this.#wallClock = options.wallClock ?? preciseWallClock();
    this.#graph = built.graph;
    this.#engine = createEngine(schema, built.graph, options.engine);
    this.#identity = built.identity;
    this.#knownStoreRevision = built.graph.revision;
  }

  /** Build from the store's snapshot and follow its changes from that revision on. */
  static async start(
    schema: Schema,
    store: Store,
    options: GraphReplicaOptions | EngineOptions,
  ): Promise<GraphReplica> {
    const opts: GraphReplicaOptions = 'engine' in options ? options : { engine: options };
    const built = await build(schema, store, opts.graphSource, opts.logger);
    const replica = new GraphReplica(schema, store, opts, built);
    opts.graphSource?.observe(built.graph, schema, built.identity.epoch);
    replica.#state = 'following';
    replica.#running = replica.#run();
    return replica;
  }

  /** The engine over the current graph: capture it once per request. */
  get engine(): Engine {
    return this.#engine;
  }

  get graph(): GraphIndex {
    return this.#graph;
  }

  get revision(): Revision {
    return this.#graph.revision;
  }

  get relationshipCount(): number {
    return this.#graph.relationshipCount;
  }

  get state(): ReplicaState {
    return this.#state;
  }

  /** The store and epoch the served graph came from: what revision tokens name. */
  get identity(): StoreIdentity {
    return this.#identity;
  }

  status(): ReplicaStatus {
    const revision = this.#graph.revision;
    const lagRevisions = Math.max(0, this.#knownStoreRevision - revision);
    let lagSeconds = 0;
    const now = this.#clock();
    if (this.#behindSince !== undefined) lagSeconds = (now - this.#behindSince) / 1000;
    else if (lagRevisions > 0 && this.#lastCommittedAt !== undefined)
      lagSeconds = Math.max(0, (now - this.#lastCommittedAt) / 1000);
    return {
      state: this.#state,
      revision,
      lagRevisions,
      lagSeconds,
      lastError: this.#lastError,
      resyncs: this.#resyncs,
      lostRevisions: this.#lostRevisions,
      identity: this.#identity,
    };
  }

  /** A store revision learnt elsewhere (a write's result, a fully_consistent read): for lag. */
  noteStoreRevision(revision: Revision): void {
    if (revision > this.#knownStoreRevision) this.#knownStoreRevision = revision;
  }

  /** Resolve once the graph has applied `revision`; DeadlineExceededError at `deadline` (ms epoch). */
  waitFor(revision: Revision, deadline: number): Promise<void> {
    return this.#waiters.wait(revision, this.#graph.revision, deadline);
  }

  /** Stop following; pending waits fail with UNAVAILABLE. Resolves once the follow loop ended. */
  close(): Promise<void> {
    if (this.#state !== 'closed') {
      this.#state = 'closed';
      this.#stop.abort();
      this.#waiters.rejectAll('the server is shutting down: retry against another replica');
    }
    return this.#running ?? Promise.resolve();
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    let delay = this.#options.retryInitialMs ?? 100;
    const maxDelay = this.#options.retryMaxMs ?? 5000;
    let resync = false;
    while (!signal.aborted) {
      try {
        if (resync) {
          await this.#resync();
          resync = false;
          if (signal.aborted) return;
          this.#markFollowing();
        } else if (this.#state === 'degraded') {
          await this.#probe();
        }
        await this.#follow(signal);
        return; // ended normally: aborted
      } catch (err) {
        if (signal.aborted) return;
        this.#lastError = describe(err);
        this.#behindSince ??= this.#clock();
        if (err instanceof ChangelogTruncatedError || err instanceof DivergenceError) {
          this.#options.logger?.warn({ err: this.#lastError }, 'replica resyncing from a fresh snapshot');
          this.#state = 'resyncing';
          resync = true;
          delay = this.#options.retryInitialMs ?? 100;
          continue;
        }
        if (err instanceof StoreEpochChangedError) {
          this.#state = 'degraded';
          await this.#epochChanged(err);
          resync = true;
          delay = this.#options.retryInitialMs ?? 100;
          continue;
        }
        // Unavailable (or anything unexpected): keep serving, retry with capped backoff.
        this.#state = 'degraded';
        this.#options.logger?.warn(
          { err: this.#lastError, retryInMs: delay },
          'replica cannot follow the store',
        );
        await sleep(delay, signal);
        delay = Math.min(maxDelay, delay * 2);
      }
    }
  }

  /** One for-await over the store's changes from the last applied revision. */
  async #follow(signal: AbortSignal): Promise<void> {
    for await (const change of this.#store.watch(this.#graph.revision, signal)) {
      this.#apply(change);
      this.#options.graphSource?.observe(this.#graph, this.#schema, this.#identity.epoch);
      if (this.#state !== 'following') this.#markFollowing();
    }
  }

  /**
   * After a failure: is the store back, with the same data? A new epoch is reported as such even
   * by a store that does not say so itself; a store at our revision means we are caught up.
   */
  async #probe(): Promise<void> {
    const identity = await this.#store.identity();
    if (identity.epoch !== this.#identity.epoch) {
      throw new StoreEpochChangedError(
        `store '${identity.name}' changed epoch from ${this.#identity.epoch} to ${identity.epoch}`,
        this.#identity.epoch,
        identity.epoch,
      );
    }
    const head = await this.#store.revision();
    this.noteStoreRevision(head);
    if (head <= this.#graph.revision) this.#markFollowing();
  }

  #markFollowing(): void {
    if (this.#state === 'following' || this.#state === 'closed') return;
    this.#state = 'following';
    this.#behindSince = undefined;
    this.#options.logger?.info({ revision: this.#graph.revision }, 'replica following the store');
  }

  #apply(change: ChangeSet): void {
    try {
      this.#graph.apply(change);
    } catch (err) {
      // The graph may be half-applied: it keeps serving only until the resync swaps it out.
      throw new DivergenceError(`applying revision ${change.revision} failed: ${describe(err)}`);
    }
    if (change.committedAt !== undefined) {
      this.#lastCommittedAt = change.committedAt;
      this.#options.applyDelays?.observe(Math.max(0, this.#wallClock() - change.committedAt) / 1000);
    }
    this.noteStoreRevision(change.revision);
    this.#waiters.advance(this.#graph.revision);
  }

  /** Build a new graph from a fresh snapshot while the old one serves, then swap in one step. */
  async #resync(): Promise<void> {
    this.#state = 'resyncing';
    const built = await build(this.#schema, this.#store);
    if (this.#stop.signal.aborted) return;
    const engine = createEngine(this.#schema, built.graph, this.#options.engine);
    this.#graph = built.graph;
    this.#engine = engine;
    this.#identity = built.identity;
    this.#resyncs++;
    this.#options.graphSource?.observe(built.graph, this.#schema, built.identity.epoch);
    this.noteStoreRevision(built.graph.revision);
    this.#waiters.advance(built.graph.revision);
    this.#options.logger?.info(
      {
        revision: built.graph.revision,
        relationships: built.graph.relationshipCount,
        resyncs: this.#resyncs,
      },
      'replica resynced from a snapshot',
    );
  }

  async #epochChanged(err: StoreEpochChangedError): Promise<void> {
    let current: StoreIdentity | undefined;
    try {
      current = await this.#store.identity();
    } catch {
      current = undefined;
    }
    const previous = this.#identity;
    const revision = this.#graph.revision;
    try {
      await this.#options.onEpochChanged?.({ previous, current, revision, graph: this.#graph });
    } catch (hookErr) {
      this.#options.logger?.error({ err: describe(hookErr) }, 'onEpochChanged failed; resyncing anyway');
    }
    let storeRevision = 0;
    try {
      storeRevision = await this.#store.revision();
    } catch {
      // Unknown: count every revision this replica had as lost.
    }
    const lost = Math.max(0, revision - storeRevision);
    this.#lostRevisions += lost;
    this.#options.logger?.error(
      {
        previousEpoch: previous.epoch,
        currentEpoch: current?.epoch ?? err.currentEpoch,
        localRevision: revision,
        storeRevision,
        lostRevisions: lost,
      },
      'the store data started anew (new epoch): resyncing from it; revisions after its current one are lost',
    );
  }
}

async function build(
  schema: Schema,
  store: Store,
  source?: CompiledGraphSource,
  logger?: Logger,
): Promise<{ graph: GraphIndex; identity: StoreIdentity }> {
  const identity = await store.identity();
  if (source !== undefined) {
    // A cached graph ahead of the store belongs to data the store no longer has: never use it.
    const cached = await source.load(schema, identity.epoch).catch((err: unknown) => {
      logger?.warn({ err: describe(err) }, 'cannot load a cached compiled graph; building from the store');
      return undefined;
    });
    if (cached !== undefined && cached.revision <= (await store.revision())) {
      logger?.info(
        { revision: cached.revision, relationships: cached.relationshipCount },
        'replica starting from a cached compiled graph',
      );
      return { graph: cached, identity };
    }
  }
  // The memory store shares its numbering and hands its rows over as numbers: each id is held
  // once and no relationship object is built.
  const { objectIds } = store;
  if (objectIds !== undefined && store.forEachNumbered !== undefined) {
    return { graph: GraphIndex.fromNumbered(schema, objectIds, (v) => store.forEachNumbered!(v)), identity };
  }
  const snapshot = await store.snapshot();
  return { graph: await GraphIndex.buildFromChunks(schema, snapshot.chunks(), snapshot.revision), identity };
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
