// The Engine over a GraphIndex: validates requests, resolves names to numbers and runs the
// compiled plans (check), the backward walk (lookupResources), the forward walk
// (lookupSubjects) and the tree interpreter (explain).
import {
  asGatehouseError,
  DepthExceededError,
  FailedPreconditionError,
  InvalidArgumentError,
} from '../errors.js';
import type { GraphIndex } from '../graph/graph-index.js';
import type { IdInterner } from '../graph/interner.js';
import { NOT_INTERNED } from '../graph/interner.js';
import { WILDCARD_ID } from '../model/relationship.js';
import type { Schema } from '../schema/schema.js';
import type { CheckPlans } from './check-plan.js';
import { compileCheckPlans } from './check-plan.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { Explainer } from './explain.js';
import { LookupCache } from './lookup-cache.js';
import { collectCandidates, ReverseRules } from './lookup-resources.js';
import { collectSubjectCandidates } from './lookup-subjects.js';
import { selectPage } from './page-select.js';
import type { ResolvedSubject } from './resolve.js';
import { requireNode, requireType, resolveSubject } from './resolve.js';
import { SchemaModel } from './schema-model.js';
import {
  ALLOWED_RESULT,
  type BatchCheckResult,
  type CheckRequest,
  DEFAULT_ENGINE_OPTIONS,
  DENIED_RESULT,
  type Decision,
  type Engine,
  type EngineOptions,
  type Explanation,
  type LookupResourcesPage,
  type LookupResourcesRequest,
  type LookupSubjectsRequest,
  type LookupSubjectsResult,
} from './types.js';

const ALLOWED: Decision = Object.freeze({ permissionship: 'allowed' });
const DENIED: Decision = Object.freeze({ permissionship: 'denied' });

/** A request whose names all exist, resolved to numbers. */
interface ValidatedCheck {
  readonly node: number;
  /** Interned resource, or NOT_INTERNED if the object has never been seen. */
  readonly resource: number;
  readonly subject: ResolvedSubject;
  /** The subject is a set on the resource itself (see Query.unseenSelf). */
  readonly subjectOnResource: boolean;
}

/** Index of the first id in sorted `ids` greater than `after`. */
function upperBound(ids: readonly string[], after: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! > after) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function isStackOverflow(err: unknown): boolean {
  return err instanceof RangeError && /call stack/i.test(err.message);
}

class GraphEngine implements Engine {
  private readonly model: SchemaModel;
  private readonly plans: CheckPlans;
  private readonly rules: ReverseRules;
  /** Sorted LookupResources answers being paged through. */
  private readonly lookupCache = new LookupCache();
  // check()'s name caches: valid for the engine's life, since the schema never changes under it.
  private lastResourceType: string | undefined;
  private lastPermission: string | undefined;
  private lastNode = -1;
  private lastResourceInterner: IdInterner | undefined;
  private lastSubjectType: string | undefined;
  private lastSubjectTypeIndex = -1;
  private lastSubjectInterner: IdInterner | undefined;

  constructor(
    private readonly graph: GraphIndex,
    private readonly options: EngineOptions,
  ) {
    this.model = new SchemaModel(graph.schema);
    this.plans = compileCheckPlans(this.model, graph, options.maxDepth);
    this.rules = new ReverseRules(this.model, graph);
  }

  check(request: CheckRequest): boolean {
    // The hot path: the same steps as validate() + evaluate(), without allocating, and with
    // one-entry caches for the names (services ask the same type/permission over and over).
    const { resource, permission, subject } = request;
    if (resource.type !== this.lastResourceType || permission !== this.lastPermission) {
      requireType(this.model, resource.type, 'resource');
      this.lastNode = requireNode(this.model, resource.type, permission, 'permission').index;
      this.lastResourceInterner = this.graph.interner(resource.type)!;
      this.lastResourceType = resource.type;
      this.lastPermission = permission;
    }
    const node = this.lastNode;
    if (subject.type !== this.lastSubjectType) {
      this.lastSubjectTypeIndex = requireType(this.model, subject.type, 'subject');
      this.lastSubjectInterner = this.graph.interner(subject.type)!;
      this.lastSubjectType = subject.type;
    }
    const wildcard = subject.id === WILDCARD_ID;
    let subjectNode = -1;
    // '' means "no relation", as in store filters (proto3 strings cannot be absent).
    if (subject.relation !== undefined && subject.relation !== '') {
      if (wildcard) resolveSubject(this.model, this.graph, subject, 'subject'); // throws the wildcard error
      subjectNode = requireNode(this.model, subject.type, subject.relation, 'subject').index;
    }
    const subjectId = wildcard ? NOT_INTERNED : this.lastSubjectInterner!.lookup(subject.id);
    const x = this.lastResourceInterner!.lookup(resource.id);
    const unseenSelf =
      subjectNode !== -1 &&
      subjectId === NOT_INTERNED &&
      subject.type === resource.type &&
      subject.id === resource.id;
    this.plans.query.reset(this.lastSubjectTypeIndex, subjectId, subjectNode, wildcard, unseenSelf);
    return this.run(node, x);
  }

  decide(request: CheckRequest): Decision {
    return this.check(request) ? ALLOWED : DENIED;
  }

  checkBatch(requests: readonly CheckRequest[]): BatchCheckResult[] {
    return requests.map((request) => {
      try {
        return this.check(request) ? ALLOWED_RESULT : DENIED_RESULT;
      } catch (err) {
        return { error: asGatehouseError(err) };
      }
    });
  }

  lookupResources(request: LookupResourcesRequest): LookupResourcesPage {
    const limit = this.pageSize(request.limit);
    if (request.cursor === undefined) {
      // A first page is often the only one asked for: select it without sorting everything.
      // Ids in UTF-16 code-unit order: locale-independent and the same on every replica.
      const { page, more } = selectPage(this.visibleResources(request), undefined, limit);
      return more
        ? { resourceIds: page, nextCursor: encodeCursor(page[page.length - 1]!) }
        : { resourceIds: page };
    }
    // A later page: a client is paging through the answer. Sort it once and keep it until the
    // graph changes, so N ids in pages cost one walk, not one per page.
    const after = decodeCursor(request.cursor);
    const ids = this.sortedVisibleResources(request);
    const start = upperBound(ids, after);
    const end = Math.min(start + limit, ids.length);
    const page = ids.slice(start, end);
    return end < ids.length
      ? { resourceIds: page, nextCursor: encodeCursor(page[page.length - 1]!) }
      : { resourceIds: page };
  }

  *lookupResourcePages(request: LookupResourcesRequest): Generator<LookupResourcesPage> {
    const limit = this.pageSize(request.limit);
    const after = request.cursor === undefined ? undefined : decodeCursor(request.cursor);
    let ids = this.visibleResources(request);
    if (after !== undefined) ids = ids.filter((id) => id > after);
    ids.sort();
    if (ids.length === 0) {
      yield { resourceIds: [] };
      return;
    }
    for (let start = 0; start < ids.length; start += limit) {
      const page = ids.slice(start, start + limit);
      yield start + limit < ids.length
        ? { resourceIds: page, nextCursor: encodeCursor(page[page.length - 1]!) }
        : { resourceIds: page };
    }
  }

  /** visibleResources, sorted, from the cache while the graph is unchanged. */
  private sortedVisibleResources(request: LookupResourcesRequest): readonly string[] {
    const s = request.subject;
    const key = JSON.stringify([request.resourceType, request.permission, s.type, s.id, s.relation ?? '']);
    const version = this.graph.version;
    const cached = this.lookupCache.get(key, version);
    if (cached !== undefined) return cached;
    const ids = this.visibleResources(request).sort();
    this.lookupCache.set(key, version, ids);
    return ids;
  }

  /** Every id of `request.resourceType` on which the subject has the permission, unordered. */
  private visibleResources(request: LookupResourcesRequest): string[] {
    requireType(this.model, request.resourceType, 'resourceType');
    const node = requireNode(this.model, request.resourceType, request.permission, 'permission');
    const subject = resolveSubject(this.model, this.graph, request.subject, 'subject');

    const candidates = collectCandidates(this.model, this.graph, this.rules, node.index, subject);
    const interner = this.graph.interner(request.resourceType)!;
    let ids: string[];
    if (node.unionOnly) {
      ids = candidates.map((x) => interner.id(x));
    } else {
      ids = [];
      this.startQuery(subject);
      for (const x of candidates) if (this.run(node.index, x)) ids.push(interner.id(x));
    }
    // A subject set on a never-seen object of this type may hold on that object (identity);
    // the walk works on numbers and cannot reach it.
    const s = request.subject;
    if (subject.node !== -1 && subject.id === NOT_INTERNED && s.type === request.resourceType) {
      this.startQuery(subject, true);
      if (this.run(node.index, NOT_INTERNED)) ids.push(s.id);
    }
    return ids;
  }

  lookupSubjects(request: LookupSubjectsRequest): LookupSubjectsResult {
    const resourceType = request.resource.type;
    requireType(this.model, resourceType, 'resource');
    const node = requireNode(this.model, resourceType, request.permission, 'permission');
    const subjectTypeIndex = requireType(this.model, request.subjectType, 'subjectType');
    const subjectNode =
      request.subjectRelation === undefined || request.subjectRelation === ''
        ? -1
        : requireNode(this.model, request.subjectType, request.subjectRelation, 'subjectRelation').index;
    const x = this.graph.interner(resourceType)!.lookup(request.resource.id);
    const interner = this.graph.interner(request.subjectType)!;
    const candidates = collectSubjectCandidates(this.model, this.graph, node.index, x, {
      typeName: request.subjectType,
      node: subjectNode,
    });
    const holds = (id: number, unseenSelf = false): boolean => {
      this.startQuery({ typeIndex: subjectTypeIndex, id, node: subjectNode, wildcard: false }, unseenSelf);
      return this.run(node.index, x);
    };

    if (subjectNode !== -1) {
      const ids = candidates.filter((id) => holds(id)).map((id) => interner.id(id));
      // A never-seen resource can hold only a subject set on itself (identity).
      if (x === NOT_INTERNED && request.subjectType === resourceType && holds(NOT_INTERNED, true)) {
        ids.push(request.resource.id);
      }
      return { subjectIds: ids.sort(), wildcard: false, excludedIds: [] };
    }
    // A subject the walk never met answers like one never seen at all: the wildcard's answer.
    const wildcard = holds(NOT_INTERNED);
    const ids: string[] = [];
    for (const id of candidates) if (holds(id) !== wildcard) ids.push(interner.id(id));
    ids.sort();
    return wildcard
      ? { subjectIds: [], wildcard: true, excludedIds: ids }
      : { subjectIds: ids, wildcard: false, excludedIds: [] };
  }

  explain(request: CheckRequest): Explanation {
    const v = this.validate(request);
    const object = `${request.resource.type}:${request.resource.id}`;
    const unseenSelf = v.subjectOnResource && v.subject.id === NOT_INTERNED;
    const explainer = new Explainer(
      this.model,
      this.graph,
      this.options.maxDepth,
      v.subject,
      object,
      unseenSelf,
      (node, x) => {
        this.startQuery(v.subject, v.subjectOnResource);
        return this.run(node, x);
      },
    );
    try {
      const root = explainer.explainNode(v.node, v.resource, 0);
      return { allowed: root.result, permissionship: root.result ? 'allowed' : 'denied', root };
    } catch (err) {
      if (isStackOverflow(err)) throw new DepthExceededError(this.options.maxDepth);
      throw err;
    }
  }

  private validate(request: CheckRequest): ValidatedCheck {
    const { resource, permission, subject } = request;
    requireType(this.model, resource.type, 'resource');
    const node = requireNode(this.model, resource.type, permission, 'permission').index;
    const resolved = resolveSubject(this.model, this.graph, subject, 'subject');
    return {
      node,
      resource: this.graph.interner(resource.type)!.lookup(resource.id),
      subject: resolved,
      subjectOnResource: resolved.node !== -1 && subject.type === resource.type && subject.id === resource.id,
    };
  }

  private startQuery(s: ResolvedSubject, subjectOnResource = false): void {
    this.plans.query.reset(s.typeIndex, s.id, s.node, s.wildcard, subjectOnResource && s.id === NOT_INTERNED);
  }

  /** Runs a plan for the current query. The memo survives between runs for the same subject. */
  private run(node: number, x: number): boolean {
    try {
      return this.plans.evals[node]!(x, 0);
    } catch (err) {
      // A cut-short evaluation leaves in-progress marks behind: they must not leak into the next run.
      this.plans.query.memo = undefined;
      if (isStackOverflow(err)) throw new DepthExceededError(this.options.maxDepth);
      throw err;
    }
  }

  private pageSize(limit: number | undefined): number {
    if (limit === undefined || limit === 0) return this.options.maxLookupPageSize;
    if (!Number.isInteger(limit) || limit < 0) {
      throw new InvalidArgumentError(
        `limit ${limit} is not a valid page size; pass a positive integer or omit it`,
        {
          field: 'limit',
        },
      );
    }
    return Math.min(limit, this.options.maxLookupPageSize);
  }
}

/**
 * An Engine answering from `graph`, which must have been built for `schema`. Plans are compiled
 * here, once; later writes to the graph are seen by every call without recompiling.
 * Throws FailedPreconditionError if the graph was built for another schema, and
 * InvalidArgumentError for nonsensical options.
 */
export function createEngine(schema: Schema, graph: GraphIndex, options?: Partial<EngineOptions>): Engine {
  if (graph.schema !== schema && graph.schema.hash !== schema.hash) {
    throw new FailedPreconditionError(
      `the graph index was built for schema ${graph.schema.hash.slice(0, 12)}, not ${schema.hash.slice(0, 12)}; rebuild the index for the new schema`,
    );
  }
  const resolved: EngineOptions = { ...DEFAULT_ENGINE_OPTIONS, ...options };
  if (!Number.isInteger(resolved.maxDepth) || resolved.maxDepth < 1) {
    throw new InvalidArgumentError(`maxDepth ${resolved.maxDepth} must be a positive integer`, {
      field: 'maxDepth',
    });
  }
  if (!Number.isInteger(resolved.maxLookupPageSize) || resolved.maxLookupPageSize < 1) {
    throw new InvalidArgumentError(
      `maxLookupPageSize ${resolved.maxLookupPageSize} must be a positive integer`,
      {
        field: 'maxLookupPageSize',
      },
    );
  }
  return new GraphEngine(graph, resolved);
}
