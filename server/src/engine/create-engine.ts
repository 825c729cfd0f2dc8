// The Engine over a GraphIndex: resolves requests (resolve.ts; a request the service resolved
// already is taken as it is) and runs the compiled plans (check), the backward walk (lookupResources), the forward walk
// (lookupSubjects) and the tree interpreter (explain).
import {
  asGatehouseError,
  DepthExceededError,
  FailedPreconditionError,
  InvalidArgumentError,
} from '../errors.js';
import type { AttributedEdges } from '../graph/attributed-edges.js';
import type { GraphIndex } from '../graph/graph-index.js';
import { type IdInterner, NOT_INTERNED } from '../graph/interner.js';
import type { SubjectRef } from '../model/relationship.js';
import { WILDCARD_ID } from '../model/relationship.js';
import type { Schema } from '../schema/schema.js';
import type { CheckPlans } from './check-plan.js';
import { compileCheckPlans } from './check-plan.js';
import { ConditionalEvaluator, relationCones } from './conditional-check.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { Explainer } from './explain.js';
import { ConditionalExplainer } from './explain-conditional.js';
import { IdOrder } from './id-order.js';
import { type LookupAnswer, LookupCache } from './lookup-cache.js';
import { collectCandidates, ReverseRules } from './lookup-resources.js';
import { collectSubjectCandidates } from './lookup-subjects.js';
import {
  type CheckNames,
  ResolvedCheck,
  ResolvedLookupResources,
  ResolvedLookupSubjects,
  type ResolvedSubject,
  Resolver,
} from './resolve.js';
import type { SchemaModel } from './schema-model.js';
import {
  ALLOWED_RESULT,
  type BatchCheckResult,
  type CheckRequest,
  type ConditionalId,
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
  type RequestFacts,
} from './types.js';

const ALLOWED: Decision = Object.freeze({ permissionship: 'allowed' });
const DENIED: Decision = Object.freeze({ permissionship: 'denied' });

interface ResourceAnswer {
  readonly id: string;
  readonly decision: Decision;
}

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return (a ?? []).join(',') === (b ?? []).join(',');
}

/** One page of sorted three-valued answers after the cursor id `after`. */
function pageOf(
  answers: readonly ResourceAnswer[],
  after: string | undefined,
  limit: number,
): LookupResourcesPage {
  let start = 0;
  if (after !== undefined) while (start < answers.length && answers[start]!.id <= after) start++;
  const slice = answers.slice(start, start + limit);
  const resourceIds: string[] = [];
  const conditional: ConditionalId[] = [];
  for (const a of slice) {
    if (a.decision.permissionship === 'allowed') resourceIds.push(a.id);
    else conditional.push({ id: a.id, missingContext: a.decision.missingContext ?? [] });
  }
  const page: LookupResourcesPage = conditional.length === 0 ? { resourceIds } : { resourceIds, conditional };
  return start + limit < answers.length
    ? { ...page, nextCursor: encodeCursor(slice[slice.length - 1]!.id) }
    : page;
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
  private readonly resolver: Resolver;
  private lastType: string | undefined;
  private lastPermission: string | undefined;
  private lastSubjectType: string | undefined;
  private readonly lastNames: CheckNames = { node: -1, subjectTypeIndex: -1, subjectNode: -1 };
  /** Per type number, the graph's interner of that type (fixed for the graph's life). */
  private readonly interners: readonly IdInterner[];
  /** Per node number, the interner of the node's type: one load on the check path, not three. */
  private readonly nodeInterners: readonly IdInterner[];
  private readonly plans: CheckPlans;
  private readonly rules: ReverseRules;
  /** Sorted LookupResources answers being paged through. */
  private readonly lookupCache: LookupCache;
  /** type → the sorted order of its ids, for putting lookup answers in order. */
  private readonly idOrders = new Map<string, IdOrder>();
  /** Per node, the relations its answer reads (see relationCones). */
  private readonly cones: readonly string[][];
  /** Per node: does its cone hold an attributed relationship? Valid for `touchVersion`. */
  private touches: boolean[] = [];
  private touchVersion = -1;
  /** The graph's attributed relationships (held here: one load less on the hot path). */
  private readonly attributed: AttributedEdges;
  /** Built on the first query that needs three values. */
  private conditionalEvaluator: ConditionalEvaluator | undefined;

  constructor(
    private readonly graph: GraphIndex,
    private readonly options: EngineOptions,
  ) {
    this.resolver = new Resolver(graph.schema);
    this.model = this.resolver.model;
    this.interners = this.model.types.map((t) => graph.interner(t.name)!);
    this.nodeInterners = this.model.nodes.map((node) => this.interners[node.typeIndex]!);
    this.plans = compileCheckPlans(this.model, graph, options.maxDepth);
    this.rules = new ReverseRules(this.model, graph);
    this.cones = relationCones(this.model);
    this.attributed = graph.attributed;
    this.lookupCache = new LookupCache(options.lookupCache);
  }

  /**
   * Whether answering `node` for this request needs three values: it brings contextual
   * relationships, or the node's cone holds a relationship with a condition or an expiry.
   */
  private needsConditional(node: number, facts: RequestFacts): boolean {
    if (facts.contextualRelationships !== undefined && facts.contextualRelationships.length > 0) return true;
    const attributed = this.graph.attributed;
    if (attributed.size === 0) return false;
    if (this.touchVersion !== attributed.version) {
      this.touches = this.cones.map((cone) => cone.some((key) => attributed.has(key)));
      this.touchVersion = attributed.version;
    }
    return this.touches[node]!;
  }

  private conditional(): ConditionalEvaluator {
    this.conditionalEvaluator ??= new ConditionalEvaluator(
      this.graph.schema,
      this.graph,
      this.options.maxDepth,
    );
    return this.conditionalEvaluator;
  }

  /** `request` resolved against this engine's schema: as it is when the service resolved it. */
  private resolveCheck(request: CheckRequest): ResolvedCheck {
    return request instanceof ResolvedCheck && request.model === this.model
      ? request
      : this.resolver.check(request);
  }

  private resolveLookupResources(request: LookupResourcesRequest): ResolvedLookupResources {
    return request instanceof ResolvedLookupResources && request.model === this.model
      ? request
      : this.resolver.lookupResources(request);
  }

  /** The three-valued answer of a resolved check. */
  private decideConditional(request: ResolvedCheck): Decision {
    const ev = this.conditional();
    ev.begin(request);
    ev.setSubject(request.subject);
    return ev.decide(request.resource.type, request.resource.id, request.permission);
  }

  decide(request: CheckRequest): Decision {
    const n = this.numbersOf(request);
    if (this.needsConditional(n.node, request)) return this.decideConditional(this.resolveCheck(request));
    return this.evaluate(request, n) ? ALLOWED : DENIED;
  }

  check(request: CheckRequest): boolean {
    const n = this.numbersOf(request);
    if (
      (this.attributed.size !== 0 || request.contextualRelationships !== undefined) &&
      this.needsConditional(n.node, request)
    ) {
      return this.decideConditional(this.resolveCheck(request)).permissionship === 'allowed';
    }
    return this.evaluate(request, n);
  }

  /**
   * A check the service resolved is taken as it is; a plain one (in-process callers) has its
   * names resolved without allocating (Resolver.names). One that needs three values is then
   * resolved in full (resolveCheck), its facts checked too.
   */
  private numbersOf(request: CheckRequest): ResolvedCheck | CheckNames {
    // The last check's numbers, when this one names the same things and no subject set
    // (callers ask the same type and permission over and over).
    const { resource, permission, subject } = request;
    const last = this.lastNames;
    if (
      resource.type === this.lastType &&
      permission === this.lastPermission &&
      subject.type === this.lastSubjectType &&
      !subject.relation
    ) {
      return last;
    }
    if (request instanceof ResolvedCheck && request.model === this.model) return request;
    const n = this.resolver.names(request);
    if (n.subjectNode === -1) {
      last.node = n.node;
      last.subjectTypeIndex = n.subjectTypeIndex;
      last.subjectNode = -1;
      this.lastType = resource.type;
      this.lastPermission = permission;
      this.lastSubjectType = subject.type;
    }
    return n;
  }

  /** The two-valued answer over the unconditional graph: the hot path, allocating nothing. */
  private evaluate(request: CheckRequest, n: ResolvedCheck | CheckNames): boolean {
    const { resource, subject } = request;
    const wildcard = subject.id === WILDCARD_ID;
    const subjectId = wildcard ? NOT_INTERNED : this.interners[n.subjectTypeIndex]!.lookup(subject.id);
    const x = this.nodeInterners[n.node]!.lookup(resource.id);
    const subjectNode = n.subjectNode;
    const unseenSelf =
      subjectNode !== -1 &&
      subjectId === NOT_INTERNED &&
      subject.type === resource.type &&
      subject.id === resource.id;
    this.plans.query.reset(n.subjectTypeIndex, subjectId, subjectNode, wildcard, unseenSelf);
    return this.run(n.node, x);
  }

  checkBatch(requests: readonly CheckRequest[]): BatchCheckResult[] {
    return requests.map((request) => {
      try {
        const d = this.decide(request);
        if (d.permissionship === 'allowed') return ALLOWED_RESULT;
        if (d.permissionship === 'denied') return DENIED_RESULT;
        return { allowed: false, permissionship: 'conditional', missingContext: d.missingContext };
      } catch (err) {
        return { error: asGatehouseError(err) };
      }
    });
  }

  lookupResources(request: LookupResourcesRequest): LookupResourcesPage {
    const limit = this.pageSize(request.limit);
    const conditional = this.conditionalResources(request);
    if (conditional !== undefined) {
      const after = request.cursor === undefined ? undefined : decodeCursor(request.cursor);
      return pageOf(conditional, after, limit);
    }
    const after = request.cursor === undefined ? undefined : decodeCursor(request.cursor);
    const answer = this.sortedVisibleResources(request);
    return answer.page(after === undefined ? 0 : upperBound(answer.ids, after), limit);
  }

  *lookupResourcePages(request: LookupResourcesRequest): Generator<LookupResourcesPage> {
    const limit = this.pageSize(request.limit);
    const after = request.cursor === undefined ? undefined : decodeCursor(request.cursor);
    const conditional = this.conditionalResources(request);
    if (conditional !== undefined) {
      let from = after;
      for (;;) {
        const page = pageOf(conditional, from, limit);
        yield page;
        if (page.nextCursor === undefined) return;
        from = decodeCursor(page.nextCursor);
      }
    }
    // The answer is taken here, at the first next(); each later page is a slice of it, so a
    // caller may pause between pages while the graph takes writes.
    const answer = this.sortedVisibleResources(request);
    const ids = answer.ids;
    let start = after === undefined ? 0 : upperBound(ids, after);
    if (start >= ids.length) {
      yield { resourceIds: [] };
      return;
    }
    for (; start < ids.length; start += limit) yield answer.page(start, limit);
  }

  private lookupKey(request: LookupResourcesRequest): string {
    const s = request.subject;
    return JSON.stringify([request.resourceType, request.permission, s.type, s.id, s.relation || '']);
  }

  /**
   * visibleResources, from the cache while the graph is unchanged (the same question at the same
   * graph version has the same answer): a listing walks the graph once, whether it is paged with
   * cursors or streamed, and repeated listings of an unchanged answer do not walk at all.
   */
  private sortedVisibleResources(request: LookupResourcesRequest): LookupAnswer {
    const key = this.lookupKey(request);
    const version = this.graph.version;
    return (
      this.lookupCache.get(key, version) ?? this.lookupCache.set(key, version, this.visibleResources(request))
    );
  }

  /**
   * Every id of `request.resourceType` on which the subject has the permission, in UTF-16
   * code-unit order (locale-independent, the same on every replica).
   */
  private visibleResources(request: LookupResourcesRequest): string[] {
    const r = this.resolveLookupResources(request);
    const node = r.node;
    const subject = r.subjectIn(this.graph);

    const candidates = collectCandidates(this.model, this.graph, this.rules, node.index, subject);
    let objects: number[];
    if (node.unionOnly) {
      objects = candidates;
    } else {
      objects = [];
      this.startQuery(subject);
      for (const x of candidates) if (this.run(node.index, x)) objects.push(x);
    }
    const ids = this.idOrder(request.resourceType).sortedIds(objects);
    // A subject set on a never-seen object of this type may hold on that object (identity);
    // the walk works on numbers and cannot reach it.
    const s = r.subject;
    if (subject.node !== -1 && subject.id === NOT_INTERNED && s.type === request.resourceType) {
      this.startQuery(subject, true);
      if (this.run(node.index, NOT_INTERNED)) ids.splice(upperBound(ids, s.id), 0, s.id);
    }
    return ids;
  }

  /** The kept order of `type`'s ids, started again if the graph swapped the type's interner. */
  private idOrder(type: string): IdOrder {
    const interner = this.graph.interner(type)!;
    let order = this.idOrders.get(type);
    if (order === undefined || order.interner !== interner) {
      order = new IdOrder(interner);
      this.idOrders.set(type, order);
    }
    return order;
  }

  /**
   * A three-valued lookup: every object of the type is a candidate (the reverse walk reads only
   * the unconditional graph). Sorted answers that are allowed or conditional; undefined when
   * the ordinary lookup answers this request.
   */
  private conditionalResources(request: LookupResourcesRequest): ResourceAnswer[] | undefined {
    const r = this.resolveLookupResources(request);
    if (!this.needsConditional(r.node.index, r)) return undefined;
    const subject = r.subject;
    const ev = this.conditional();
    ev.begin(r);
    const ids = new Set(ev.candidateIds(request.resourceType));
    if (subject.relation !== undefined && subject.type === request.resourceType) ids.add(subject.id);
    const out: ResourceAnswer[] = [];
    for (const id of ids) {
      ev.setSubject(subject);
      const d = ev.decide(request.resourceType, id, request.permission);
      if (d.permissionship !== 'denied') out.push({ id, decision: d });
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** lookupSubjects in three values: see conditionalResources. */
  private conditionalSubjects(request: LookupSubjectsRequest, subjectNode: number): LookupSubjectsResult {
    const ev = this.conditional();
    ev.begin(request);
    const ids = new Set(ev.candidateIds(request.subjectType));
    const relation = subjectNode === -1 ? undefined : request.subjectRelation;
    if (relation !== undefined && request.subjectType === request.resource.type) ids.add(request.resource.id);
    const decideFor = (id: string): Decision => {
      const s: SubjectRef =
        relation === undefined
          ? { type: request.subjectType, id }
          : { type: request.subjectType, id, relation };
      ev.setSubject(s);
      return ev.decide(request.resource.type, request.resource.id, request.permission, ev.rule === 'strict');
    };
    // A subject no relationship names answers as every unnamed subject does: the wildcard's answer.
    const everyone = relation === undefined ? decideFor('~fresh') : DENIED;
    const subjectIds: string[] = [];
    const excludedIds: string[] = [];
    const conditional: ConditionalId[] = [];
    if (everyone.permissionship === 'conditional')
      conditional.push({ id: WILDCARD_ID, missingContext: everyone.missingContext ?? [] });
    for (const id of [...ids].sort()) {
      const d = decideFor(id);
      if (d.permissionship === 'conditional') {
        if (everyone.permissionship !== 'conditional' || !sameList(d.missingContext, everyone.missingContext))
          conditional.push({ id, missingContext: d.missingContext ?? [] });
      } else if (d.permissionship === 'allowed') {
        if (everyone.permissionship !== 'allowed') subjectIds.push(id);
      } else if (everyone.permissionship !== 'denied') excludedIds.push(id);
    }
    conditional.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const result = {
      subjectIds: everyone.permissionship === 'allowed' ? [] : subjectIds,
      wildcard: everyone.permissionship === 'allowed',
      excludedIds,
    };
    return conditional.length === 0 ? result : { ...result, conditional };
  }

  lookupSubjects(plain: LookupSubjectsRequest): LookupSubjectsResult {
    const request =
      plain instanceof ResolvedLookupSubjects && plain.model === this.model
        ? plain
        : this.resolver.lookupSubjects(plain);
    const resourceType = request.resource.type;
    const node = request.node;
    if (this.needsConditional(node.index, request))
      return this.conditionalSubjects(request, request.subjectNode);
    const subjectTypeIndex = request.subjectTypeIndex;
    const subjectNode = request.subjectNode;
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

  explain(plain: CheckRequest): Explanation {
    const request = this.resolveCheck(plain);
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
      if (this.needsConditional(v.node, request)) return this.explainConditional(request);
      const root = explainer.explainNode(v.node, v.resource, 0);
      return { allowed: root.result, permissionship: root.result ? 'allowed' : 'denied', root };
    } catch (err) {
      if (isStackOverflow(err)) throw new DepthExceededError(this.options.maxDepth);
      throw err;
    }
  }

  /**
   * The explanation of a three-valued answer: the tree walked in three values over the request's
   * view (explain-conditional.ts), each node allowed, denied or conditional, direct steps saying
   * what decided them (a condition's outcome and missing parameters, an expiry).
   */
  private explainConditional(request: ResolvedCheck): Explanation {
    const d = this.decideConditional(request);
    const ev = this.conditional();
    const { subject, resource } = request;
    const explainer = new ConditionalExplainer(
      this.model,
      this.graph,
      ev.state,
      this.options.maxDepth,
      {
        typeIndex: request.subjectTypeIndex,
        id: request.wildcard ? NOT_INTERNED : ev.state.idOf(subject.type, subject.id),
        node: request.subjectNode,
        wildcard: request.wildcard,
      },
      (node, x) => {
        const n = this.model.nodes[node]!;
        return ev.decide(n.type.name, ev.state.nameOf(n.type.name, x), n.name).permissionship;
      },
    );
    const root = explainer.explain(request.node, ev.state.idOf(resource.type, resource.id));
    const allowed = d.permissionship === 'allowed';
    return { allowed, permissionship: d.permissionship, missingContext: d.missingContext, root };
  }

  /** A resolved check's numbers in the graph as it stands. */
  private validate(request: ResolvedCheck): {
    readonly node: number;
    /** Interned resource, or NOT_INTERNED if the object has never been seen. */
    readonly resource: number;
    readonly subject: ResolvedSubject;
    /** The subject is a set on the resource itself (see Query.unseenSelf). */
    readonly subjectOnResource: boolean;
  } {
    const { resource, subject } = request;
    const resolved = request.subjectIn(this.graph);
    return {
      node: request.node,
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
