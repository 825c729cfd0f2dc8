// MemoryStore: the embedded default Store. Holds the relationship set in process memory,
// commits each mutating call as one revision, and keeps a bounded changelog for watchers.
// Every call validates and checks preconditions before it touches anything, so a failure
// leaves no trace; commits are synchronous, so calls apply in the order they are made.
import { randomBytes } from 'node:crypto';
import {
  AlreadyExistsError,
  ChangelogTruncatedError,
  FailedPreconditionError,
  InvalidArgumentError,
  UnavailableError,
} from '../errors.js';
import type { NumberedRelationshipVisitor, ObjectIds } from '../model/object-ids.js';
import type { Relationship } from '../model/relationship.js';
import { relationshipKey } from '../model/relationship.js';
import type { ListenerErrorHandler, Unsubscribe } from './change-feed.js';
import { ChangeFeed, NO_CHANGES } from './change-feed.js';
import { LoadedRevision } from './loaded-revision.js';
import { decodeReadCursor, encodeReadCursor } from './read-cursor.js';
import { attributesOf, sameAttributes } from './relationship-attributes.js';
import { describeFilter } from './relationship-filter.js';
import { RelationshipIndex } from './relationship-index.js';
import { freezeRelationship, PACKED_DELETE, PACKED_INSERT, PACKED_WIDTH } from './relationship-table.js';
import { SnapshotRows } from './snapshot-rows.js';
import type {
  ChangeSet,
  Precondition,
  ReadPage,
  RelationshipChange,
  RelationshipFilter,
  RelationshipUpdate,
  Revision,
  Store,
  StoreIdentity,
  StoreSnapshot,
  WriteOptions,
} from './store.js';
import { STORE_EPOCH_PATTERN, STORE_NAME_PATTERN } from './store.js';
import {
  checkDeleteFilter,
  checkDeleteLimit,
  checkExpectRevision,
  checkPreconditionOperations,
  checkReadLimit,
  checkUpdateOperations,
  checkWatchRevision,
  DEFAULT_MAX_READ_LIMIT,
} from './store-arguments.js';
import { WatchQueue } from './watch-queue.js';
import { fieldsRead, type WritePlan } from './write-versions.js';

export interface MemoryStoreOptions {
  /** How many recent revisions `watch` can replay. Default 10 000. */
  readonly changelogRetention?: number;
  /** The largest page `read` serves. Default 10 000. */
  readonly maxReadLimit?: number;
  /** Told when a `subscribe` listener throws; the store carries on. Default: a process warning. */
  readonly onListenerError?: ListenerErrorHandler;
  /** The store's name (--store NAME). Default 'default'. */
  readonly storeName?: string;
  /**
   * The epoch of this store's data. Default: random, so a fresh process's data (revision 1 again,
   * different relationships) is never mistaken for a previous one's. A durable store (a data dir)
   * passes the epoch it recorded.
   */
  readonly epoch?: string;
  /** Relationships per snapshot chunk. Default 1 000: a reader holds one chunk of objects at a time, and small chunks die young. */
  readonly snapshotChunkSize?: number;
  /** How many ChangeSets one `watch` consumer may have queued before it is told it fell behind. Default max(retention, 10 000). */
  readonly watchBuffer?: number;
  /** Stamps ChangeSet.committedAt. Default Date.now. */
  readonly clock?: () => number;
}

export const DEFAULT_CHANGELOG_RETENTION = 10_000;
const DEFAULT_SNAPSHOT_CHUNK = 1_000;
const MIN_WATCH_BUFFER = 10_000;

/** A fresh random epoch: 12 base36 characters. */
export function randomEpoch(): string {
  let out = '';
  for (const byte of randomBytes(12)) out += (byte % 36).toString(36);
  return out;
}

function defaultListenerErrorHandler(error: unknown, revision: Revision): void {
  const detail = error instanceof Error ? error.message : String(error);
  process.emitWarning(
    `a MemoryStore watch listener threw at revision ${revision}: ${detail}`,
    'GatehouseWatchWarning',
  );
}

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new InvalidArgumentError(
      `invalid MemoryStore option ${name}=${value}: it must be an integer >= ${min}`,
      {
        field: name,
      },
    );
  }
}

/**
 * A memory store's snapshot, which its taker can also release: a snapshot taken and then not
 * read (an image whose lease another replica holds) keeps copying the rows commits remove until
 * it is read through or released.
 */
export interface MemoryStoreSnapshot extends StoreSnapshot {
  /** Ends the snapshot: the store stops keeping its rows, and it can no longer be read. */
  release(): void;
}

/** A snapshot still being read, as commits tell it what they change. */
interface OpenSnapshot {
  /** Before each commit. */
  beforeCommit(): void;
  /** Before the commit removes `row`. */
  rowRemoving(row: number): void;
}

/** A WritePlan whose read fields are named only when asked (a caller that knows them already does not ask). */
function plannedAt(
  revision: Revision,
  changes: readonly RelationshipChange[],
  reads: () => string[],
): WritePlan {
  let named: string[] | undefined;
  return {
    revision,
    changes,
    get reads(): readonly string[] {
      named ??= reads();
      return named;
    },
  };
}

export class MemoryStore implements Store {
  readonly kind = 'memory';
  private index = RelationshipIndex.empty();
  private feed: ChangeFeed;
  private readonly retention: number;
  private readonly onListenerError: ListenerErrorHandler;
  private readonly maxReadLimit: number;
  private readonly chunkSize: number;
  private readonly watchBuffer: number;
  private readonly clock: () => number;
  private readonly storeIdentity: StoreIdentity;
  private readonly watchers = new Set<WatchQueue>();
  /** Open snapshots, told before each commit and before it removes each row (see `snapshot`). */
  private readonly openSnapshots = new Set<OpenSnapshot>();
  private current: Revision = 0;
  private closed = false;
  /** Revision 1 of a loaded store, replayed from the rows (see `loaded`); told of every removal. */
  private loadedRevision: LoadedRevision | undefined;

  constructor(options: MemoryStoreOptions = {}) {
    const retention = options.changelogRetention ?? DEFAULT_CHANGELOG_RETENTION;
    this.maxReadLimit = options.maxReadLimit ?? DEFAULT_MAX_READ_LIMIT;
    this.chunkSize = options.snapshotChunkSize ?? DEFAULT_SNAPSHOT_CHUNK;
    this.watchBuffer = options.watchBuffer ?? Math.max(retention, MIN_WATCH_BUFFER);
    checkCount('changelogRetention', retention, 0);
    checkCount('maxReadLimit', this.maxReadLimit, 1);
    checkCount('snapshotChunkSize', this.chunkSize, 1);
    checkCount('watchBuffer', this.watchBuffer, 1);
    const name = options.storeName ?? 'default';
    const epoch = options.epoch ?? randomEpoch();
    if (!STORE_NAME_PATTERN.test(name)) {
      throw new InvalidArgumentError(
        `invalid store name '${name}': use 1 to 64 letters, digits, '_' or '-'`,
        { field: 'storeName' },
      );
    }
    if (!STORE_EPOCH_PATTERN.test(epoch)) {
      throw new InvalidArgumentError(`invalid store epoch '${epoch}': use 1 to 16 of [0-9a-z]`, {
        field: 'epoch',
      });
    }
    this.storeIdentity = Object.freeze({ name, epoch });
    this.clock = options.clock ?? Date.now;
    this.retention = retention;
    this.onListenerError = options.onListenerError ?? defaultListenerErrorHandler;
    this.feed = new ChangeFeed(retention, this.index.rows, this.onListenerError);
  }

  /**
   * A store whose revision 1 holds `relationships` (duplicates collapse, as with `touch`):
   * how the policy set's data files are loaded at startup.
   */
  static withRelationships(
    relationships: Iterable<Relationship>,
    options: MemoryStoreOptions = {},
  ): MemoryStore {
    return MemoryStore.loaded(RelationshipIndex.build(relationships), options);
  }

  /**
   * As `withRelationships`, from chunks that arrive over time (a streamed bulk data file), so
   * the caller never holds every relationship as objects at once. If `chunks` throws, so does this.
   */
  static async withRelationshipChunks(
    chunks: AsyncIterable<readonly Relationship[]>,
    options: MemoryStoreOptions = {},
  ): Promise<MemoryStore> {
    return MemoryStore.loaded(await RelationshipIndex.buildFromChunks(chunks), options);
  }

  /**
   * A copy of another store's relationship set as it stood at `revision` (a RedisStore's mirror
   * starting from an image): its revisions continue from there, and nothing before `revision`
   * can be watched.
   */
  static async atRevision(
    chunks: AsyncIterable<readonly Relationship[]>,
    revision: Revision,
    options: MemoryStoreOptions = {},
  ): Promise<MemoryStore> {
    if (!Number.isSafeInteger(revision) || revision < 0) {
      throw new InvalidArgumentError(`invalid revision ${revision}: it must be an integer >= 0`, {
        field: 'revision',
      });
    }
    const { index } = await RelationshipIndex.buildFromChunks(chunks);
    const store = new MemoryStore(options);
    store.index = index;
    store.feed = new ChangeFeed(store.retention, index.rows, store.onListenerError, revision);
    store.current = revision;
    return store;
  }

  /**
   * Revision 1 is the loaded set. A packed copy of it for the changelog would cost 28 bytes a
   * relationship for as long as it is retained, so it is rebuilt from the rows when replayed, with
   * a packed copy of only the loaded relationships removed since (LoadedRevision).
   */
  private static loaded(
    { index, loadedRows }: { index: RelationshipIndex; loadedRows: Int32Array },
    options: MemoryStoreOptions,
  ): MemoryStore {
    const store = new MemoryStore(options);
    // Nobody can be watching yet: swap in the loaded index and a feed over its strings.
    store.index = index;
    store.feed = new ChangeFeed(store.retention, index.rows, store.onListenerError);
    store.current = 1;
    if (!store.feed.retains || index.size === 0) {
      store.feed.append(1, NO_CHANGES);
      return store;
    }
    store.loadedRevision = new LoadedRevision(index, loadedRows);
    store.feed.append(1, store.loadedRevision);
    return store;
  }

  /** The numbering of types and ids the rows use: a graph built from this store adopts it. */
  get objectIds(): ObjectIds {
    return this.index.rows.ids;
  }

  /**
   * Every relationship to `visitor` (plain ones as numbers of `objectIds`), each adjacency list's
   * rows together (RelationshipIndex.groupedRows), synchronously, so no commit interleaves;
   * returns the revision they are at. How the replica's graph is built without an object per
   * relationship, and without the key ordering a sidecar that only answers checks never needs.
   */
  forEachNumbered(visitor: NumberedRelationshipVisitor): Revision {
    this.assertOpen();
    this.index.rows.visitRows(this.index.groupedRows(), visitor);
    return this.current;
  }

  /** How many relationships are stored: for metrics. */
  /** The latest committed revision, synchronously (a mirror's callers compare it as it moves). */
  get latestRevision(): Revision {
    return this.current;
  }

  get size(): number {
    return this.index.size;
  }

  async identity(): Promise<StoreIdentity> {
    this.assertOpen();
    return this.storeIdentity;
  }

  async revision(): Promise<Revision> {
    this.assertOpen();
    return this.current;
  }

  async write(
    updates: readonly RelationshipUpdate[],
    preconditions: readonly Precondition[] = [],
    options: WriteOptions = {},
  ): Promise<ChangeSet> {
    return this.commit(this.planWrite(updates, preconditions, options).changes);
  }

  async deleteByFilter(
    filter: RelationshipFilter,
    preconditions: readonly Precondition[] = [],
    limit?: number,
  ): Promise<ChangeSet> {
    return this.commit(this.planDeleteByFilter(filter, preconditions, limit).changes);
  }

  /**
   * What `write` would commit now, and which version fields decided it, without committing:
   * how a store that commits elsewhere (RedisStore, docs/design/redis-changelog-store.md) plans
   * on its copy. Throws what `write` would throw, and commits nothing either way. `eachOnce`: the
   * caller knows no relationship comes twice among `updates` (their updateFields are as many as
   * they are), so the plan need not track what earlier updates left.
   */
  planWrite(
    updates: readonly RelationshipUpdate[],
    preconditions: readonly Precondition[] = [],
    options: WriteOptions = {},
    eachOnce = false,
  ): WritePlan {
    this.assertOpen();
    checkUpdateOperations(updates);
    checkExpectRevision(options.expectRevision);
    if (options.expectRevision !== undefined && options.expectRevision !== this.current) {
      throw new FailedPreconditionError(
        `the store moved on: the write expected revision ${options.expectRevision} but the store is at ${this.current}; re-read and retry`,
        { field: 'expectRevision' },
      );
    }
    this.checkPreconditions(preconditions);
    return plannedAt(this.current, this.planUpdates(updates, eachOnce), () =>
      fieldsRead(updates, preconditions),
    );
  }

  /** As planWrite, for `deleteByFilter`. */
  planDeleteByFilter(
    filter: RelationshipFilter,
    preconditions: readonly Precondition[] = [],
    limit?: number,
  ): WritePlan {
    this.assertOpen();
    checkDeleteFilter(filter);
    checkDeleteLimit(limit);
    this.checkPreconditions(preconditions);
    const changes: RelationshipChange[] = [];
    for (const row of this.index.scan(filter)) {
      if (limit !== undefined && changes.length >= limit) break;
      changes.push({ operation: 'delete', relationship: this.index.rows.relationship(row) });
    }
    return plannedAt(this.current, changes, () => fieldsRead([], preconditions, filter));
  }

  /**
   * Applies a change set committed elsewhere as this store's next revision (a copy following
   * another store's changelog). Throws FailedPreconditionError, changing nothing, unless it is
   * exactly the next revision and every change applies (a delete of a present relationship with
   * the same attributes, an insert of an absent one): anything else means the copy diverged
   * and must be rebuilt. `plannedHere`: the changes are a plan this store made (planWrite,
   * planDeleteByFilter) that was committed only because nothing it read changed since (a
   * RedisStore's compare-and-set), so they apply by construction and are not checked again.
   */
  applyCommitted(changeSet: ChangeSet, plannedHere = false): ChangeSet {
    this.assertOpen();
    if (changeSet.revision !== this.current + 1) {
      throw new FailedPreconditionError(
        `change set ${changeSet.revision} does not follow revision ${this.current}: changes apply in revision order`,
        { field: 'revision' },
      );
    }
    if (!plannedHere) this.checkApplies(changeSet);
    // A plan's inserts are frozen already (planUpdates); a change set decoded from elsewhere is not.
    const changes = changeSet.changes.map((c) =>
      c.operation === 'insert' && !Object.isFrozen(c.relationship)
        ? { operation: c.operation, relationship: freezeRelationship(c.relationship) }
        : c,
    );
    return this.commit(changes, changeSet.committedAt);
  }

  /** Throws FailedPreconditionError unless every change of `changeSet` applies now, in order. */
  private checkApplies(changeSet: ChangeSet): void {
    const overlay = new Map<string, Relationship | null>();
    changeSet.changes.forEach((change, i) => {
      const key = relationshipKey(change.relationship);
      let present = overlay.get(key);
      if (present === undefined) {
        const row = this.index.find(change.relationship);
        present = row < 0 ? null : this.index.rows.relationship(row);
      }
      const applies =
        change.operation === 'insert'
          ? present === null
          : present !== null && sameAttributes(attributesOf(present), attributesOf(change.relationship));
      if (!applies) {
        throw new FailedPreconditionError(
          `change ${i} of revision ${changeSet.revision} (${change.operation} '${key}') does not apply at revision ${this.current}: this copy diverged`,
          { field: `changes[${i}]` },
        );
      }
      overlay.set(key, change.operation === 'insert' ? change.relationship : null);
    });
  }

  async read(
    filter: RelationshipFilter,
    page: { readonly limit: number; readonly cursor?: string | undefined },
  ): Promise<ReadPage> {
    this.assertOpen();
    checkReadLimit(page.limit, this.maxReadLimit);
    const after = page.cursor === undefined ? undefined : decodeReadCursor(filter, page.cursor);
    const relationships: Relationship[] = [];
    let lastRow = -1;
    let more = false;
    // Read one past the limit so the last page says so instead of handing out a cursor to nothing.
    for (const row of this.index.scan(filter, after)) {
      if (relationships.length === page.limit) {
        more = true;
        break;
      }
      relationships.push(this.index.rows.relationship(row));
      lastRow = row;
    }
    const nextCursor =
      more && lastRow >= 0 ? encodeReadCursor(filter, this.index.rows.key(lastRow)) : undefined;
    return { relationships, nextCursor, revision: this.current };
  }

  /**
   * The set as it stands now, so later writes never show through. Holds the live row numbers
   * (4 bytes a relationship, in row order: a graph build or an image needs no key order, and
   * asking for it would build the key ordering and keep it up to date on every later write) and
   * builds each chunk's objects as it is read. A commit that removes a row the snapshot still
   * needs copies that one row out first (SnapshotRows), so writes go on while it is read. Once an
   * iteration has ended (read through or abandoned) and none is in progress, the next commit
   * ends it: its next iteration fails with ChangelogTruncatedError instead (take a new one), as
   * the contract allows. One never read keeps its rows until it is released.
   */
  async snapshot(): Promise<MemoryStoreSnapshot> {
    this.assertOpen();
    const { chunkSize: size } = this;
    const revision = this.current;
    const kept = new SnapshotRows(this.index, this.index.rows.liveRows());
    const { rows } = kept;
    let stale = false;
    let reading = 0;
    let iterated = false;
    let released = false;
    const end = (): void => {
      stale = true;
      this.openSnapshots.delete(open);
    };
    const open: OpenSnapshot = {
      beforeCommit: () => {
        if (reading === 0 && iterated) end();
      },
      rowRemoving: (row) => kept.rowRemoving(row),
    };
    this.openSnapshots.add(open);
    const current = (): Revision => this.current;
    return {
      revision,
      release: () => {
        released = true;
        end();
      },
      async *chunks(): AsyncIterable<readonly Relationship[]> {
        if (stale) {
          throw new ChangelogTruncatedError(
            released
              ? `the snapshot at revision ${revision} was released; take a new snapshot`
              : `the snapshot at revision ${revision} is no longer readable: the store has moved on to ${current()}; take a new snapshot`,
            current(),
          );
        }
        reading++;
        iterated = true;
        try {
          for (let i = 0; i < rows.length; i += size) {
            const last = Math.min(rows.length, i + size);
            const chunk: Relationship[] = [];
            for (let j = i; j < last; j++) chunk.push(kept.relationshipAt(rows[j] as number));
            yield chunk;
          }
        } finally {
          reading--;
        }
      },
    };
  }

  /**
   * The async watch of the contract, built on `subscribe`: argument errors throw at once, a
   * truncated changelog is the iteration's first failure, close() fails it with UnavailableError.
   */
  watch(after: Revision, signal?: AbortSignal): AsyncIterable<ChangeSet> {
    this.assertOpen();
    checkWatchRevision(after, this.current);
    let unsubscribe: Unsubscribe | undefined;
    const queue = new WatchQueue(this.watchBuffer, signal, () => {
      unsubscribe?.();
      this.watchers.delete(queue);
    });
    if (!queue.active) return queue;
    this.watchers.add(queue);
    try {
      unsubscribe = this.feed.subscribe(after, (change) => queue.push(change));
    } catch (err) {
      queue.fail(err as Error);
    }
    // The replay may already have overflowed and ended the queue before `unsubscribe` was set.
    if (!queue.active) unsubscribe?.();
    return queue;
  }

  /**
   * Memory only: `listener` is called synchronously at each commit after `after` (replayed
   * first), in revision order, exactly once each, even when it writes or subscribes itself.
   * Throws ChangelogTruncatedError if `after` is older than the retained changelog.
   */
  subscribe(after: Revision, listener: (change: ChangeSet) => void): Unsubscribe {
    this.assertOpen();
    checkWatchRevision(after, this.current);
    return this.feed.subscribe(after, listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.feed.close();
    for (const queue of [...this.watchers]) {
      queue.fail(new UnavailableError('the memory store was closed: it accepts no more calls'));
    }
    this.watchers.clear();
  }

  private assertOpen(): void {
    if (this.closed)
      throw new UnavailableError('the memory store is closed: it was shut down and accepts no more calls');
  }

  /** Throws FailedPreconditionError for the first precondition that does not hold now. */
  private checkPreconditions(preconditions: readonly Precondition[]): void {
    checkPreconditionOperations(preconditions);
    preconditions.forEach((p, i) => {
      const first = this.index.scan(p.filter).next();
      if (p.operation === 'must_match' && first.done) {
        throw new FailedPreconditionError(
          `precondition must_match failed: no relationship matches filter ${describeFilter(p.filter)}; re-read the current state and retry`,
          { field: `preconditions[${i}]` },
        );
      }
      if (p.operation === 'must_not_match' && !first.done) {
        throw new FailedPreconditionError(
          `precondition must_not_match failed: relationship '${this.index.rows.key(first.value)}' matches filter ${describeFilter(p.filter)}; re-read the current state and retry`,
          { field: `preconditions[${i}]` },
        );
      }
    });
  }

  /**
   * The changes `updates` make when applied in order, computed against an overlay so a failing
   * `create` aborts before anything is stored. Each state transition is reported, in order; a
   * touch that changes a present relationship's condition or expiry is reported as the delete of
   * the old one then the insert of the new, so a consumer applying changes in order ends up with
   * the new attributes.
   */
  private planUpdates(updates: readonly RelationshipUpdate[], eachOnce: boolean): RelationshipChange[] {
    // key → the relationship as the updates so far leave it (null: absent). Only needed when a
    // relationship may come twice: a batch known to name each once (a bulk load through a
    // RedisStore) skips building a key string per update.
    const overlay = eachOnce ? undefined : new Map<string, Relationship | null>();
    const changes: RelationshipChange[] = [];
    updates.forEach((u, i) => {
      const key = overlay === undefined ? undefined : relationshipKey(u.relationship);
      let present = key === undefined ? undefined : overlay?.get(key);
      if (present === undefined) {
        const row = this.index.find(u.relationship);
        present = row < 0 ? null : this.index.rows.relationship(row);
      }
      if (u.operation === 'delete') {
        if (present !== null) changes.push({ operation: 'delete', relationship: present });
        if (key !== undefined) overlay?.set(key, null);
        return;
      }
      if (present !== null && u.operation === 'create') {
        throw new AlreadyExistsError(
          `relationship '${key ?? relationshipKey(u.relationship)}' already exists: use operation 'touch' to write it whether or not it exists`,
          { field: `updates[${i}]` },
        );
      }
      const written = freezeRelationship(u.relationship);
      if (present !== null) {
        if (sameAttributes(attributesOf(present), attributesOf(written))) return;
        changes.push({ operation: 'delete', relationship: present });
      }
      changes.push({ operation: 'insert', relationship: written });
      if (key !== undefined) overlay?.set(key, written);
    });
    return changes;
  }

  /**
   * Applies planned changes as the next revision, packing them for the changelog as they go
   * (a delete is packed before its row is released), and hands the ChangeSet to watchers.
   */
  private commit(changes: readonly RelationshipChange[], committedAt: number = this.clock()): ChangeSet {
    for (const open of [...this.openSnapshots]) open.beforeCommit();
    const { openSnapshots } = this;
    const { index } = this;
    const retains = this.feed.retains && changes.length > 0;
    const packed = retains ? new Int32Array(changes.length * PACKED_WIDTH) : NO_CHANGES;
    // Consecutive deletes are removed together once the run ends: one pass over the indexes
    // instead of one seek each when an object with many relationships goes.
    const doomed: number[] = [];
    changes.forEach((change, i) => {
      if (change.operation === 'insert') {
        index.removeAll(doomed);
        doomed.length = 0;
        const row = index.insert(change.relationship);
        if (retains) index.rows.pack(packed, i, PACKED_INSERT, row);
        return;
      }
      const row = index.find(change.relationship);
      if (retains) index.rows.pack(packed, i, PACKED_DELETE, row);
      this.loadedRevision?.rowRemoving(row);
      for (const open of openSnapshots) open.rowRemoving(row);
      doomed.push(row);
    });
    index.removeAll(doomed);
    this.current += 1;
    const changeSet: ChangeSet = Object.freeze({
      revision: this.current,
      changes: Object.freeze([...changes]),
      committedAt,
    });
    this.feed.append(this.current, packed, changeSet);
    return changeSet;
  }
}
