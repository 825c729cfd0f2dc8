// A Store wrapper whose watch feed can be held back, to simulate a replica that lags the store.
import type {
  ChangeSet,
  Precondition,
  ReadPage,
  RelationshipFilter,
  RelationshipUpdate,
  Revision,
  Store,
  StoreIdentity,
  StoreSnapshot,
  WriteOptions,
} from '../../server/src/store/store.js';

export class LaggingStore implements Store {
  readonly kind = 'lagging';
  held = false;
  readonly #inner: Store;
  #releases: (() => void)[] = [];

  constructor(inner: Store) {
    this.#inner = inner;
  }

  /** Deliver every held change, in order, and stop holding. */
  release(): void {
    this.held = false;
    const releases = this.#releases;
    this.#releases = [];
    for (const r of releases) r();
  }

  identity(): Promise<StoreIdentity> {
    return this.#inner.identity();
  }
  revision(): Promise<Revision> {
    return this.#inner.revision();
  }
  write(
    updates: readonly RelationshipUpdate[],
    preconditions?: readonly Precondition[],
    options?: WriteOptions,
  ): Promise<ChangeSet> {
    return this.#inner.write(updates, preconditions, options);
  }
  deleteByFilter(
    filter: RelationshipFilter,
    preconditions?: readonly Precondition[],
    limit?: number,
  ): Promise<ChangeSet> {
    return this.#inner.deleteByFilter(filter, preconditions, limit);
  }
  read(
    filter: RelationshipFilter,
    page: { readonly limit: number; readonly cursor?: string | undefined },
  ): Promise<ReadPage> {
    return this.#inner.read(filter, page);
  }
  snapshot(): Promise<StoreSnapshot> {
    return this.#inner.snapshot();
  }
  async *watch(after: Revision, signal?: AbortSignal): AsyncGenerator<ChangeSet> {
    for await (const change of this.#inner.watch(after, signal)) {
      while (this.held) await new Promise<void>((resolve) => this.#releases.push(resolve));
      yield change;
    }
  }
  close(): Promise<void> {
    return this.#inner.close();
  }
}
