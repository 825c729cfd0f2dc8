// A Store wrapper whose watch feed can be held back, to simulate a replica that lags the store.
import type { ObjectRef } from '../../server/src/model/relationship.js';
import type { DeletionConsequence } from '../../server/src/schema/schema.js';
import type {
  ChangeSet,
  Precondition,
  ReadPage,
  RelationshipFilter,
  RelationshipUpdate,
  Revision,
  Snapshot,
  Store,
  Unsubscribe,
} from '../../server/src/store/store.js';

export class LaggingStore implements Store {
  readonly kind = 'lagging';
  held = false;
  readonly #inner: Store;
  #queued: { listener: (c: ChangeSet) => void; change: ChangeSet }[] = [];

  constructor(inner: Store) {
    this.#inner = inner;
  }

  /** Deliver every held change, in order, and stop holding. */
  release(): void {
    this.held = false;
    const queued = this.#queued;
    this.#queued = [];
    for (const q of queued) q.listener(q.change);
  }

  revision(): Promise<Revision> {
    return this.#inner.revision();
  }
  write(updates: readonly RelationshipUpdate[], preconditions?: readonly Precondition[]): Promise<ChangeSet> {
    return this.#inner.write(updates, preconditions);
  }
  deleteByFilter(
    filter: RelationshipFilter,
    preconditions?: readonly Precondition[],
    limit?: number,
  ): Promise<ChangeSet> {
    return this.#inner.deleteByFilter(filter, preconditions, limit);
  }
  deleteObject(object: ObjectRef, consequences: readonly DeletionConsequence[]): Promise<ChangeSet> {
    return this.#inner.deleteObject(object, consequences);
  }
  read(
    filter: RelationshipFilter,
    page: { readonly limit: number; readonly cursor?: string | undefined },
  ): Promise<ReadPage> {
    return this.#inner.read(filter, page);
  }
  snapshot(): Promise<Snapshot> {
    return this.#inner.snapshot();
  }
  watch(after: Revision, listener: (change: ChangeSet) => void): Unsubscribe {
    return this.#inner.watch(after, (change) => {
      if (this.held) this.#queued.push({ listener, change });
      else listener(change);
    });
  }
  close(): Promise<void> {
    return this.#inner.close();
  }
}
