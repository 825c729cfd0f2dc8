// Finds rules that can never be true: a permission (or relation) is productive when some way
// of satisfying it bottoms out in a directly stored subject. Computed as a least fixpoint;
// whatever is left unproductive can only recurse into itself.
import type { ExprAst } from '../policy/ast.js';
import type { DeclaredTypes } from './declared-types.js';
import type { NodeKey } from './dependency-graph.js';
import { nodeKey } from './dependency-graph.js';

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
      return (
        isProductive(nodeKey(owner, e.via)) &&
        (types.get(owner)?.relations.get(e.via)?.allowed ?? []).some(
          (a) => !a.wildcard && a.relation === undefined && isProductive(nodeKey(a.type, e.name)),
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

/**
 * The relations and permissions (among `candidates`, the ones that compiled) that can never be
 * true. Nodes outside `candidates` count as productive so earlier errors do not cascade.
 */
export function findUnproductive(types: DeclaredTypes, candidates: ReadonlySet<NodeKey>): Set<NodeKey> {
  const productive = new Set<NodeKey>();
  const isProductive = (k: NodeKey): boolean => productive.has(k) || !candidates.has(k);
  let changed = true;
  while (changed) {
    changed = false;
    for (const t of types.values()) {
      for (const r of t.relations.values()) {
        const key = nodeKey(t.ast.name, r.name);
        if (productive.has(key)) continue;
        // A relation is grounded by any plain type or wildcard; through subject sets only if they are.
        const grounded = r.allowed.some(
          (a) => a.relation === undefined || isProductive(nodeKey(a.type, a.relation)),
        );
        if (grounded) {
          productive.add(key);
          changed = true;
        }
      }
      for (const p of t.permissions.values()) {
        const key = nodeKey(t.ast.name, p.name);
        if (productive.has(key) || !candidates.has(key)) continue;
        if (productiveExpr(p.expr, t.ast.name, types, isProductive)) {
          productive.add(key);
          changed = true;
        }
      }
    }
  }
  return new Set([...candidates].filter((k) => !productive.has(k)));
}
