// The local, in-memory copy of the relationship graph: built from a store snapshot, kept in
// step by the store's watch feed, and able to wait until it reaches a given revision.
import { createEngine } from '../engine/index.js';
import type { Engine, EngineOptions } from '../engine/types.js';
import { GraphIndex } from '../graph/index.js';
import type { Schema } from '../schema/schema.js';
import { collectSnapshot } from '../store/collect-snapshot.js';
import type { ChangeSet, Revision, Store } from '../store/store.js';
import { RevisionWaiters } from './revision-waiters.js';

export class GraphReplica {
  readonly engine: Engine;
  readonly #graph: GraphIndex;
  readonly #waiters = new RevisionWaiters();
  readonly #stop = new AbortController();
  #failure: Error | undefined;

  private constructor(graph: GraphIndex, engine: Engine) {
    this.#graph = graph;
    this.engine = engine;
  }

  /** Build from the store's snapshot and follow its changes from that revision on. */
  static async start(schema: Schema, store: Store, engineOptions: EngineOptions): Promise<GraphReplica> {
    const snapshot = await store.snapshot();
    const graph = GraphIndex.build(schema, await collectSnapshot(snapshot), snapshot.revision);
    const replica = new GraphReplica(graph, createEngine(schema, graph, engineOptions));
    void replica.#follow(store, snapshot.revision);
    return replica;
  }

  get revision(): Revision {
    return this.#graph.revision;
  }

  get relationshipCount(): number {
    return this.#graph.relationshipCount;
  }

  /** Set when applying a change failed: the replica is out of sync and must not report ready. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** Resolve once the graph has applied `revision`; DeadlineExceededError at `deadline` (ms epoch). */
  waitFor(revision: Revision, deadline: number): Promise<void> {
    return this.#waiters.wait(revision, this.#graph.revision, deadline);
  }

  close(): void {
    this.#stop.abort();
    this.#waiters.rejectAll('the server is shutting down: retry against another replica');
  }

  async #follow(store: Store, after: Revision): Promise<void> {
    try {
      for await (const change of store.watch(after, this.#stop.signal)) this.#apply(change);
    } catch (err) {
      this.#failure = err instanceof Error ? err : new Error(String(err));
    }
  }

  #apply(change: ChangeSet): void {
    try {
      this.#graph.apply(change);
    } catch (err) {
      // A change the graph cannot apply means local state diverged from the store; stop serving
      // as ready rather than answer from a graph we know is wrong.
      this.#failure = err instanceof Error ? err : new Error(String(err));
      return;
    }
    this.#waiters.advance(this.#graph.revision);
  }
}
