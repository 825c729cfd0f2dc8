// Numbers every type and every (type, relation-or-permission) "node" of a Schema, and finds the
// nodes that can recurse, so plans can index arrays instead of looking names up per check.
import type { Expr, ObjectTypeDef, PermissionDef, RelationDef, Schema } from '../schema/schema.js';
import { forEachExprLeaf } from '../schema/schema.js';

/** One relation or permission of one type. */
export interface SchemaNode {
  readonly index: number;
  readonly type: ObjectTypeDef;
  readonly typeIndex: number;
  readonly name: string;
  readonly def: RelationDef | PermissionDef;
  /**
   * True when evaluating this node can reach itself again through the schema (other than the
   * self-nesting edge a group closure answers), so evaluation must memoise and detect cycles.
   */
  readonly recursive: boolean;
  /** True when this node and everything it depends on use only `or` (no `and`, no `but not`). */
  readonly unionOnly: boolean;
  /** Number of the group of mutually recursive nodes this node belongs to. */
  readonly component: number;
  /**
   * True when this node's group recurses through `but not` (a permission of the group
   * subtracts something that leads back into the group). Such nodes are evaluated by the
   * well-founded semantics over the part of the graph they reach: see well-founded.ts.
   */
  readonly wellFounded: boolean;
}

export class SchemaModel {
  readonly types: readonly ObjectTypeDef[];
  readonly nodes: readonly SchemaNode[];
  private readonly typeNumbers = new Map<string, number>();
  private readonly nodeNumbers = new Map<string, number>();
  /** type → name → node: two lookups and no string building, for the per-request path. */
  private readonly nodesByType = new Map<string, Map<string, SchemaNode>>();

  constructor(readonly schema: Schema) {
    this.types = [...schema.types.values()];
    const drafts: {
      type: ObjectTypeDef;
      typeIndex: number;
      name: string;
      def: RelationDef | PermissionDef;
    }[] = [];
    this.types.forEach((type, typeIndex) => {
      this.typeNumbers.set(type.name, typeIndex);
      for (const def of [...type.relations.values(), ...type.permissions.values()]) {
        this.nodeNumbers.set(`${type.name}#${def.name}`, drafts.length);
        drafts.push({ type, typeIndex, name: def.name, def });
      }
    });
    const deps = drafts.map((d) => this.dependencies(d.type, d.def));
    const { recursive, component } = findRecursive(deps);
    const negative = drafts.map((d) => this.subtractedDependencies(d.type, d.def));
    const wellFoundedComponents = new Set<number>();
    negative.forEach((ns, v) => {
      for (const w of ns) if (component[w] === component[v]) wellFoundedComponents.add(component[v]!);
    });
    const unionOnly = findUnionOnly(
      drafts.map((d) => d.def),
      deps,
    );
    this.nodes = drafts.map((d, index) => ({
      ...d,
      index,
      recursive: recursive[index]!,
      unionOnly: unionOnly[index]!,
      component: component[index]!,
      wellFounded: wellFoundedComponents.has(component[index]!),
    }));
    for (const type of this.types) this.nodesByType.set(type.name, new Map());
    for (const node of this.nodes) this.nodesByType.get(node.type.name)!.set(node.name, node);
  }

  typeIndex(type: string): number | undefined {
    return this.typeNumbers.get(type);
  }

  node(type: string, name: string): SchemaNode | undefined {
    return this.nodesByType.get(type)?.get(name);
  }

  /** Like `node`, for names the compiled schema guarantees exist. */
  requireNode(type: string, name: string): SchemaNode {
    const node = this.node(type, name);
    if (node === undefined)
      throw new Error(`schema invariant broken: '${type}#${name}' is referenced but not defined`);
    return node;
  }

  /** The nodes the subtracted sides of `def`'s `but not`s read directly. */
  private subtractedDependencies(type: ObjectTypeDef, def: RelationDef | PermissionDef): number[] {
    if (def.kind === 'relation') return [];
    const out: number[] = [];
    const leaves = (e: Expr): void =>
      forEachExprLeaf(e, (leaf) => {
        if (leaf.op === 'ref') this.addNode(out, type.name, leaf.name);
        else
          for (const a of type.relations.get(leaf.via)?.allowed ?? []) this.addNode(out, a.type, leaf.name);
      });
    const walk = (e: Expr): void => {
      if (e.op === 'exclusion') {
        walk(e.base);
        leaves(e.subtract);
      } else if (e.op === 'union' || e.op === 'intersection') e.operands.forEach(walk);
    };
    walk(def.expr);
    return out;
  }

  private addNode(out: number[], type: string, name: string): void {
    const n = this.nodeNumbers.get(`${type}#${name}`);
    if (n !== undefined) out.push(n);
  }

  /** The nodes `def` evaluates directly. A relation's own self-nesting edge is left out. */
  private dependencies(type: ObjectTypeDef, def: RelationDef | PermissionDef): number[] {
    const out: number[] = [];
    const add = (t: string, name: string): void => {
      const n = this.nodeNumbers.get(`${t}#${name}`);
      if (n !== undefined) out.push(n);
    };
    if (def.kind === 'relation') {
      for (const a of def.allowed) {
        if (a.relation === undefined) continue;
        if (a.type === type.name && a.relation === def.name) continue;
        add(a.type, a.relation);
      }
      return out;
    }
    forEachExprLeaf(def.expr, (e) => {
      if (e.op === 'ref') add(type.name, e.name);
      else for (const a of type.relations.get(e.via)?.allowed ?? []) add(a.type, e.name);
    });
    return out;
  }
}

/**
 * Nodes on a dependency cycle (strongly connected components of size > 1, or self-loops), and
 * the component of every node.
 */
function findRecursive(deps: readonly number[][]): { recursive: boolean[]; component: number[] } {
  const n = deps.length;
  const index = new Array<number>(n).fill(-1);
  const low = new Array<number>(n).fill(0);
  const onStack = new Array<boolean>(n).fill(false);
  const stack: number[] = [];
  const result = new Array<boolean>(n).fill(false);
  const componentOf = new Array<number>(n).fill(-1);
  let components = 0;
  let counter = 0;
  // Iterative Tarjan: schemas are small, but recursion depth should not depend on user input.
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    const work: [number, number][] = [[root, 0]];
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const [v, i] = frame;
      if (i === 0) {
        index[v] = low[v] = counter++;
        stack.push(v);
        onStack[v] = true;
      }
      const edges = deps[v]!;
      if (i < edges.length) {
        frame[1] = i + 1;
        const w = edges[i]!;
        if (index[w] === -1) work.push([w, 0]);
        else if (onStack[w]) low[v] = Math.min(low[v]!, index[w]!);
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low[parent[0]] = Math.min(low[parent[0]]!, low[v]!);
      if (low[v] === index[v]) {
        const component: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = false;
          component.push(w);
        } while (w !== v);
        const cyclic = component.length > 1 || deps[v]!.includes(v);
        for (const c of component) {
          result[c] = cyclic;
          componentOf[c] = components;
        }
        components++;
      }
    }
  }
  return { recursive: result, component: componentOf };
}

function usesOnlyUnion(def: RelationDef | PermissionDef): boolean {
  if (def.kind === 'relation') return true;
  const walk = (e: Expr): boolean => {
    switch (e.op) {
      case 'ref':
      case 'arrow':
        return true;
      case 'union':
        return e.operands.every(walk);
      default:
        return false;
    }
  };
  return walk(def.expr);
}

/** A node is union-only if it and every node it can reach use only `or`. */
function findUnionOnly(defs: readonly (RelationDef | PermissionDef)[], deps: readonly number[][]): boolean[] {
  return defs.map((_, start) => {
    const seen = new Set<number>([start]);
    const queue = [start];
    for (let head = 0; head < queue.length; head++) {
      const v = queue[head]!;
      if (!usesOnlyUnion(defs[v]!)) return false;
      for (const w of deps[v]!) {
        if (!seen.has(w)) {
          seen.add(w);
          queue.push(w);
        }
      }
    }
    return true;
  });
}
