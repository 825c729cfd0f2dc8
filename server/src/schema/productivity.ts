// Finds rules that can never be true: a permission (or relation) is productive when some way
// of satisfying it bottoms out in a directly stored subject. Computed as a least fixpoint;
// whatever is left unproductive can only recurse into itself.
import type { ExprAst } from '../policy/ast.js';
import type { DeclaredTypes } from './declared-types.js';
import type { NodeKey } from './dependency-graph.js';
import { buildDependencyGraph, declares, nodeKey } from './dependency-graph.js';

function productiveExpr(
  e: ExprAst,
  owner: string,
  types: DeclaredTypes,
  isProductive: (k: NodeKey) => boolean,
): boolean {
  switch (e.op) {
    case 'ref':
      return isProductive(nodeKey(owner, e.name));
    case 'arrow':
    case 'allArrow':
      // `.all()` needs one object that holds the target, like `->`: what makes every object
      // hold it is the data's business, not the schema's.
      return (
        isProductive(nodeKey(owner, e.via)) &&
        (types.get(owner)?.relations.get(e.via)?.allowed ?? []).some(
          (a) => !a.wildcard && declares(types, a.type, e.name) && isProductive(nodeKey(a.type, e.name)),
        )
      );
    case 'union':
      return e.operands.some((o) => productiveExpr(o, owner, types, isProductive));
    case 'intersection':
      return e.operands.every((o) => productiveExpr(o, owner, types, isProductive));
    case 'exclusion':
      // Subtraction never makes a rule satisfiable; only the base can.
      return productiveExpr(e.base, owner, types, isProductive);
  }
}

function isRuleProductive(
  key: NodeKey,
  types: DeclaredTypes,
  isProductive: (k: NodeKey) => boolean,
): boolean {
  const hash = key.lastIndexOf('#');
  const owner = key.slice(0, hash);
  const name = key.slice(hash + 1);
  const type = types.get(owner);
  const relation = type?.relations.get(name);
  if (relation !== undefined) {
    // A relation is grounded by any plain type or wildcard; through subject sets only if they are.
    return relation.allowed.some(
      (a) => a.relation === undefined || isProductive(nodeKey(a.type, a.relation)),
    );
  }
  const permission = type?.permissions.get(name);
  return permission !== undefined && productiveExpr(permission.expr, owner, types, isProductive);
}

/**
 * The relations and permissions (among `candidates`, the ones that compiled) that can never be
 * true. Nodes outside `candidates` count as productive so earlier errors do not cascade.
 * A worklist keeps this linear in the dependency edges: a rule is re-evaluated only when
 * one of the rules it reads has just become productive.
 */
export function findUnproductive(types: DeclaredTypes, candidates: ReadonlySet<NodeKey>): Set<NodeKey> {
  const dependents = new Map<NodeKey, NodeKey[]>();
  for (const [node, deps] of buildDependencyGraph(types, candidates)) {
    for (const dep of deps) {
      const list = dependents.get(dep);
      if (list === undefined) dependents.set(dep, [node]);
      else list.push(node);
    }
  }
  const productive = new Set<NodeKey>();
  const isProductive = (k: NodeKey): boolean => productive.has(k) || !candidates.has(k);
  const work = [...candidates];
  while (work.length > 0) {
    const key = work.pop()!;
    if (productive.has(key) || !isRuleProductive(key, types, isProductive)) continue;
    productive.add(key);
    for (const d of dependents.get(key) ?? []) work.push(d);
  }
  return new Set([...candidates].filter((k) => !productive.has(k)));
}
