// The engine's public contract: the questions Gatehouse answers over a Schema and a graph.
// Consumers depend on the narrowest interface they need (the policy test runner on Checker).
import type { GatehouseError } from '../errors.js';
import type { ObjectRef, Relationship, SubjectRef } from '../model/relationship.js';
import type { LookupCacheLimits } from './lookup-cache.js';

/** What a request brings besides its question: condition parameters, extra relationships, time. */
export interface RequestFacts {
  /** Values for condition parameters a relationship does not store itself, by parameter name. */
  readonly context?: Readonly<Record<string, unknown>> | undefined;
  /** Relationships that hold for this request only (validated like a write, never stored). */
  readonly contextualRelationships?: readonly Relationship[] | undefined;
  /** The request time in ms since the epoch: relationships expiring at or before it do not exist. Absent: now. */
  readonly now?: number | undefined;
}

/** "May `subject` do `permission` on `resource`?" `permission` may also name a relation. */
export interface CheckRequest extends RequestFacts {
  readonly resource: ObjectRef;
  readonly permission: string;
  /** A plain object (`user:mike`); subject sets are accepted where the schema can hold them. */
  readonly subject: SubjectRef;
}

/**
 * The three answers: `conditional` when the answer depends on condition parameters the request
 * did not supply (never a silent deny); `missingContext` then names them.
 */
export type Permissionship = 'allowed' | 'denied' | 'conditional';

export interface Decision {
  readonly permissionship: Permissionship;
  /** Sorted parameter names, present only when `permissionship` is `conditional`. */
  readonly missingContext?: readonly string[] | undefined;
}

export type BatchCheckResult =
  | {
      /** True only for `allowed`: a conditional answer is not (yet) a permit. */
      readonly allowed: boolean;
      readonly permissionship: Permissionship;
      readonly missingContext?: readonly string[] | undefined;
      readonly error?: undefined;
    }
  | {
      readonly allowed?: undefined;
      readonly permissionship?: undefined;
      readonly missingContext?: undefined;
      readonly error: GatehouseError;
    };

/** The two answers every batch shares (results are read-only): no object per item. */
export const ALLOWED_RESULT: BatchCheckResult = Object.freeze({ allowed: true, permissionship: 'allowed' });
export const DENIED_RESULT: BatchCheckResult = Object.freeze({ allowed: false, permissionship: 'denied' });

/** An id whose answer is conditional, with the parameters it waits for. */
export interface ConditionalId {
  readonly id: string;
  /** Sorted parameter names. */
  readonly missingContext: readonly string[];
}

export interface LookupResourcesRequest extends RequestFacts {
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
  /**
   * Ids of this page whose answer is conditional (absent when none). A page holds up to `limit`
   * ids counting both lists, in one id order; the cursor is the last id of either.
   */
  readonly conditional?: readonly ConditionalId[] | undefined;
  readonly nextCursor?: string | undefined;
}

export interface LookupSubjectsRequest extends RequestFacts {
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
  /**
   * Subjects whose answer is conditional (absent when none), sorted by id; `*` stands for every
   * subject of the type not listed elsewhere. An id is in at most one of the lists.
   */
  readonly conditional?: readonly ConditionalId[] | undefined;
}

/** One node of an explanation tree: what was evaluated, on which object, and its result. */
export interface ExplainNode {
  /** `permission`/`relation`: a named rule on `object`; `arrow`: `via->name` or `via.all(name)`; set operators; `direct`: a stored relationship. */
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
  /** Permission/relation name, `via->name` or `via.all(name)` for arrows, the relationship string for `direct`. */
  readonly label: string;
  readonly result: boolean;
  /** True when this node's answer is conditional (then `result` is false). */
  readonly conditional?: boolean | undefined;
  /** What decided a `direct` node besides its existence: its condition's outcome, its expiry. */
  readonly detail?: string | undefined;
  readonly children: readonly ExplainNode[];
}

export interface Explanation extends Decision {
  readonly allowed: boolean;
  readonly root: ExplainNode;
}

/** Just the yes/no question: all the policy test runner needs. */
export interface Checker {
  /**
   * True only when the answer is `allowed` (a conditional answer is false here: use `decide`).
   * Throws InvalidArgumentError for unknown types/permissions, DepthExceededError past the depth limit.
   */
  check(request: CheckRequest): boolean;
  /** The three-valued answer, with the missing parameters of a conditional one. Throws as `check`. */
  decide(request: CheckRequest): Decision;
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
  /** The request time when a request names none (ms since the epoch): expiry is judged against it. */
  readonly clock?: (() => number) | undefined;
  /**
   * Bounds on the LookupResources answers kept per graph version (engine/lookup-cache.ts);
   * DEFAULT_LOOKUP_CACHE_LIMITS when unset. Benchmarks of the walk itself keep one answer.
   */
  readonly lookupCache?: LookupCacheLimits | undefined;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  maxDepth: 50,
  maxLookupPageSize: 10_000,
  clock: Date.now,
};
