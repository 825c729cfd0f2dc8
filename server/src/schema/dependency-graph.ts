// The dependency graph over (type, relation/permission) nodes: a permission depends on what its
// expression names (through refs and arrows), a relation on the relations its subject sets
// name. Its strongly connected components are the groups of mutually recursive rules.
import type { ExprAst } from '../policy/ast.js';
import type { DeclaredTypes } from './declared-types.js';

/** `contact#view`. */
export type NodeKey = string;

export function nodeKey(type: string, name: string): NodeKey {
  return `${type}#${name}`;
}

/** True when `type` declares a relation or permission `name`. */
export function declares(types: DeclaredTypes, type: string, name: string): boolean {
  const t = types.get(type);
  return t !== undefined && (t.relations.has(name) || t.permissions.has(name));
}

/** The nodes an expression reads directly: refs on its own type, arrow relations and their targets. */
export function expressionDependencies(expr: ExprAst, ownerType: string, types: DeclaredTypes): NodeKey[] {
  switch (expr.op) {
    case 'ref':
      return [nodeKey(ownerType, expr.name)];
    case 'arrow':
    case 'allArrow': {
      const out = [nodeKey(ownerType, expr.via)];
      // Plain types and subject sets alike: the arrow walks to the object either way, and only
      // the types that define the target are evaluated.
      for (const allowed of types.get(ownerType)?.relations.get(expr.via)?.allowed ?? []) {
        if (!allowed.wildcard && declares(types, allowed.type, expr.name)) {
          out.push(nodeKey(allowed.type, expr.name));
        }
      }
      return out;
    }
    case 'union':
    case 'intersection':
      return expr.operands.flatMap((o) => expressionDependencies(o, ownerType, types));
    case 'exclusion':
      return [
        ...expressionDependencies(expr.base, ownerType, types),
        ...expressionDependencies(expr.subtract, ownerType, types),
      ];
  }
}

/** Edges of every relation and of every permission in `permissions` (those that compiled). */
export function buildDependencyGraph(
  types: DeclaredTypes,
  compiled: ReadonlySet<NodeKey>,
): Map<NodeKey, NodeKey[]> {
  const graph = new Map<NodeKey, NodeKey[]>();
  for (const t of types.values()) {
    for (const r of t.relations.values()) {
      graph.set(
        nodeKey(t.ast.name, r.name),
        r.allowed.filter((a) => a.relation !== undefined).map((a) => nodeKey(a.type, a.relation!)),
      );
    }
    for (const p of t.permissions.values()) {
      const key = nodeKey(t.ast.name, p.name);
      if (compiled.has(key)) graph.set(key, expressionDependencies(p.expr, t.ast.name, types));
    }
  }
  return graph;
}

/** Tarjan's algorithm: the component id of every node (nodes in one cycle share an id). */
export function stronglyConnectedComponents(
  graph: ReadonlyMap<NodeKey, readonly NodeKey[]>,
): Map<NodeKey, number> {
  const index = new Map<NodeKey, number>();
  const low = new Map<NodeKey, number>();
  const onStack = new Set<NodeKey>();
  const stack: NodeKey[] = [];
  const component = new Map<NodeKey, number>();
  let counter = 0;
  let components = 0;

  const visit = (v: NodeKey): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      let w: NodeKey;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.set(w, components);
      } while (w !== v);
      components++;
    }
  };

  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return component;
}

/** A shortest path `from` … `to` along edges (both ends included), or undefined. */
export function shortestPath(
  graph: ReadonlyMap<NodeKey, readonly NodeKey[]>,
  from: NodeKey,
  to: NodeKey,
): NodeKey[] | undefined {
  const previous = new Map<NodeKey, NodeKey | null>([[from, null]]);
  const queue = [from];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i]!;
    if (v === to) {
      const path: NodeKey[] = [];
      for (let n: NodeKey | null = v; n !== null; n = previous.get(n)!) path.push(n);
      return path.reverse();
    }
    for (const w of graph.get(v) ?? []) {
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return undefined;
}
