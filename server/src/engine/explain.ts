// Explain: evaluates a check as a tree interpreter over the schema's expressions and the graph,
// recording every step it takes. Same semantics as the compiled plans (least fixed point, cycle
// cuts, depth limit), but walks nested groups edge by edge so the path can be shown.
import { DepthExceededError } from '../errors.js';
import type { EdgeSet } from '../graph/edge-set.js';
import type { GraphIndex } from '../graph/graph-index.js';
import { NOT_INTERNED } from '../graph/interner.js';
import type { Expr, ObjectTypeDef } from '../schema/schema.js';
import type { ResolvedSubject } from './resolve.js';
import type { SchemaModel } from './schema-model.js';
import type { ExplainNode } from './types.js';

const NO_CUT = Number.MAX_SAFE_INTEGER;

export class Explainer {
  private readonly done = new Map<number, ExplainNode>();
  private readonly inProgress = new Map<number, number>();
  private stackPos = 0;
  private cutMin = NO_CUT;

  constructor(
    private readonly model: SchemaModel,
    private readonly graph: GraphIndex,
    private readonly maxDepth: number,
    private readonly subject: ResolvedSubject,
    /** Names the top-level object even if it was never seen (and so has no number). */
    private readonly rootName: string,
    /** See Query.unseenSelf. */
    private readonly unseenSelf: boolean,
    /**
     * The answer for a node evaluated by the well-founded semantics (SchemaNode.wellFounded):
     * a path through a cycle in `but not` is not a derivation, so it is shown as one step.
     */
    private readonly decideWellFounded: (node: number, x: number) => boolean = () => false,
  ) {}

  explainNode(node: number, x: number, depth: number): ExplainNode {
    const info = this.model.nodes[node]!;
    const object = this.objectName(info.type.name, x);
    const key = node * 2 ** 32 + (x >>> 0);
    const cached = this.done.get(key);
    // A step met again is shown once: repeating its subtree would make the tree (and its JSON)
    // grow exponentially on graphs full of diamonds.
    if (cached !== undefined) return cached.children.length === 0 ? cached : { ...cached, children: [] };
    const pos = this.inProgress.get(key);
    if (pos !== undefined) {
      if (pos < this.cutMin) this.cutMin = pos;
      return { kind: 'cycle', object, label: info.name, result: false, children: [] };
    }
    const myPos = this.stackPos++;
    this.inProgress.set(key, myPos);
    const outerCut = this.cutMin;
    this.cutMin = NO_CUT;

    let result: ExplainNode;
    if (info.wellFounded) {
      result = {
        kind: info.def.kind,
        object,
        label: info.name,
        result: this.decideWellFounded(node, x),
        children: [
          {
            kind: 'direct',
            object,
            label: `${object}#${info.name} recurses through 'but not': decided by the well-founded semantics (an undetermined cycle denies)`,
            result: this.decideWellFounded(node, x),
            children: [],
          },
        ],
      };
    } else if (this.subject.node === node && this.subject.id === x && (x >= 0 || this.unseenSelf)) {
      result = {
        kind: info.def.kind,
        object,
        label: info.name,
        result: true,
        children: [
          {
            kind: 'direct',
            object,
            label: `${object}#${info.name} is the subject itself`,
            result: true,
            children: [],
          },
        ],
      };
    } else if (info.def.kind === 'relation') {
      const children = this.relationChildren(info.type, info.name, x, object, depth);
      result = {
        kind: 'relation',
        object,
        label: info.name,
        result: children.some((c) => c.result),
        children,
      };
    } else {
      const child = this.expr(info.type, info.def.expr, x, object, depth);
      result = { kind: 'permission', object, label: info.name, result: child.result, children: [child] };
    }

    this.stackPos--;
    this.inProgress.delete(key);
    if (result.result || this.cutMin >= myPos) this.done.set(key, result);
    if (outerCut < this.cutMin) this.cutMin = outerCut;
    return result;
  }

  private objectName(type: string, x: number): string {
    return x === NOT_INTERNED ? this.rootName : `${type}:${this.graph.interner(type)!.id(x)}`;
  }

  private relationChildren(
    type: ObjectTypeDef,
    relation: string,
    x: number,
    object: string,
    depth: number,
  ): ExplainNode[] {
    const children: ExplainNode[] = [];
    const s = this.subject;
    for (const edges of this.graph.relation(type.name, relation)!.edgeSets) {
      const subjectType = this.model.typeIndex(edges.subjectType)!;
      const forward = edges.forward;
      const stored = (subject: string): string => `${object}#${relation}@${subject}`;
      if (edges.kind === 'object') {
        if (s.typeIndex === subjectType && s.node === -1 && s.id >= 0 && edges.has(x, s.id)) {
          children.push(direct(object, stored(this.objectName(edges.subjectType, s.id)), true));
          return children;
        }
      } else if (edges.kind === 'wildcard') {
        if (s.typeIndex === subjectType && s.node === -1 && forward.degree(x) > 0) {
          children.push(direct(object, stored(`${edges.subjectType}:*`), true));
          return children;
        }
      } else {
        const setNode = this.model.requireNode(edges.subjectType, edges.subjectRelation).index;
        if (s.node === setNode && s.id >= 0 && edges.has(x, s.id)) {
          children.push(
            direct(
              object,
              stored(`${this.objectName(edges.subjectType, s.id)}#${edges.subjectRelation}`),
              true,
            ),
          );
          return children;
        }
        if (this.followSubjectSets(edges, setNode, x, stored, depth, children)) return children;
      }
    }
    return children;
  }

  /** Appends one `direct` node per stored subject set tried; returns true at the first that holds. */
  private followSubjectSets(
    edges: EdgeSet,
    setNode: number,
    x: number,
    stored: (subject: string) => string,
    depth: number,
    children: ExplainNode[],
  ): boolean {
    const n = edges.forward.degree(x);
    if (n === 0) return false;
    if (depth >= this.maxDepth) throw new DepthExceededError(this.maxDepth);
    for (let i = 0; i < n; i++) {
      const y = edges.forward.neighbor(x, i);
      const inner = this.explainNode(setNode, y, depth + 1);
      const label = stored(`${this.objectName(edges.subjectType, y)}#${edges.subjectRelation}`);
      children.push({ kind: 'direct', object: inner.object, label, result: inner.result, children: [inner] });
      if (inner.result) return true;
    }
    return false;
  }

  private expr(type: ObjectTypeDef, e: Expr, x: number, object: string, depth: number): ExplainNode {
    switch (e.op) {
      case 'ref':
        return this.explainNode(this.model.requireNode(type.name, e.name).index, x, depth);
      case 'arrow': {
        const children: ExplainNode[] = [];
        let result = false;
        for (const edges of this.graph.relation(type.name, e.via)!.edgeSets) {
          const targetNode =
            edges.kind === 'wildcard' ? undefined : this.model.node(edges.subjectType, e.name);
          if (targetNode === undefined) continue;
          const target = targetNode.index;
          const n = edges.forward.degree(x);
          if (n > 0 && depth >= this.maxDepth) throw new DepthExceededError(this.maxDepth);
          for (let i = 0; i < n && !result; i++) {
            const child = this.explainNode(target, edges.forward.neighbor(x, i), depth + 1);
            children.push(child);
            result = child.result;
          }
          if (result) break;
        }
        return { kind: 'arrow', object, label: `${e.via}->${e.name}`, result, children };
      }
      case 'allArrow':
        return this.allArrow(type, e, x, object, depth);
      case 'union': {
        const children: ExplainNode[] = [];
        for (const o of e.operands) {
          const c = this.expr(type, o, x, object, depth);
          children.push(c);
          if (c.result) break;
        }
        return { kind: 'union', object, label: 'or', result: children.some((c) => c.result), children };
      }
      case 'intersection': {
        const children: ExplainNode[] = [];
        for (const o of e.operands) {
          const c = this.expr(type, o, x, object, depth);
          children.push(c);
          if (!c.result) break;
        }
        return {
          kind: 'intersection',
          object,
          label: 'and',
          result: children.every((c) => c.result),
          children,
        };
      }
      case 'exclusion': {
        const base = this.expr(type, e.base, x, object, depth);
        if (!base.result)
          return { kind: 'exclusion', object, label: 'but not', result: false, children: [base] };
        const subtract = this.expr(type, e.subtract, x, object, depth);
        return {
          kind: 'exclusion',
          object,
          label: 'but not',
          result: !subtract.result,
          children: [base, subtract],
        };
      }
    }
  }

  /**
   * `via.all(name)`: one child per object tried, stopping at the first that fails; a `direct`
   * child says so when `via` names no object (then it is false) or one whose type lacks `name`.
   */
  private allArrow(
    type: ObjectTypeDef,
    e: Extract<Expr, { op: 'allArrow' }>,
    x: number,
    object: string,
    depth: number,
  ): ExplainNode {
    const label = `${e.via}.all(${e.name})`;
    const children: ExplainNode[] = [];
    let named = 0;
    let result = true;
    for (const edges of this.graph.relation(type.name, e.via)!.edgeSets) {
      const n = edges.forward.degree(x);
      if (n === 0) continue;
      named += n;
      const targetNode = edges.kind === 'wildcard' ? undefined : this.model.node(edges.subjectType, e.name);
      if (targetNode === undefined) {
        const y = this.objectName(edges.subjectType, edges.forward.neighbor(x, 0));
        children.push(direct(object, `${y} has no relation or permission '${e.name}'`, false));
        result = false;
        break;
      }
      if (depth >= this.maxDepth) throw new DepthExceededError(this.maxDepth);
      for (let i = 0; i < n && result; i++) {
        const child = this.explainNode(targetNode.index, edges.forward.neighbor(x, i), depth + 1);
        children.push(child);
        result = child.result;
      }
      if (!result) break;
    }
    if (named === 0) {
      children.push(direct(object, `${object}#${e.via} names no object, so '${label}' is false`, false));
      result = false;
    }
    return { kind: 'arrow', object, label, result, children };
  }
}

function direct(object: string, label: string, result: boolean): ExplainNode {
  return { kind: 'direct', object, label, result, children: [] };
}
