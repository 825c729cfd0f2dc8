// LookupSubjects candidates: walks forward from the resource through every edge the permission
// can use (the subtracted side of `but not` too) and collects the subjects of the requested
// kind found on the way. Every subject that is not collected answers like a never-seen one.
import type { GraphIndex } from '../graph/graph-index.js';
import { forEachExprLeaf } from '../schema/schema.js';
import type { SchemaModel } from './schema-model.js';

/** What to collect: plain objects of `typeName`, or subject sets `typeName#<node's name>`. */
export interface SubjectKindQuery {
  readonly typeName: string;
  /** Node number of the subject relation for subject sets, or -1 for plain objects. */
  readonly node: number;
}

/** Interned ids of the requested kind reachable from `(start, x)`, without duplicates. */
export function collectSubjectCandidates(
  model: SchemaModel,
  graph: GraphIndex,
  start: number,
  x: number,
  want: SubjectKindQuery,
): number[] {
  const seen = new Set<number>();
  const candidates = new Set<number>();
  const stackNodes: number[] = [];
  const stackObjects: number[] = [];
  const push = (node: number, y: number): void => {
    const key = node * 2 ** 32 + y;
    if (seen.has(key)) return;
    seen.add(key);
    stackNodes.push(node);
    stackObjects.push(y);
  };
  if (x >= 0) push(start, x);
  while (stackNodes.length > 0) {
    const node = model.nodes[stackNodes.pop()!]!;
    const y = stackObjects.pop()!;
    if (node.index === want.node) candidates.add(y);
    const def = node.def;
    if (def.kind === 'relation') {
      for (const edges of graph.relation(node.type.name, node.name)!.edgeSets) {
        if (edges.kind === 'wildcard') continue;
        const forward = edges.forward;
        const n = forward.degree(y);
        if (edges.kind === 'object') {
          if (want.node === -1 && edges.subjectType === want.typeName) {
            for (let i = 0; i < n; i++) candidates.add(forward.neighbor(y, i));
          }
          continue;
        }
        const next = model.requireNode(edges.subjectType, edges.subjectRelation).index;
        for (let i = 0; i < n; i++) push(next, forward.neighbor(y, i));
      }
      continue;
    }
    forEachExprLeaf(def.expr, (e) => {
      if (e.op === 'ref') {
        push(model.requireNode(node.type.name, e.name).index, y);
        return;
      }
      for (const edges of graph.relation(node.type.name, e.via)!.edgeSets) {
        const target = edges.kind === 'wildcard' ? undefined : model.node(edges.subjectType, e.name);
        if (target === undefined) continue;
        const next = target.index;
        for (let i = 0, n = edges.forward.degree(y); i < n; i++) push(next, edges.forward.neighbor(y, i));
      }
    });
  }
  return [...candidates];
}
