// The Store contract: the durable, totally ordered relationship set and its changelog.
// Implementations: MemoryStore (embedded default) and, later, RedisStore. Both run the
// shared contract suite in test/store/store-contract.ts. The engine never calls a Store; the
// service applies the changes a Store reports to the in-memory graph index.
import type { ObjectRef, Relationship } from '../model/relationship.js';
import type { DeletionConsequence } from '../schema/schema.js';

/** Revisions start at 0 (empty store) and grow by exactly 1 per committed write. */
export type Revision = number;

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

/** What actually changed: a `touch` of a present relationship changes nothing and is not reported. */
export interface RelationshipChange {
  readonly operation: 'insert' | 'delete';
  readonly relationship: Relationship;
}

/** One committed revision and its changes, in the order they were applied. */
export interface ChangeSet {
  readonly revision: Revision;
  readonly changes: readonly RelationshipChange[];
}

export interface ReadPage {
  readonly relationships: readonly Relationship[];
  /** Opaque; pass back to get the next page. Absent on the last page. */
  readonly nextCursor?: string | undefined;
  /** The revision the page was read at. */
  readonly revision: Revision;
}

export interface Snapshot {
  readonly revision: Revision;
  readonly relationships: readonly Relationship[];
}

export type Unsubscribe = () => void;

/**
 * The relationship store. Every mutating call is atomic: it commits exactly one new revision
 * (even when nothing changed, so a token always names a real revision) or throws and changes
 * nothing. Errors: InvalidArgumentError (bad filter), AlreadyExistsError (create of a present
 * relationship), FailedPreconditionError (precondition), UnavailableError (backend down).
 * Stores trust their input: the service validates relationships against the schema first.
 */
export interface Store {
  /** 'memory' or 'redis': for logs and metrics. */
  readonly kind: string;

  /** The latest committed revision. */
  revision(): Promise<Revision>;

  /** Apply updates in order in one revision, after checking every precondition. */
  write(updates: readonly RelationshipUpdate[], preconditions?: readonly Precondition[]): Promise<ChangeSet>;

  /** Delete every relationship matching the filter (at most `limit`, if given) in one revision. */
  deleteByFilter(
    filter: RelationshipFilter,
    preconditions?: readonly Precondition[],
    limit?: number,
  ): Promise<ChangeSet>;

  /**
   * Delete every relationship in which `object` appears, as resource or as subject (plain or
   * subject set), then apply the deletion consequences: for each resource that lost its last
   * subject of a consequence's relation, insert `resource#relation@consequence.subject`.
   * All in one revision.
   */
  deleteObject(object: ObjectRef, consequences: readonly DeletionConsequence[]): Promise<ChangeSet>;

  /** Relationships matching the filter, in a stable order, at most `limit` per page. */
  read(
    filter: RelationshipFilter,
    page: { readonly limit: number; readonly cursor?: string | undefined },
  ): Promise<ReadPage>;

  /** Every relationship at one revision: how a replica builds its graph at startup. */
  snapshot(): Promise<Snapshot>;

  /**
   * Deliver every ChangeSet with revision > `after`, in revision order, exactly once each, then
   * every later one as it commits. The listener is called synchronously with commit for the
   * memory store. Throws FailedPreconditionError if `after` is older than the retained changelog.
   */
  watch(after: Revision, listener: (change: ChangeSet) => void): Unsubscribe;

  close(): Promise<void>;
}
