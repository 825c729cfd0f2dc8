// The engine's public contract: the questions Gatehouse answers over a Schema and a graph.
// Consumers depend on the narrowest interface they need (the policy test runner on Checker).
import type { GatehouseError } from '../errors.js';
import type { ObjectRef, SubjectRef } from '../model/relationship.js';

/** "May `subject` do `permission` on `resource`?" `permission` may also name a relation. */
export interface CheckRequest {
  readonly resource: ObjectRef;
  readonly permission: string;
  /** A plain object (`user:mike`); subject sets are accepted where the schema can hold them. */
  readonly subject: SubjectRef;
}

export type BatchCheckResult =
  | { readonly allowed: boolean; readonly error?: undefined }
  | { readonly allowed?: undefined; readonly error: GatehouseError };

/** The two answers every batch shares (results are read-only): no object per item. */
export const ALLOWED_RESULT: BatchCheckResult = Object.freeze({ allowed: true });
export const DENIED_RESULT: BatchCheckResult = Object.freeze({ allowed: false });

export interface LookupResourcesRequest {
  readonly resourceType: string;
  readonly permission: string;
  readonly subject: SubjectRef;
  /** Page size; the engine caps it with its own limit. */
  readonly limit?: number | undefined;
  /** Opaque, from a previous page. */
  readonly cursor?: string | undefined;
}

export interface LookupResourcesPage {
  /** Ids of `resourceType` objects the subject has the permission on, in a stable order. */
  readonly resourceIds: readonly string[];
  readonly nextCursor?: string | undefined;
}

export interface LookupSubjectsRequest {
  readonly resource: ObjectRef;
  readonly permission: string;
  readonly subjectType: string;
  /** Set to look up subject sets such as `group#member`; usually absent. */
  readonly subjectRelation?: string | undefined;
}

export interface LookupSubjectsResult {
  /** Concrete subjects of `subjectType` that have the permission, sorted. */
  readonly subjectIds: readonly string[];
  /** True when `subjectType:*` has the permission: every subject of the type does… */
  readonly wildcard: boolean;
  /** …except these (from `but not`), when `wildcard` is true. */
  readonly excludedIds: readonly string[];
}

/** One node of an explanation tree: what was evaluated, on which object, and its result. */
export interface ExplainNode {
  /** `permission`/`relation`: a named rule on `object`; `arrow`: `via->name`; set operators; `direct`: a stored relationship. */
  readonly kind:
    | 'permission'
    | 'relation'
    | 'arrow'
    | 'union'
    | 'intersection'
    | 'exclusion'
    | 'direct'
    | 'cycle';
  /** `type:id` the node was evaluated on. */
  readonly object: string;
  /** Permission/relation name, `via->name` for arrows, the relationship string for `direct`. */
  readonly label: string;
  readonly result: boolean;
  readonly children: readonly ExplainNode[];
}

export interface Explanation {
  readonly allowed: boolean;
  readonly root: ExplainNode;
}

/** Just the yes/no question: all the policy test runner needs. */
export interface Checker {
  /** Throws InvalidArgumentError for unknown types/permissions, DepthExceededError past the depth limit. */
  check(request: CheckRequest): boolean;
}

/** Every read-only question. Implementations answer from memory; none does I/O. */
export interface Engine extends Checker {
  /** Results in request order; one bad item yields an error in its slot, not a failed batch. */
  checkBatch(requests: readonly CheckRequest[]): BatchCheckResult[];
  lookupResources(request: LookupResourcesRequest): LookupResourcesPage;
  /**
   * Every page of one lookup from `request.cursor` on, the same pages repeated lookupResources
   * calls would give, from one walk of the graph: a stream of N ids costs O(N log N), not a walk
   * per page. The walk runs at the first `next()`; later pages only slice its answer, so the
   * graph may take writes between pages without changing them.
   */
  lookupResourcePages(request: LookupResourcesRequest): Iterable<LookupResourcesPage>;
  lookupSubjects(request: LookupSubjectsRequest): LookupSubjectsResult;
  explain(request: CheckRequest): Explanation;
}

export interface EngineOptions {
  /** Maximum nesting of evaluation steps (arrows, subject sets) before DepthExceededError. */
  readonly maxDepth: number;
  /** Upper bound on LookupResources page size. */
  readonly maxLookupPageSize: number;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = { maxDepth: 50, maxLookupPageSize: 10_000 };
