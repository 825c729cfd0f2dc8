// Evaluates the nodes of a group that recurses through `but not` (see SchemaNode.wellFounded)
// by the well-founded semantics, over the facts of that group the check reaches: the
// alternating fixpoint of Van Gelder. A fact the semantics leaves undetermined (the data forms
// a cycle through exclusion, e.g. `viewer: user but not restricted` with
// `doc:1#restricted@doc:1#viewer`) is false: the check is denied, as OpenFGA answers it.
// Facts of other groups are fixed booleans answered by the ordinary plans.
import type { Expr } from '../schema/schema.js';
import { existingRelationships } from './all-arrow.js';
import type { NodeEval, PlanGraph } from './check-plan.js';
import type { Query } from './query.js';
import { MEMO_FALSE, MEMO_TRUE } from './query.js';
import type { SchemaModel, SchemaNode } from './schema-model.js';

/** (node, object) as one number, the same key the per-check memo uses. */
const factKey = (node: number, x: number): number => node * 2 ** 32 + (x >>> 0);

/**
 * An evaluator for the well-founded nodes: `evaluate(node)` is the plan of that node. `evals`
 * answers every other node (it is read lazily, so it may still be filling in).
 */
export function wellFoundedPlans(
  model: SchemaModel,
  graph: PlanGraph,
  query: Query,
  evals: readonly NodeEval[],
  identity: (node: number) => number = (node) => node,
): (node: SchemaNode) => NodeEval {
  const solve = (root: SchemaNode, x0: number, depth: number): boolean => {
    const component = root.component;
    const facts: { node: number; x: number; key: number }[] = [];
    const known = new Set<number>();
    const register = (node: number, x: number): number => {
      const key = factKey(node, x);
      if (!known.has(key)) {
        known.add(key);
        facts.push({ node, x, key });
      }
      return key;
    };
    // `positive` holds the facts derived so far in this round; `fixed` the interpretation that
    // every fact under a `but not` is read from (Γ of the alternating fixpoint).
    let positive = new Set<number>();
    let fixed = new Set<number>();
    const leaf = (node: number, y: number, negated: boolean): boolean => {
      if (model.nodes[node]!.component !== component) return evals[node]!(y, depth + 1);
      const key = register(node, y);
      return negated ? fixed.has(key) : positive.has(key);
    };
    // Every operand is evaluated (no short-cut) so the first pass registers every fact reached.
    const expr = (owner: SchemaNode, e: Expr, x: number, negated: boolean): boolean => {
      switch (e.op) {
        case 'ref':
          return leaf(model.requireNode(owner.type.name, e.name).index, x, negated);
        case 'arrow': {
          let any = false;
          for (const edges of graph.relation(owner.type.name, e.via)?.edgeSets ?? []) {
            if (edges.kind === 'wildcard') continue;
            const target = model.node(edges.subjectType, e.name);
            if (target === undefined) continue;
            for (let i = 0, n = edges.forward.degree(x); i < n; i++) {
              if (leaf(target.index, edges.forward.neighbor(x, i), negated)) any = true;
            }
          }
          return any;
        }
        case 'allArrow': {
          // As the compiled plan (check-plan.ts, allObjects), without short-cuts.
          let every = true;
          let named = 0;
          let existing = 0;
          for (const edges of graph.relation(owner.type.name, e.via)?.edgeSets ?? []) {
            const n = edges.forward.degree(x);
            existing += existingRelationships(edges, x);
            named += n;
            const target = edges.kind === 'wildcard' ? undefined : model.node(edges.subjectType, e.name);
            if (n > 0 && target === undefined) every = false;
            if (target === undefined) continue;
            for (let i = 0; i < n; i++) {
              if (!leaf(target.index, edges.forward.neighbor(x, i), negated)) every = false;
            }
          }
          return every && named > 0 && named === existing;
        }
        case 'union':
          return e.operands.map((o) => expr(owner, o, x, negated)).some(Boolean);
        case 'intersection':
          return e.operands.map((o) => expr(owner, o, x, negated)).every(Boolean);
        case 'exclusion': {
          const base = expr(owner, e.base, x, negated);
          const subtract = expr(owner, e.subtract, x, true);
          return base && !subtract;
        }
      }
    };
    const body = (node: SchemaNode, x: number): boolean => {
      let holds = query.isSubjectSet(identity(node.index), x);
      const def = node.def;
      if (def.kind === 'permission') return expr(node, def.expr, x, false) || holds;
      for (const edges of graph.relation(node.type.name, node.name)!.edgeSets) {
        const subjectType = model.typeIndex(edges.subjectType)!;
        if (edges.kind === 'object') {
          if (query.isObjectOf(subjectType) && edges.has(x, query.subjectId)) holds = true;
        } else if (edges.kind === 'wildcard') {
          if (query.subjectType === subjectType && query.subjectNode === -1 && edges.forward.degree(x) > 0)
            holds = true;
        } else {
          const setNode = model.requireNode(edges.subjectType, edges.subjectRelation).index;
          if (
            query.subjectNode === identity(setNode) &&
            query.subjectId >= 0 &&
            edges.has(x, query.subjectId)
          )
            holds = true;
          for (let i = 0, n = edges.forward.degree(x); i < n; i++) {
            if (leaf(setNode, edges.forward.neighbor(x, i), false)) holds = true;
          }
        }
      }
      return holds;
    };
    /** Γ(J): the least set of facts derivable when everything subtracted is read from J. */
    const gamma = (j: Set<number>): Set<number> => {
      fixed = j;
      positive = new Set();
      for (let changed = true; changed; ) {
        changed = false;
        for (let i = 0; i < facts.length; i++) {
          const f = facts[i]!;
          if (!positive.has(f.key) && body(model.nodes[f.node]!, f.x)) {
            positive.add(f.key);
            changed = true;
          }
        }
      }
      return positive;
    };

    const rootKey = register(root.index, x0);
    // Rounds alternate between an under-estimate (true) and an over-estimate (true or
    // undetermined); the under-estimate only grows, so a round that adds nothing ends it.
    let under = new Set<number>();
    for (;;) {
      const over = gamma(under);
      const next = gamma(over);
      if (next.size === under.size) break;
      under = next;
    }
    let memo = query.memo;
    if (memo === undefined) {
      memo = new Map();
      query.memo = memo;
    }
    for (const f of facts) memo.set(f.key, under.has(f.key) ? MEMO_TRUE : MEMO_FALSE);
    return under.has(rootKey);
  };

  return (node) => (x, d) => {
    const state = query.memo?.get(factKey(node.index, x));
    if (state === MEMO_TRUE) return true;
    if (state === MEMO_FALSE) return false;
    return solve(node, x, d);
  };
}
