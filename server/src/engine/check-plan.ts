// Compiles every relation and permission of a schema once into a closure over the graph's edge
// sets: a check is then a few array reads and calls, with no name lookups or allocation unless
// the schema recurses (then a per-check memo detects cycles; see `memoised`).
import { DepthExceededError } from '../errors.js';
import type { SubjectKind } from '../graph/edge-set.js';
import type { GroupClosure } from '../graph/group-closure.js';
import type { Expr, ObjectTypeDef } from '../schema/schema.js';
import { existingRelationships } from './all-arrow.js';
import { MEMO_FALSE, MEMO_TRUE, Query } from './query.js';
import type { SchemaModel, SchemaNode } from './schema-model.js';
import { wellFoundedPlans } from './well-founded.js';

/** Evaluates one node on object `x` (NOT_INTERNED for an unseen object) at nesting `depth`. */
export type NodeEval = (x: number, depth: number) => boolean;

const FALSE: NodeEval = () => false;

/** Neighbour lists as plans read them (Adjacency has these). */
export interface NeighborLists {
  degree(node: number): number;
  neighbor(node: number, i: number): number;
}

/** The edges of one subject kind of a relation, as plans read them (EdgeSet is one). */
export interface PlanEdgeSet {
  readonly kind: SubjectKind;
  readonly subjectType: string;
  readonly subjectRelation: string;
  readonly forward: NeighborLists;
  readonly reverse: NeighborLists;
  has(resource: number, subject: number): boolean;
  /**
   * How many relationships of this kind `resource` has, granting or not (expired ones do not
   * exist): at least `forward.degree(resource)`. A view that lists only the granting ones (the
   * request view of conditional-check.ts) says so here; `via.all(name)` fails when they differ.
   * Absent: every relationship grants.
   */
  existing?(resource: number): number;
}

/** What plans read of a graph: a GraphIndex, or the request view of conditional-check.ts. */
export interface PlanGraph {
  relation(
    type: string,
    relation: string,
  ): { readonly edgeSets: readonly PlanEdgeSet[]; readonly closure: GroupClosure | undefined } | undefined;
}

/** The compiled plans: `evals[node.index]` answers that node for the query in `query`. */
export interface CheckPlans {
  readonly query: Query;
  readonly evals: readonly NodeEval[];
}

function anyOf(parts: readonly NodeEval[]): NodeEval {
  if (parts.length === 0) return FALSE;
  if (parts.length === 1) return parts[0]!;
  if (parts.length === 2) {
    const [a, b] = parts as [NodeEval, NodeEval];
    return (x, d) => a(x, d) || b(x, d);
  }
  if (parts.length === 3) {
    const [a, b, c] = parts as [NodeEval, NodeEval, NodeEval];
    return (x, d) => a(x, d) || b(x, d) || c(x, d);
  }
  return (x, d) => {
    for (let i = 0; i < parts.length; i++) if (parts[i]!(x, d)) return true;
    return false;
  };
}

function allOf(parts: readonly NodeEval[]): NodeEval {
  if (parts.length === 2) {
    const [a, b] = parts as [NodeEval, NodeEval];
    return (x, d) => a(x, d) && b(x, d);
  }
  return (x, d) => {
    for (let i = 0; i < parts.length; i++) if (!parts[i]!(x, d)) return false;
    return true;
  };
}

/**
 * `identity` maps a node to the number a subject set is compared by (identity and subject-set
 * edges): the node itself, except in the doubled schema of conditional-check.ts, where both
 * copies of a relation answer to one subject set. Applied at compile time: no cost per check.
 */
export function compileCheckPlans(
  model: SchemaModel,
  graph: PlanGraph,
  maxDepth: number,
  identity: (node: number) => number = (node) => node,
): CheckPlans {
  const query = new Query();
  const evals: NodeEval[] = new Array<NodeEval>(model.nodes.length).fill(FALSE);
  // Plans call each other through `evals` so that mutually recursive nodes can be compiled in any order.
  const call =
    (node: number): NodeEval =>
    (x, d) =>
      evals[node]!(x, d);
  const tooDeep = (): never => {
    throw new DepthExceededError(maxDepth);
  };

  /** Follows every edge of `edges` from x and evaluates `target` on the far end, one level deeper. */
  const followEdges = (edges: PlanEdgeSet, target: number): NodeEval => {
    const forward = edges.forward;
    return (x, d) => {
      const n = forward.degree(x);
      if (n === 0) return false;
      if (d >= maxDepth) tooDeep();
      const f = evals[target]!;
      for (let i = 0; i < n; i++) if (f(forward.neighbor(x, i), d + 1)) return true;
      return false;
    };
  };

  /** One subject kind of a relation: does x hold the query subject through this edge set? */
  const edgeSetPart = (edges: PlanEdgeSet): NodeEval => {
    const subjectType = model.typeIndex(edges.subjectType)!;
    if (edges.kind === 'object') {
      return (x) => query.isObjectOf(subjectType) && edges.has(x, query.subjectId);
    }
    if (edges.kind === 'wildcard') {
      // A wildcard grants every plain object of its type, and answers a wildcard query itself.
      const forward = edges.forward;
      return (x) => query.subjectType === subjectType && query.subjectNode === -1 && forward.degree(x) > 0;
    }
    const setNode = model.requireNode(edges.subjectType, edges.subjectRelation).index;
    const setIdentity = identity(setNode);
    const follow = followEdges(edges, setNode);
    return (x, d) => {
      if (query.subjectNode === setIdentity && query.subjectId >= 0 && edges.has(x, query.subjectId))
        return true;
      return follow(x, d);
    };
  };

  /** Identity: a subject set `type:id#name` is contained in `type:id#name`. */
  const withIdentity = (node: number, inner: NodeEval): NodeEval => {
    const self = identity(node);
    return (x, d) => query.isSubjectSet(self, x) || inner(x, d);
  };

  const memoised = (node: number, inner: NodeEval): NodeEval => {
    const base = node * 2 ** 32;
    return (x, d) => {
      const key = base + (x >>> 0);
      let memo = query.memo;
      if (memo === undefined) {
        memo = new Map();
        query.memo = memo;
      }
      const state = memo.get(key);
      if (state !== undefined) {
        if (state === MEMO_TRUE) return true;
        if (state === MEMO_FALSE) return false;
        // In progress: cut the cycle. Least fixed point: assume false, and remember the cut so
        // no false result that depended on the assumption is cached.
        if (state < query.cutMin) query.cutMin = state;
        return false;
      }
      const pos = query.stackPos++;
      memo.set(key, pos);
      const outerCut = query.cutMin;
      query.cutMin = Query.noCut;
      const result = inner(x, d);
      query.stackPos--;
      if (result) memo.set(key, MEMO_TRUE);
      else if (query.cutMin >= pos) memo.set(key, MEMO_FALSE);
      else memo.delete(key);
      if (outerCut < query.cutMin) query.cutMin = outerCut;
      return result;
    };
  };

  const compileExpr = (type: ObjectTypeDef, e: Expr): NodeEval => {
    switch (e.op) {
      case 'ref':
        return call(model.requireNode(type.name, e.name).index);
      case 'arrow': {
        // Subject-set edges lead to their subject's object too (SpiceDB walks the arrow to it);
        // types without the target are skipped, as SpiceDB and OpenFGA skip them.
        const parts: NodeEval[] = [];
        for (const edges of graph.relation(type.name, e.via)?.edgeSets ?? []) {
          const target = edges.kind === 'wildcard' ? undefined : model.node(edges.subjectType, e.name);
          if (target !== undefined) parts.push(followEdges(edges, target.index));
        }
        return anyOf(parts);
      }
      case 'allArrow':
        return allObjects(graph.relation(type.name, e.via)?.edgeSets ?? [], e.name);
      case 'union':
        return anyOf(e.operands.map((o) => compileExpr(type, o)));
      case 'intersection':
        return allOf(e.operands.map((o) => compileExpr(type, o)));
      case 'exclusion': {
        const base = compileExpr(type, e.base);
        const subtract = compileExpr(type, e.subtract);
        return (x, d) => base(x, d) && !subtract(x, d);
      }
    }
  };

  /**
   * `via.all(name)` over the edge sets of `via`: x holds it when `via` names at least one object,
   * every relationship of `via` grants (see PlanEdgeSet.existing), and `name` holds on every
   * object named. An object whose type lacks `name` fails it (SpiceDB: "no members" there).
   */
  const allObjects = (edgeSets: readonly PlanEdgeSet[], name: string): NodeEval => {
    const targets = edgeSets.map((edges) =>
      edges.kind === 'wildcard' ? -1 : (model.node(edges.subjectType, name)?.index ?? -1),
    );
    return (x, d) => {
      let named = 0;
      let existing = 0;
      for (let k = 0; k < edgeSets.length; k++) {
        const edges = edgeSets[k]!;
        const forward = edges.forward;
        const n = forward.degree(x);
        existing += existingRelationships(edges, x);
        if (n === 0) continue;
        const target = targets[k]!;
        if (target === -1) return false;
        if (d >= maxDepth) tooDeep();
        const f = evals[target]!;
        for (let i = 0; i < n; i++) if (!f(forward.neighbor(x, i), d + 1)) return false;
        named += n;
      }
      return named > 0 && named === existing;
    };
  };

  const compileRelation = (node: SchemaNode): NodeEval => {
    const slot = graph.relation(node.type.name, node.name)!;
    const generic = anyOf(slot.edgeSets.map(edgeSetPart));
    const closure = slot.closure;
    if (closure === undefined) return generic;
    // Without the closure (it gave up on a very deep graph) the self-nesting edge recurses, so
    // the fallback needs the cycle-detecting memo (recursive nodes get it around the whole plan).
    const walk = withIdentity(node.index, generic);
    const fallback = node.recursive ? walk : memoised(node.index, walk);
    return closureEval(node, closure, slot.edgeSets, fallback);
  };

  /** Answers a self-nesting relation with set lookups in the group closure. */
  const closureEval = (
    node: SchemaNode,
    closure: GroupClosure,
    edgeSets: readonly PlanEdgeSet[],
    fallback: NodeEval,
  ): NodeEval => {
    const self = node.index;
    const objectSets = edgeSets.filter((s) => s.kind === 'object');
    const objectTypes = objectSets.map((s) => model.typeIndex(s.subjectType)!);
    // Wildcards and other subject sets are checked on x and on every group nested in x.
    const others = anyOf(edgeSets.filter((s) => s.kind !== 'object' && s !== closure.edges).map(edgeSetPart));
    const hasOthers = others !== FALSE;
    return (x, d) => {
      if (!closure.enabled) return fallback(x, d);
      if (x < 0) return query.isSubjectSet(self, x);
      const subject = query.subjectId;
      if (query.subjectNode === self) {
        if (subject >= 0 && closure.isSelfOrNestedIn(subject, x)) return true;
      } else if (subject >= 0) {
        for (let k = 0; k < objectSets.length; k++) {
          if (!query.isObjectOf(objectTypes[k]!)) continue;
          const reverse = objectSets[k]!.reverse;
          for (let i = 0, n = reverse.degree(subject); i < n; i++) {
            if (closure.isSelfOrNestedIn(reverse.neighbor(subject, i), x)) return true;
          }
        }
      }
      if (!hasOthers) return false;
      if (others(x, d)) return true;
      const nested = closure.descendants(x);
      if (nested !== undefined) for (const g of nested) if (others(g, d)) return true;
      return false;
    };
  };

  const wellFounded = wellFoundedPlans(model, graph, query, evals, identity);
  for (const node of model.nodes) {
    const def = node.def;
    let plan: NodeEval;
    if (node.wellFounded) {
      evals[node.index] = wellFounded(node);
      continue;
    }
    // A self-nesting relation without a closure (a graph view that has none) recurses through
    // its own edge: it needs the cycle-detecting memo. A GraphIndex always has the closure.
    let selfNestingWalk = false;
    if (def.kind === 'permission') plan = withIdentity(node.index, compileExpr(node.type, def.expr));
    else if (graph.relation(node.type.name, node.name)!.closure === undefined) {
      plan = withIdentity(node.index, compileRelation(node));
      selfNestingWalk = def.allowed.some((a) => a.type === node.type.name && a.relation === node.name);
    } else plan = compileRelation(node);
    evals[node.index] = node.recursive || selfNestingWalk ? memoised(node.index, plan) : plan;
  }
  return { query, evals };
}
