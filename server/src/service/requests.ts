// The service's request types: what transports decode into (`*Params`, unvalidated) and what
// the use cases run on once validated (`Validated*`). No wire or protobuf types here.
import type { ResolvedCheck, ResolvedLookupResources, ResolvedLookupSubjects } from '../engine/resolve.js';
import type { BatchCheckResult, ConditionalId, ExplainNode, Permissionship } from '../engine/types.js';
import type { GatehouseError, PolicyProblem } from '../errors.js';
import type { ObjectRef, Relationship, SubjectRef } from '../model/relationship.js';
import type { PolicyFileSource } from '../policy/policy-set.js';
import type {
  Precondition,
  RelationshipChange,
  RelationshipFilter,
  RelationshipUpdate,
  Revision,
} from '../store/store.js';

/** How fresh the answer must be. Absent means `minimize_latency`. */
export type ConsistencyParams =
  | { readonly kind: 'minimize_latency' }
  | { readonly kind: 'at_least_as_fresh'; readonly token: string }
  | { readonly kind: 'fully_consistent' };

export type ValidatedConsistency =
  | { readonly kind: 'minimize_latency' }
  | {
      readonly kind: 'at_least_as_fresh';
      readonly revision: Revision;
      /** The store and epoch the token was issued by. */
      readonly store: string;
      readonly epoch: string;
    }
  | { readonly kind: 'fully_consistent' };

/** Per-call facts the transport knows: who is calling and until when. */
export interface CallContext {
  /** Absolute deadline in ms since the epoch (Date.now() clock). */
  readonly deadline: number;
  /** The bearer token presented, if any. */
  readonly token?: string | undefined;
  readonly requestId?: string | undefined;
  /**
   * What decision log lines call this call's decisions, when not the operation's own name: the
   * AuthZEN routes answer through `checkNow` and log as `authzen`, with `decisionIndex` for the
   * position of the evaluation in an `evaluations` request.
   */
  readonly decisionKind?: 'authzen' | undefined;
  readonly decisionIndex?: number | undefined;
}

/**
 * What a check, batch item or lookup may carry besides its question: values for condition
 * parameters, and relationships that hold for this request only (validated like a write, never
 * stored). The request time that expiry is judged against is the service's clock.
 */
export interface RequestContextParams {
  readonly context?: Readonly<Record<string, unknown>> | undefined;
  readonly contextualRelationships?: readonly Relationship[] | undefined;
}

export interface CheckParams extends RequestContextParams {
  readonly consistency?: ConsistencyParams | undefined;
  readonly resource: ObjectRef;
  readonly permission: string;
  readonly subject: SubjectRef;
}

export interface CheckBatchItemParams extends RequestContextParams {
  readonly resource: ObjectRef;
  readonly permission: string;
  readonly subject: SubjectRef;
}

export interface CheckBatchParams {
  readonly consistency?: ConsistencyParams | undefined;
  readonly items: readonly CheckBatchItemParams[];
}

export interface LookupResourcesParams extends RequestContextParams {
  readonly consistency?: ConsistencyParams | undefined;
  readonly resourceType: string;
  readonly permission: string;
  readonly subject: SubjectRef;
  /** 0 or absent: the server's maximum page size. Larger values are capped to it. */
  readonly pageSize?: number | undefined;
  readonly cursor?: string | undefined;
}

export interface LookupSubjectsParams extends RequestContextParams {
  readonly consistency?: ConsistencyParams | undefined;
  readonly resource: ObjectRef;
  readonly permission: string;
  readonly subjectType: string;
  readonly subjectRelation?: string | undefined;
}

export interface WriteParams {
  readonly updates: readonly RelationshipUpdate[];
  readonly preconditions?: readonly Precondition[] | undefined;
}

export interface DeleteRelationshipsParams {
  readonly filter: RelationshipFilter;
  readonly preconditions?: readonly Precondition[] | undefined;
}

export interface DeleteObjectParams {
  readonly object: ObjectRef;
}

export interface ReadParams {
  readonly consistency?: ConsistencyParams | undefined;
  readonly filter: RelationshipFilter;
  readonly pageSize?: number | undefined;
  readonly cursor?: string | undefined;
}

export interface WatchParams {
  /** Start after this token; absent starts from the newest revision. */
  readonly startToken?: string | undefined;
}

export interface ValidatePoliciesParams {
  readonly files: readonly PolicyFileSource[];
}

export interface ValidatedCheck {
  readonly consistency: ValidatedConsistency;
  readonly check: ResolvedCheck;
}

export interface ValidatedCheckBatch {
  readonly consistency: ValidatedConsistency;
  /** In request order: a validated check, or the error that item gets in its slot. */
  readonly items: readonly (ResolvedCheck | GatehouseError)[];
  /** How many of `items` are errors: with none, `items` can go to the engine as they are. */
  readonly invalid: number;
}

export interface ValidatedLookupResources {
  readonly consistency: ValidatedConsistency;
  /** `limit` is the page size, already capped to the server's maximum. */
  readonly lookup: ResolvedLookupResources;
}

export interface ValidatedLookupSubjects {
  readonly consistency: ValidatedConsistency;
  readonly lookup: ResolvedLookupSubjects;
}

export interface ValidatedWrite {
  readonly updates: readonly RelationshipUpdate[];
  readonly preconditions: readonly Precondition[];
}

export interface ValidatedRead {
  readonly consistency: ValidatedConsistency;
  readonly filter: RelationshipFilter;
  readonly pageSize: number;
  readonly cursor: string | undefined;
}

/** Results, each stamped with the revision token it was computed at. */
export interface CheckResult {
  /** True only when `permissionship` is `allowed`. */
  readonly allowed: boolean;
  readonly permissionship: Permissionship;
  /** Sorted names of the condition parameters the request lacked; only when `conditional`. */
  readonly missingContext?: readonly string[] | undefined;
  readonly token: string;
}

export interface CheckBatchResult {
  readonly results: readonly BatchCheckResult[];
  readonly token: string;
}

export interface LookupResourcesResult {
  /** Resources the subject has the permission on. */
  readonly resourceIds: readonly string[];
  /**
   * Resources on which the answer is conditional, with the missing parameters; absent when none.
   * The page size counts both lists, which share one id order (the cursor follows it).
   */
  readonly conditional?: readonly ConditionalId[] | undefined;
  readonly nextCursor: string | undefined;
  readonly token: string;
}

export interface LookupSubjectsResult {
  readonly subjectIds: readonly string[];
  readonly wildcard: boolean;
  readonly excludedIds: readonly string[];
  /** Subjects whose answer is conditional (`*`: the wildcard's); absent when none. */
  readonly conditional?: readonly ConditionalId[] | undefined;
  readonly token: string;
}

export interface ExplainResult {
  readonly allowed: boolean;
  readonly permissionship: Permissionship;
  readonly missingContext?: readonly string[] | undefined;
  readonly root: ExplainNode;
  readonly token: string;
}

export interface WriteResult {
  readonly token: string;
}

export interface DeleteResult {
  readonly token: string;
  readonly deletedCount: number;
  /** Relationships inserted by declared deletion consequences (DeleteObject only). */
  readonly consequences: readonly Relationship[];
}

export interface ReadResult {
  readonly relationships: readonly Relationship[];
  readonly nextCursor: string | undefined;
  readonly token: string;
}

export interface WatchEvent {
  readonly changes: readonly RelationshipChange[];
  readonly token: string;
}

export interface SchemaResult {
  readonly schemaJson: string;
  readonly schemaHash: string;
}

export interface ValidatePoliciesResult {
  readonly valid: boolean;
  readonly problems: readonly PolicyProblem[];
}
