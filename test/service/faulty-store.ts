// A Store that fails on command, for the replica's state machine tests: it wraps a MemoryStore
// (swappable, to simulate a store whose data started anew), can be taken down (every call fails
// with UnavailableError), can fail the watches in flight with any error, corrupt the next
// ChangeSet it delivers, and hold snapshots until released.
import { UnavailableError } from '../../server/src/errors.js';
import { parseRelationship } from '../../server/src/model/relationship.js';
import type { MemoryStore } from '../../server/src/store/index.js';
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

export class FaultyStore implements Store {
  readonly kind = 'faulty';
  inner: MemoryStore;
  /** When true every call fails with UnavailableError. */
  down = false;
  /** When set, the next delivered ChangeSet carries a change no graph can apply. */
  corruptNext = false;
  snapshots = 0;
  readonly #faults = new Set<(err: Error) => void>();
  #hold: Promise<void> | undefined;
  #release: (() => void) | undefined;

  constructor(inner: MemoryStore) {
    this.inner = inner;
  }

  /** Fail every watch in flight with `err`. */
  fault(err: Error): void {
    for (const reject of [...this.#faults]) reject(err);
  }

  /** Snapshots taken from now on wait until `releaseSnapshots`. */
  holdSnapshots(): void {
    this.#hold = new Promise((resolve) => {
      this.#release = resolve;
    });
  }

  releaseSnapshots(): void {
    this.#release?.();
    this.#hold = undefined;
  }

  #up(): void {
    if (this.down) throw new UnavailableError('the faulty store is down');
  }

  async identity(): Promise<StoreIdentity> {
    this.#up();
    return this.inner.identity();
  }
  async revision(): Promise<Revision> {
    this.#up();
    return this.inner.revision();
  }
  async write(
    updates: readonly RelationshipUpdate[],
    preconditions?: readonly Precondition[],
    options?: WriteOptions,
  ): Promise<ChangeSet> {
    this.#up();
    return this.inner.write(updates, preconditions, options);
  }
  async deleteByFilter(
    filter: RelationshipFilter,
    preconditions?: readonly Precondition[],
    limit?: number,
  ): Promise<ChangeSet> {
    this.#up();
    return this.inner.deleteByFilter(filter, preconditions, limit);
  }
  async read(
    filter: RelationshipFilter,
    page: { readonly limit: number; readonly cursor?: string | undefined },
  ): Promise<ReadPage> {
    this.#up();
    return this.inner.read(filter, page);
  }
  async snapshot(): Promise<StoreSnapshot> {
    this.#up();
    const snapshot = await this.inner.snapshot();
    this.snapshots++;
    if (this.#hold !== undefined) await this.#hold;
    this.#up();
    return snapshot;
  }
  async *watch(after: Revision, signal?: AbortSignal): AsyncGenerator<ChangeSet> {
    this.#up();
    const inner = this.inner.watch(after, signal)[Symbol.asyncIterator]();
    try {
      for (;;) {
        let reject: ((err: Error) => void) | undefined;
        const fault = new Promise<never>((_, r) => {
          reject = r;
        });
        this.#faults.add(reject as (err: Error) => void);
        let step: IteratorResult<ChangeSet>;
        try {
          step = await Promise.race([inner.next(), fault]);
        } finally {
          this.#faults.delete(reject as (err: Error) => void);
        }
        if (step.done) return;
        if (this.corruptNext) {
          this.corruptNext = false;
          yield {
            revision: step.value.revision,
            changes: [{ operation: 'insert', relationship: parseRelationship('nosuchtype:x#rel@user:y') }],
          };
          continue;
        }
        yield step.value;
      }
    } finally {
      await inner.return?.();
    }
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
