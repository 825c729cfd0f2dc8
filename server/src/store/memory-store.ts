// MemoryStore: the embedded default Store. Holds the relationship set in process memory,
// commits each mutating call as one revision, and keeps a bounded changelog for watchers.
// Every call validates and checks preconditions before it touches anything, so a failure
// leaves no trace; commits are synchronous, so calls apply in the order they are made.
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  UnavailableError,
} from '../errors.js';
import type { ObjectRef, Relationship } from '../model/relationship.js';
import { formatObject, relationshipKey } from '../model/relationship.js';
import type { DeletionConsequence } from '../schema/schema.js';
import type { ListenerErrorHandler } from './change-feed.js';
import { ChangeFeed, NO_CHANGES } from './change-feed.js';
import { decodeReadCursor, encodeReadCursor } from './read-cursor.js';
import { describeFilter } from './relationship-filter.js';
import { RelationshipIndex, resourcePrefix } from './relationship-index.js';
import { freezeRelationship, PACKED_DELETE, PACKED_INSERT, PACKED_WIDTH } from './relationship-table.js';
import type {
  ChangeSet,
  Precondition,
  ReadPage,
  RelationshipChange,
  RelationshipFilter,
  RelationshipUpdate,
  Revision,
  Snapshot,
  Store,
  Unsubscribe,
} from './store.js';
import {
  checkDeleteFilter,
  checkDeleteLimit,
  checkPreconditionOperations,
  checkReadLimit,
  checkUpdateOperations,
  checkWatchRevision,
  DEFAULT_MAX_READ_LIMIT,
} from './store-arguments.js';

export interface MemoryStoreOptions {
  /** How many recent revisions `watch` can replay. Default 10 000. */
  readonly changelogRetention?: number;
  /** The largest page `read` serves. Default 10 000. */
  readonly maxReadLimit?: number;
  /** Told when a watch listener throws; the store carries on. Default: a process warning. */
  readonly onListenerError?: ListenerErrorHandler;
}

export const DEFAULT_CHANGELOG_RETENTION = 10_000;

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

export class MemoryStore implements Store {
  readonly kind = 'memory';
  private index = RelationshipIndex.empty();
  private feed: ChangeFeed;
  private readonly retention: number;
  private readonly onListenerError: ListenerErrorHandler;
  private readonly maxReadLimit: number;
  private current: Revision = 0;
  private closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    const retention = options.changelogRetention ?? DEFAULT_CHANGELOG_RETENTION;
    this.maxReadLimit = options.maxReadLimit ?? DEFAULT_MAX_READ_LIMIT;
    checkCount('changelogRetention', retention, 0);
    checkCount('maxReadLimit', this.maxReadLimit, 1);
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
    const store = new MemoryStore(options);
    const { index, sortedRows } = RelationshipIndex.build(relationships);
    // Nobody can be watching yet: swap in the loaded index and a feed over its strings.
    store.index = index;
    store.feed = new ChangeFeed(store.retention, index.rows, store.onListenerError);
    let packed = NO_CHANGES;
    if (store.feed.retains && sortedRows.length > 0) {
      packed = new Int32Array(sortedRows.length * PACKED_WIDTH);
      for (let i = 0; i < sortedRows.length; i++)
        index.rows.pack(packed, i, PACKED_INSERT, sortedRows[i] as number);
    }
    store.current = 1;
    store.feed.append(1, packed);
    return store;
  }

  /** How many relationships are stored: for metrics. */
  get size(): number {
    return this.index.size;
  }

  async revision(): Promise<Revision> {
    this.assertOpen();
    return this.current;
  }

  async write(
    updates: readonly RelationshipUpdate[],
    preconditions: readonly Precondition[] = [],
  ): Promise<ChangeSet> {
    this.assertOpen();
    checkUpdateOperations(updates);
    this.checkPreconditions(preconditions);
    return this.commit(this.planUpdates(updates));
  }

  async deleteByFilter(
    filter: RelationshipFilter,
    preconditions: readonly Precondition[] = [],
    limit?: number,
  ): Promise<ChangeSet> {
    this.assertOpen();
    checkDeleteFilter(filter);
    checkDeleteLimit(limit);
    this.checkPreconditions(preconditions);
    const changes: RelationshipChange[] = [];
    for (const row of this.index.scan(filter)) {
      if (limit !== undefined && changes.length >= limit) break;
      changes.push({ operation: 'delete', relationship: this.index.rows.relationship(row) });
    }
    return this.commit(changes);
  }

  async deleteObject(object: ObjectRef, consequences: readonly DeletionConsequence[]): Promise<ChangeSet> {
    this.assertOpen();
    const doomed = this.index.rowsMentioning(object);
    const deletes = [...doomed]
      .sort((a, b) => this.index.compare(a, b))
      .map(
        (row): RelationshipChange => ({
          operation: 'delete',
          relationship: this.index.rows.relationship(row),
        }),
      );
    const inserts = this.consequencesOf(object, deletes, doomed, consequences);
    return this.commit([...deletes, ...inserts]);
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

  async snapshot(): Promise<Snapshot> {
    this.assertOpen();
    return { revision: this.current, relationships: this.index.all() };
  }

  watch(after: Revision, listener: (change: ChangeSet) => void): Unsubscribe {
    this.assertOpen();
    checkWatchRevision(after, this.current);
    return this.feed.subscribe(after, listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.feed.close();
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
   * `create` aborts before anything is stored. Each state transition is reported, in order.
   */
  private planUpdates(updates: readonly RelationshipUpdate[]): RelationshipChange[] {
    const overlay = new Map<string, boolean>();
    const changes: RelationshipChange[] = [];
    updates.forEach((u, i) => {
      const key = relationshipKey(u.relationship);
      const present = overlay.get(key) ?? this.index.find(u.relationship) >= 0;
      if (u.operation === 'delete') {
        if (present) changes.push({ operation: 'delete', relationship: freezeRelationship(u.relationship) });
        overlay.set(key, false);
        return;
      }
      if (present && u.operation === 'create') {
        throw new AlreadyExistsError(
          `relationship '${key}' already exists: use operation 'touch' to write it whether or not it exists`,
          { field: `updates[${i}]` },
        );
      }
      if (!present) changes.push({ operation: 'insert', relationship: freezeRelationship(u.relationship) });
      overlay.set(key, true);
    });
    return changes;
  }

  /**
   * The consequence inserts of deleting `object`: for each resource (other than the object
   * itself) that lost its last subject of a relation with a declared consequence.
   */
  private consequencesOf(
    object: ObjectRef,
    deletes: readonly RelationshipChange[],
    doomed: ReadonlySet<number>,
    consequences: readonly DeletionConsequence[],
  ): RelationshipChange[] {
    if (consequences.length === 0) return [];
    const byRelation = new Map<string, DeletionConsequence[]>();
    for (const c of consequences) {
      const key = `${c.resourceType}#${c.relation}`;
      byRelation.set(key, [...(byRelation.get(key) ?? []), c]);
    }
    const objectKey = formatObject(object);
    const inserts = new Map<string, RelationshipChange>();
    const examined = new Set<string>();
    for (const { relationship: r } of deletes) {
      const declared = byRelation.get(`${r.resource.type}#${r.relation}`);
      if (declared === undefined || formatObject(r.resource) === objectKey) continue;
      const prefix = `${resourcePrefix(r.resource)}${r.relation}@`;
      if (examined.has(prefix)) continue;
      examined.add(prefix);
      if (this.anySurvivor(prefix, doomed)) continue;
      for (const c of declared) {
        // Re-granting to the object being deleted would undo the deletion; skip it.
        if (formatObject(c.subject) === objectKey) continue;
        const inserted = freezeRelationship({
          resource: r.resource,
          relation: r.relation,
          subject: c.subject,
        });
        inserts.set(relationshipKey(inserted), { operation: 'insert', relationship: inserted });
      }
    }
    return [...inserts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, change]) => change);
  }

  /** True when some relationship under `prefix` is not about to be deleted. */
  private anySurvivor(prefix: string, doomed: ReadonlySet<number>): boolean {
    for (const row of this.index.rowsWithPrefix(prefix)) if (!doomed.has(row)) return true;
    return false;
  }

  /**
   * Applies planned changes as the next revision, packing them for the changelog as they go
   * (a delete is packed before its row is released), and hands the ChangeSet to watchers.
   */
  private commit(changes: readonly RelationshipChange[]): ChangeSet {
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
      doomed.push(row);
    });
    index.removeAll(doomed);
    this.current += 1;
    const changeSet: ChangeSet = Object.freeze({
      revision: this.current,
      changes: Object.freeze([...changes]),
    });
    this.feed.append(this.current, packed, changeSet);
    return changeSet;
  }
}
