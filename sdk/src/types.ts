// Hand-written public types of the SDK: what callers pass and get back, free of protobuf.

/** An object such as `contact:prospect1`. `type` may carry a namespace: `team_crm/contact`. */
export interface ObjectRef {
  readonly type: string;
  readonly id: string;
}

/**
 * A subject: an object (`user:mike`), a subject set (`group:marketing#member`: every member
 * of the group) or a wildcard (`user:*`: every user).
 */
export interface SubjectRef {
  readonly type: string;
  /** The object id, or `*` for a wildcard. */
  readonly id: string;
  /** Present for a subject set only. */
  readonly relation?: string | undefined;
}

/** JSON values by name: a condition's parameters, a request's context. */
export type ContextValues = Readonly<Record<string, unknown>>;

/**
 * A named condition of the schema (a CEL expression) on a relationship, with the parameter
 * values stored with it; the parameters it lacks come from each check's `context`.
 */
export interface RelationshipCondition {
  readonly name: string;
  readonly context?: ContextValues | undefined;
}

/**
 * `resource#relation@subject`, optionally granting only while a condition holds and until an
 * expiry. Its identity is `resource#relation@subject`: a touch replaces condition and expiry.
 */
export interface Relationship {
  readonly resource: ObjectRef;
  readonly relation: string;
  readonly subject: SubjectRef;
  /** Present when the relationship grants only while this condition holds. */
  readonly condition?: RelationshipCondition | undefined;
  /** Present when the relationship stops granting at this instant. */
  readonly expiresAt?: Date | undefined;
}

/** An object, or its string form `'contact:p1'`. */
export type ObjectInput = ObjectRef | string;
/** A subject, or its string form `'user:mike'`, `'group:g#member'`, `'user:*'`. */
export type SubjectInput = SubjectRef | string;
/**
 * A relationship, its string form `'group:g#member@user:mike'` (optionally followed by
 * `[condition:{"param":1}]` and `[expiration:2026-12-31T00:00:00Z]`, SpiceDB's notation), or
 * parts in either form; `expiresAt` as a Date or an RFC 3339 string.
 */
export type RelationshipInput =
  | string
  | {
      readonly resource: ObjectInput;
      readonly relation: string;
      readonly subject: SubjectInput;
      readonly condition?: RelationshipCondition | undefined;
      readonly expiresAt?: Date | string | undefined;
    };

/** An opaque token naming a committed revision. Compare only for equality. */
export type RevisionToken = string;

/**
 * How fresh the state a read is answered from must be:
 * - `'minimize-latency'`: the server's local state now (server default; fastest);
 * - `'fully-consistent'`: the newest committed revision in the store;
 * - `{ atLeastAsFresh: token }`: state at least as new as a write's token;
 * - `'read-your-writes'` (client-wide or per call): `atLeastAsFresh` with the newest token this
 *   client received from a write, or `'minimize-latency'` before its first write.
 */
export type Consistency =
  | 'minimize-latency'
  | 'fully-consistent'
  | 'read-your-writes'
  | { readonly atLeastAsFresh: RevisionToken };

/** Options every call accepts. */
export interface CallOptions {
  /**
   * Give up after this many milliseconds (overrides the client's `defaultTimeoutMs`). 0 or less
   * has already run out (DeadlineExceededError, nothing sent); `Infinity` sets no deadline.
   */
  readonly timeoutMs?: number | undefined;
  /** Abort the call; it then rejects with CancelledError. */
  readonly signal?: AbortSignal | undefined;
  /**
   * Sent as `x-request-id` and echoed by the server into its logs. Checks coalesced into one
   * CheckBatch travel under the first one's id.
   */
  readonly requestId?: string | undefined;
}

/** Options of calls that read state. */
export interface ReadOptions extends CallOptions {
  /** Overrides the client's default consistency for this call. */
  readonly consistency?: Consistency | undefined;
}

/** What a check, a batch item or a lookup may add to the stored relationships. */
export interface RequestContext {
  /** Values for condition parameters the relationships do not store, e.g. `{ ip: '10.0.0.7' }`. */
  readonly context?: ContextValues | undefined;
  /** Relationships that hold for this request only: validated like a write, never stored. */
  readonly contextualRelationships?: readonly RelationshipInput[] | undefined;
}

/** "May `subject` do `permission` on `resource`?" */
export interface CheckRequest extends RequestContext {
  readonly resource: ObjectInput;
  /** A permission or relation name of the resource's type. */
  readonly permission: string;
  readonly subject: SubjectInput;
}

/**
 * `'conditional'`: granted if a condition holds whose parameters the request's context did not
 * all supply (named in `missingContext`); pass them and check again. Never counted as allowed.
 */
export type Permissionship = 'allowed' | 'denied' | 'conditional';

/** An answer: `allowed` is true only for `'allowed'`. */
export interface Decision {
  readonly allowed: boolean;
  readonly permissionship: Permissionship;
  /** With `'conditional'`: the context parameters the answer needs. */
  readonly missingContext?: readonly string[] | undefined;
}

/** The answer to one check. */
export interface CheckResult extends Decision {
  /** The revision the answer was computed at. */
  readonly checkedAt: RevisionToken;
}

/** One item of an explicit batch: an answer or that item's own error. */
export type CheckBatchItemResult =
  | (Decision & { readonly error?: undefined })
  | {
      readonly allowed?: undefined;
      readonly permissionship?: undefined;
      readonly missingContext?: undefined;
      readonly error: Error;
    };

/** The answers of an explicit batch, in request order. */
export interface CheckBatchResult {
  readonly results: readonly CheckBatchItemResult[];
  readonly checkedAt: RevisionToken;
}

/** An object or subject a lookup found only conditionally: granted if `missingContext` is supplied. */
export interface ConditionalResult {
  readonly id: string;
  readonly missingContext: readonly string[];
}

/** Which objects of a type may the subject act on? */
export interface LookupResourcesRequest extends RequestContext {
  readonly resourceType: string;
  readonly permission: string;
  readonly subject: SubjectInput;
  /** Ids per page; the server default when omitted, capped by the server. */
  readonly pageSize?: number | undefined;
  /** Resume after a page's `nextCursor`. */
  readonly cursor?: string | undefined;
}

/** One page of lookup results. */
export interface LookupResourcesPage {
  readonly resourceIds: readonly string[];
  /** Objects granted only if more context is supplied (not in `resourceIds`). */
  readonly conditional: readonly ConditionalResult[];
  /** Pass as `cursor` to resume after this page; empty on the last page. */
  readonly nextCursor: string;
  readonly lookedUpAt: RevisionToken;
}

/** Which subjects of a type may act on the resource? */
export interface LookupSubjectsRequest extends RequestContext {
  readonly resource: ObjectInput;
  readonly permission: string;
  readonly subjectType: string;
  /** Set to look up subject sets such as `group#member`. */
  readonly subjectRelation?: string | undefined;
}

export interface LookupSubjectsResult {
  readonly subjectIds: readonly string[];
  /** True when every subject of the type has the permission (a wildcard grant)… */
  readonly wildcard: boolean;
  /** …except these. */
  readonly excludedSubjectIds: readonly string[];
  /** Subjects granted only if more context is supplied (not in `subjectIds`). */
  readonly conditional: readonly ConditionalResult[];
  readonly lookedUpAt: RevisionToken;
}

/** A node of the evaluation tree returned by `explain`. */
export interface ExplainNode {
  /** `permission`, `relation`, `arrow`, `union`, `intersection`, `exclusion`, `direct` or `cycle`. */
  readonly kind: string;
  /** `type:id` the node was evaluated on. */
  readonly object: string;
  /** Rule name, `via->name` or `via.all(name)` for arrows, the relationship for `direct`. */
  readonly label: string;
  readonly result: boolean;
  readonly children: readonly ExplainNode[];
}

export interface ExplainResult extends Decision {
  readonly root: ExplainNode | undefined;
  readonly checkedAt: RevisionToken;
}

/** Matches relationships; omitted fields match anything. `resourceType` is required. */
export interface RelationshipFilter {
  readonly resourceType: string;
  readonly resourceId?: string | undefined;
  readonly relation?: string | undefined;
  readonly subjectType?: string | undefined;
  readonly subjectId?: string | undefined;
  /** Match subject sets with this relation only. */
  readonly subjectRelation?: string | undefined;
}

/** `create` fails the write if present; `touch` inserts or keeps; `delete` removes if present. */
export type UpdateOperation = 'create' | 'touch' | 'delete';

export interface RelationshipUpdate {
  readonly operation: UpdateOperation;
  readonly relationship: RelationshipInput;
}

/** A condition checked atomically with a write: some (`must-match`) or no (`must-not-match`) relationship matches. */
export interface Precondition {
  readonly operation: 'must-match' | 'must-not-match';
  readonly filter: RelationshipFilter;
}

/**
 * One atomic write. `updates` are applied in order; `create`, `touch` and `delete` are
 * shorthands appended after them in that order.
 */
export interface WriteRequest {
  readonly updates?: readonly RelationshipUpdate[] | undefined;
  readonly create?: readonly RelationshipInput[] | undefined;
  readonly touch?: readonly RelationshipInput[] | undefined;
  readonly delete?: readonly RelationshipInput[] | undefined;
  readonly preconditions?: readonly Precondition[] | undefined;
}

export interface WriteResult {
  readonly writtenAt: RevisionToken;
}

export interface DeleteRelationshipsRequest {
  readonly filter: RelationshipFilter;
  readonly preconditions?: readonly Precondition[] | undefined;
}

export interface DeleteResult {
  readonly deletedAt: RevisionToken;
  readonly deletedCount: number;
}

export interface DeleteObjectResult extends DeleteResult {
  /** Relationships written by the schema's declared deletion consequences (e.g. revert to `user:*`). */
  readonly consequences: readonly Relationship[];
}

export interface ReadRequest {
  readonly filter: RelationshipFilter;
  readonly pageSize?: number | undefined;
  readonly cursor?: string | undefined;
}

export interface ReadPage {
  readonly relationships: readonly Relationship[];
  readonly nextCursor: string;
  readonly readAt: RevisionToken;
}

export interface RelationshipChange {
  readonly operation: 'insert' | 'delete';
  readonly relationship: Relationship;
}

/** One committed revision seen by `watch`. */
export interface WatchEvent {
  readonly changes: readonly RelationshipChange[];
  /** Resume a watch after this event by passing it as `after`. */
  readonly changesThrough: RevisionToken;
}

export interface WatchOptions {
  /** Start after this token; omitted starts from now. */
  readonly after?: RevisionToken | undefined;
  /** Stop watching: the iterator ends without error. */
  readonly signal?: AbortSignal | undefined;
  readonly requestId?: string | undefined;
}

export interface SchemaResult {
  /** The loaded schema (types, relations, permissions) as parsed JSON. */
  readonly schema: unknown;
  /** The same, as the server's JSON text. */
  readonly schemaJson: string;
  /** sha256 of the compiled schema: equal on replicas serving the same policies. */
  readonly schemaHash: string;
}

export interface PolicyFile {
  /** Path used in problem positions, e.g. `team-crm/schema.yaml`. */
  readonly path: string;
  readonly content: string;
}

export interface PolicyProblem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** JSONPath-like location, e.g. `$.types.contact.permissions.view`. */
  readonly path: string;
  readonly message: string;
}

export interface ValidationResult {
  readonly valid: boolean;
  readonly problems: readonly PolicyProblem[];
}

export interface ReloadResult {
  /** `success`: the new policies serve; `unchanged`: they hash the same as the serving ones. */
  readonly result: 'success' | 'unchanged';
  /** The policy hash serving after the reload. */
  readonly policyHash: string;
  /** The policy hash serving before it. */
  readonly previousHash: string;
}
