// LookupResources: walks the graph backwards from the subject to every (node, object) that may
// hold it, then keeps the target node's objects that really do (skipping the re-check when the
// permission uses only `or`, where every object reached is an answer).
import type { EdgeSet } from '../graph/edge-set.js';
import { WILDCARD_SUBJECT } from '../graph/edge-set.js';
import type { GraphIndex } from '../graph/graph-index.js';
import { forEachExprLeaf } from '../schema/schema.js';
import type { ResolvedSubject } from './resolve.js';
import type { SchemaModel } from './schema-model.js';

/** "If node `from` holds on x, node `to` may hold on every object `edges.reverse` lists for x." */
interface EdgeRule {
  readonly to: number;
  readonly edges: EdgeSet;
}

/** The backward propagation rules of every node, and the seed edge sets of every subject type. */
export class ReverseRules {
  /** node → nodes of the same object that use it positively (not under `but not`). */
  readonly sameObject: number[][];
  /** node → edge sets whose far end is that node (subject sets, arrows). */
  readonly acrossEdges: EdgeRule[][];
  /** type → edge sets holding plain objects of that type, with the relation node they grant. */
  readonly objectSeeds: EdgeRule[][];
  /** type → edge sets holding `type:*`. */
  readonly wildcardSeeds: EdgeRule[][];

  constructor(model: SchemaModel, graph: GraphIndex) {
    this.sameObject = model.nodes.map(() => []);
    this.acrossEdges = model.nodes.map(() => []);
    this.objectSeeds = model.types.map(() => []);
    this.wildcardSeeds = model.types.map(() => []);
    for (const slot of graph.relations()) {
      const to = model.requireNode(slot.resourceType, slot.relation).index;
      for (const edges of slot.edgeSets) {
        const subjectType = model.typeIndex(edges.subjectType)!;
        if (edges.kind === 'object') this.objectSeeds[subjectType]!.push({ to, edges });
        else if (edges.kind === 'wildcard') this.wildcardSeeds[subjectType]!.push({ to, edges });
        else
          this.acrossEdges[model.requireNode(edges.subjectType, edges.subjectRelation).index]!.push({
            to,
            edges,
          });
      }
    }
    for (const node of model.nodes) {
      if (node.def.kind !== 'permission') continue;
      const to = node.index;
      // The subtracted side of `but not` can only take objects away: it never makes one a candidate.
      forEachExprLeaf(
        node.def.expr,
        (e) => {
          if (e.op === 'ref') {
            this.sameObject[model.requireNode(node.type.name, e.name).index]!.push(to);
            return;
          }
          for (const edges of graph.relation(node.type.name, e.via)?.edgeSets ?? []) {
            const target = edges.kind === 'wildcard' ? undefined : model.node(edges.subjectType, e.name);
            if (target !== undefined) this.acrossEdges[target.index]!.push({ to, edges });
          }
        },
        { subtracted: false },
      );
    }
  }
}

/**
 * Every object of the target node's type that may hold the subject: a superset of the answer,
 * and exactly the answer when the target node is union-only. Objects are interned numbers; the
 * subject's own object is included (by identity) when the subject is a set of the target type.
 */
export function collectCandidates(
  model: SchemaModel,
  graph: GraphIndex,
  rules: ReverseRules,
  target: number,
  subject: ResolvedSubject,
): number[] {
  const visited: (Uint8Array | undefined)[] = new Array(model.nodes.length);
  const queueNodes: number[] = [];
  const queueObjects: number[] = [];
  const found: number[] = [];
  const visit = (node: number, x: number): void => {
    let seen = visited[node];
    if (seen === undefined) {
      const type = model.nodes[node]!.type.name;
      seen = new Uint8Array(graph.interner(type)!.size);
      visited[node] = seen;
    }
    if (seen[x] === 1) return;
    seen[x] = 1;
    if (node === target) found.push(x);
    queueNodes.push(node);
    queueObjects.push(x);
  };
  const seedFrom = (seeds: readonly EdgeRule[], s: number): void => {
    for (const { to, edges } of seeds) {
      const reverse = edges.reverse;
      for (let i = 0, n = reverse.degree(s); i < n; i++) visit(to, reverse.neighbor(s, i));
    }
  };

  if (subject.node === -1) {
    if (!subject.wildcard && subject.id >= 0) seedFrom(rules.objectSeeds[subject.typeIndex]!, subject.id);
    seedFrom(rules.wildcardSeeds[subject.typeIndex]!, WILDCARD_SUBJECT);
  } else if (subject.id >= 0) {
    // A subject set holds its own node on its own object (identity); propagating from there
    // reaches every place it is stored, since those are the subject-set edges into that node.
    visit(subject.node, subject.id);
  }

  for (let head = 0; head < queueNodes.length; head++) {
    const node = queueNodes[head]!;
    const x = queueObjects[head]!;
    for (const to of rules.sameObject[node]!) visit(to, x);
    for (const { to, edges } of rules.acrossEdges[node]!) {
      const reverse = edges.reverse;
      for (let i = 0, n = reverse.degree(x); i < n; i++) visit(to, reverse.neighbor(x, i));
    }
  }
  return found;
}
