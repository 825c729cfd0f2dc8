// The Store contract: the durable, totally ordered relationship set and its changelog.
// Implementations: MemoryStore (embedded default) and RedisStore. Both run the shared contract
// suite in test/store/store-contract.ts. The engine never calls a Store; the service's replica
// applies the changes a Store reports to the in-memory graph index. Stores know no schema rules.
import type { NumberedRelationshipVisitor, ObjectIds } from '../model/object-ids.js';
import type { Relationship } from '../model/relationship.js';

/** Revisions start at 0 (empty store) and grow by exactly 1 per committed write. */
export type Revision = number;

/**
 * Which store this is (one Redis holds many, each under its own hash tag) and the epoch of its
 * data. A new epoch means the data started anew (a fresh memory store without a data dir, a
 * Redis that came back empty): revisions of one epoch say nothing about another's.
 */
export interface StoreIdentity {
  /** --store NAME, default 'default'. */
  readonly name: string;
  /** Opaque, /^[0-9a-z]{1,16}$/. */
  readonly epoch: string;
}

/** The shape every store name and epoch has: they travel inside revision tokens. */
export const STORE_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const STORE_EPOCH_PATTERN = /^[0-9a-z]{1,16}$/;

export interface WriteOptions {
  /**
   * Commit only if the store is still at this revision; otherwise FailedPreconditionError whose
   * message says the store moved on (the caller re-plans and retries).
   */
  readonly expectRevision?: Revision | undefined;
}

/** Every field is optional; an empty filter matches everything (stores may refuse that for deletes). */
export interface RelationshipFilter {
  readonly resourceType?: string | undefined;
  readonly resourceId?: string | undefined;
  readonly relation?: string | undefined;
  readonly subjectType?: string | undefined;
  readonly subjectId?: string | undefined;
  /** '' matches only plain subjects (no relation); undefined matches any. */
  readonly subjectRelation?: string | undefined;
}

/** `create` fails with AlreadyExistsError if present; `touch` is an idempotent upsert; `delete` is idempotent. */
export type UpdateOperation = 'create' | 'touch' | 'delete';

export interface RelationshipUpdate {
  readonly operation: UpdateOperation;
  readonly relationship: Relationship;
}

/** Checked atomically with the write; a failing one aborts it with FailedPreconditionError. */
export interface Precondition {
  readonly operation: 'must_match' | 'must_not_match';
  readonly filter: RelationshipFilter;
}

/**
 * What actually changed: a `touch` of a present relationship with the same condition and expiry
 * changes nothing and is not reported; one that changes them is reported as the delete of the
 * stored relationship then the insert of the new one, in that order.
 */
export interface RelationshipChange {
  readonly operation: 'insert' | 'delete';
  readonly relationship: Relationship;
}

/** One committed revision and its changes, in the order they were applied. */
export interface ChangeSet {
  readonly revision: Revision;
  readonly changes: readonly RelationshipChange[];
  /** When the store committed it (ms since the epoch), for replication lag in seconds. */
  readonly committedAt?: number | undefined;
}

export interface ReadPage {
  readonly relationships: readonly Relationship[];
  /** Opaque; pass back to get the next page. Absent on the last page. */
  readonly nextCursor?: string | undefined;
  /** The revision the page was read at. */
  readonly revision: Revision;
}

/** The relationship set at one revision, delivered in chunks of bounded size. */
export interface StoreSnapshot {
  readonly revision: Revision;
  /**
   * Each call iterates the whole set again, in chunks; the store keeps `revision` readable until
   * the iteration ends (or fails with ChangelogTruncatedError / UnavailableError).
   */
  chunks(): AsyncIterable<readonly Relationship[]>;
}

/**
 * The relationship store. Every mutating call is atomic: it commits exactly one new revision
 * (even when nothing changed, so a token always names a real revision) or throws and changes
 * nothing. Errors: InvalidArgumentError (bad filter or option), AlreadyExistsError (create of a
 * present relationship), FailedPreconditionError (precondition, or expectRevision passed),
 * UnavailableError (backend down). Stores trust their input: the service validates
 * relationships against the schema first, and plans schema consequences (object deletion)
 * itself from reads at one revision, committed with `expectRevision`.
 */
export interface Store {
  /** 'memory' or 'redis': for logs and metrics. */
  readonly kind: string;

  /**
   * A store that numbers types and ids in this process (the memory store) offers its numbering,
   * so the graph built from it adopts the same numbers and each id is held once. Numbers are
   * never reused. Absent for stores that hold their data elsewhere.
   */
  readonly objectIds?: ObjectIds;

  /**
   * Offered with `objectIds`: every relationship to `visitor`, plain ones as numbers of that
   * numbering, synchronously at one revision, which it returns.
   */
  forEachNumbered?(visitor: NumberedRelationshipVisitor): Revision;

  /** The store's name and the epoch of its data. */
  identity(): Promise<StoreIdentity>;

  /** The latest committed revision. */
  revision(): Promise<Revision>;

  /** Apply updates in order in one revision, after checking every precondition (and expectRevision). */
  write(
    updates: readonly RelationshipUpdate[],
    preconditions?: readonly Precondition[],
    options?: WriteOptions,
  ): Promise<ChangeSet>;

  /** Delete every relationship matching the filter (at most `limit`, if given) in one revision. */
  deleteByFilter(
    filter: RelationshipFilter,
    preconditions?: readonly Precondition[],
    limit?: number,
  ): Promise<ChangeSet>;

  /** Relationships matching the filter, in a stable order, at most `limit` per page. */
  read(
    filter: RelationshipFilter,
    page: { readonly limit: number; readonly cursor?: string | undefined },
  ): Promise<ReadPage>;

  /** Every relationship at one revision, in chunks: how a replica builds its graph. */
  snapshot(): Promise<StoreSnapshot>;

  /**
   * Every ChangeSet with revision > `after`, in revision order, exactly once each, then each later
   * one as it commits, until `signal` aborts (the iteration then ends normally). Delivery is
   * asynchronous (a for-await loop). The iteration fails with:
   *  - ChangelogTruncatedError: `after` is older than the retained changelog → resync from a snapshot;
   *  - StoreEpochChangedError: the store's data started anew → never carry on by revision number;
   *  - UnavailableError: the backend cannot be reached → keep serving, retry from the last applied
   *    revision with backoff.
   * InvalidArgumentError (synchronously or as the first failure) for after < 0 or after > revision.
   */
  watch(after: Revision, signal?: AbortSignal): AsyncIterable<ChangeSet>;

  close(): Promise<void>;
}
