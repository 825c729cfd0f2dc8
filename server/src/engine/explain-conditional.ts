// Explain in three values: the tree of a check that meets relationships with a condition or an
// expiry, or brings contextual ones. Walks the schema's expressions like explain.ts, over the
// unconditional graph plus the request's attributed and contextual edges as the RequestState
// judged them; every node is allowed, denied or conditional, combined as the check combines them
// (Kleene's logic), so the root agrees with the three-valued answer.
import { DepthExceededError } from '../errors.js';
import type { EdgeSet } from '../graph/edge-set.js';
import { WILDCARD_SUBJECT } from '../graph/edge-set.js';
import type { GraphIndex } from '../graph/graph-index.js';
import type { Relationship } from '../model/relationship.js';
import { formatRelationshipWithAttributes, WILDCARD_ID } from '../model/relationship.js';
import type { Expr, ObjectTypeDef } from '../schema/schema.js';
import type { RequestState } from './request-view.js';
import { DENIES, GRANTS } from './request-view.js';
import type { ResolvedSubject } from './resolve.js';
import type { SchemaModel } from './schema-model.js';
import type { ExplainNode, Permissionship } from './types.js';

const NO_CUT = Number.MAX_SAFE_INTEGER;

/** A node's value and its tree. */
interface Valued {
  readonly value: Permissionship;
  readonly node: ExplainNode;
}

/** `a or b` in three values. */
function or3(values: readonly Permissionship[]): Permissionship {
  if (values.includes('allowed')) return 'allowed';
  return values.includes('conditional') ? 'conditional' : 'denied';
}

/** `a and b` in three values. */
function and3(values: readonly Permissionship[]): Permissionship {
  if (values.includes('denied')) return 'denied';
  return values.includes('conditional') ? 'conditional' : 'allowed';
}

function not3(v: Permissionship): Permissionship {
  return v === 'allowed' ? 'denied' : v === 'denied' ? 'allowed' : 'conditional';
}

/** The ExplainNode fields of a value: `result` true only for allowed, `conditional` marks the third. */
function mark(value: Permissionship): { result: boolean; conditional: true | undefined } {
  return value === 'conditional'
    ? { result: false, conditional: true }
    : { result: value === 'allowed', conditional: undefined };
}

/** One edge of a relation for this request: an unconditional one, or an attributed/contextual one. */
interface RequestEdge {
  readonly subject: number;
  /** Absent for an edge of the unconditional graph. */
  readonly relationship?: Relationship | undefined;
  readonly contextual?: boolean | undefined;
}

export class ConditionalExplainer {
  private readonly done = new Map<number, Valued>();
  private readonly inProgress = new Map<number, number>();
  private stackPos = 0;
  private cutMin = NO_CUT;

  constructor(
    private readonly model: SchemaModel,
    private readonly graph: GraphIndex,
    private readonly state: RequestState,
    private readonly maxDepth: number,
    /** The subject, numbered by `state` (request-local numbers for objects only the request names). */
    private readonly subject: ResolvedSubject,
    /** The three-valued answer of a node evaluated by the well-founded semantics. */
    private readonly decideWellFounded: (node: number, x: number) => Permissionship,
  ) {}

  /** The tree for `node` on object number `x`; its root's value is the check's answer. */
  explain(node: number, x: number): ExplainNode {
    return this.explainNode(node, x, 0).node;
  }

  private explainNode(node: number, x: number, depth: number): Valued {
    const info = this.model.nodes[node]!;
    const object = `${info.type.name}:${this.state.nameOf(info.type.name, x)}`;
    const key = node * 2 ** 32 + (x >>> 0);
    const cached = this.done.get(key);
    if (cached !== undefined)
      return cached.node.children.length === 0
        ? cached
        : { ...cached, node: { ...cached.node, children: [] } };
    const pos = this.inProgress.get(key);
    if (pos !== undefined) {
      if (pos < this.cutMin) this.cutMin = pos;
      return {
        value: 'denied',
        node: { kind: 'cycle', object, label: info.name, result: false, children: [] },
      };
    }
    const myPos = this.stackPos++;
    this.inProgress.set(key, myPos);
    const outerCut = this.cutMin;
    this.cutMin = NO_CUT;

    let result: Valued;
    const kind = info.def.kind;
    if (info.wellFounded) {
      const value = this.decideWellFounded(node, x);
      const step: ExplainNode = {
        kind: 'direct',
        object,
        label: `${object}#${info.name} recurses through 'but not': decided by the well-founded semantics (an undetermined cycle denies)`,
        ...mark(value),
        children: [],
      };
      result = { value, node: { kind, object, label: info.name, ...mark(value), children: [step] } };
    } else if (this.subject.node === node && this.subject.id === x) {
      const step: ExplainNode = {
        kind: 'direct',
        object,
        label: `${object}#${info.name} is the subject itself`,
        result: true,
        children: [],
      };
      result = { value: 'allowed', node: { kind, object, label: info.name, result: true, children: [step] } };
    } else if (info.def.kind === 'relation') {
      const children = this.relationChildren(info.type, info.name, x, object, depth);
      const value = or3(children.map((c) => c.value));
      result = {
        value,
        node: {
          kind: 'relation',
          object,
          label: info.name,
          ...mark(value),
          children: children.map((c) => c.node),
        },
      };
    } else {
      const child = this.expr(info.type, info.def.expr, x, object, depth);
      result = {
        value: child.value,
        node: { kind: 'permission', object, label: info.name, ...mark(child.value), children: [child.node] },
      };
    }

    this.stackPos--;
    this.inProgress.delete(key);
    // A value found under a cycle cut may be too low: only an allowed one (a derivation) is final.
    if (result.value === 'allowed' || this.cutMin >= myPos) this.done.set(key, result);
    if (outerCut < this.cutMin) this.cutMin = outerCut;
    return result;
  }

  /** The edges of `x` in one edge set for this request: unconditional, attributed, contextual. */
  /**
   * `via.all(name)` in three values: the `and` of every relationship of `via` (an expired one does
   * not exist; one whose condition is false makes it false) with `name` on its object; false when
   * `via` names no object or one whose type lacks `name` (as check-plan.ts's allObjects).
   */
  private allArrow(
    type: ObjectTypeDef,
    e: Extract<Expr, { op: 'allArrow' }>,
    x: number,
    object: string,
    depth: number,
  ): Valued {
    const label = `${e.via}.all(${e.name})`;
    const children: Valued[] = [];
    const denied = (text: string): Valued => ({
      value: 'denied',
      node: { kind: 'direct', object, label: text, result: false, children: [] },
    });
    let named = 0;
    let value: Permissionship = 'allowed';
    outer: for (const edges of this.graph.relation(type.name, e.via)!.edgeSets) {
      const all = this.edgesOf(edges, e.via, x).filter(
        (edge) => edge.relationship?.expiresAt === undefined || edge.relationship.expiresAt > this.state.now,
      );
      if (all.length === 0) continue;
      named += all.length;
      const targetNode = edges.kind === 'wildcard' ? undefined : this.model.node(edges.subjectType, e.name);
      if (targetNode === undefined) {
        const y = `${edges.subjectType}:${this.state.nameOf(edges.subjectType, all[0]!.subject)}`;
        children.push(denied(`${y} has no relation or permission '${e.name}'`));
        value = 'denied';
        break;
      }
      if (depth >= this.maxDepth) throw new DepthExceededError(this.maxDepth);
      for (const edge of all) {
        const inner = this.explainNode(targetNode.index, edge.subject, depth + 1);
        if (edge.relationship === undefined) children.push(inner);
        else {
          const step = this.edge(object, e.via, edge, this.subjectName(edges.subjectType, edge.subject));
          const v = and3([step.value, inner.value]);
          children.push({ value: v, node: { ...step.node, ...mark(v), children: [inner.node] } });
        }
        value = and3([value, children[children.length - 1]!.value]);
        if (value === 'denied') break outer;
      }
    }
    if (named === 0) {
      children.push(denied(`${object}#${e.via} names no object, so '${label}' is false`));
      value = 'denied';
    }
    return {
      value,
      node: { kind: 'arrow', object, label, ...mark(value), children: children.map((c) => c.node) },
    };
  }

  private edgesOf(edges: EdgeSet, relation: string, x: number): RequestEdge[] {
    const out: RequestEdge[] = [];
    const n = x < 0 ? 0 : edges.forward.degree(x);
    for (let i = 0; i < n; i++) out.push({ subject: edges.forward.neighbor(x, i) });
    const matches = (r: Relationship): boolean => {
      const s = r.subject;
      if (s.type !== edges.subjectType) return false;
      if (s.id === WILDCARD_ID) return edges.kind === 'wildcard';
      if (s.relation === undefined || s.relation === '') return edges.kind === 'object';
      return edges.kind === 'subject-set' && s.relation === edges.subjectRelation;
    };
    for (const e of this.graph.attributed.relation(edges.resourceType, relation)?.from(x) ?? [])
      if (matches(e.relationship)) out.push({ subject: e.subject, relationship: e.relationship });
    for (const e of this.state.contextualFrom(`${edges.resourceType}#${relation}`, x))
      if (matches(e.relationship))
        out.push({ subject: e.subject, relationship: e.relationship, contextual: true });
    return out;
  }

  /** What this request makes of one edge, and its `direct` node (without children). */
  private edge(object: string, relation: string, e: RequestEdge, subjectText: string): Valued {
    if (e.relationship === undefined) {
      return {
        value: 'allowed',
        node: {
          kind: 'direct',
          object,
          label: `${object}#${relation}@${subjectText}`,
          result: true,
          children: [],
        },
      };
    }
    const status = this.state.status(e.relationship, e.contextual === true);
    const value: Permissionship =
      status === GRANTS ? 'allowed' : status === DENIES ? 'denied' : 'conditional';
    const r = e.relationship;
    const detail =
      r.expiresAt !== undefined && status === DENIES && r.expiresAt <= this.state.now
        ? `expired at ${new Date(r.expiresAt).toISOString()}`
        : r.condition === undefined
          ? e.contextual === true
            ? 'contextual'
            : `expires at ${new Date(r.expiresAt!).toISOString()}`
          : value === 'conditional'
            ? this.state.missingOf(r).length === 0
              ? `condition ${r.condition.name}: could not be evaluated`
              : `condition ${r.condition.name}: missing ${this.state.missingOf(r).join(', ')}`
            : `condition ${r.condition.name}: ${value === 'allowed'}`;
    return {
      value,
      node: {
        kind: 'direct',
        object,
        label: formatRelationshipWithAttributes(r) + (e.contextual === true ? ' (contextual)' : ''),
        ...mark(value),
        detail,
        children: [],
      },
    };
  }

  private subjectName(type: string, n: number): string {
    return `${type}:${this.state.nameOf(type, n)}`;
  }

  private relationChildren(
    type: ObjectTypeDef,
    relation: string,
    x: number,
    object: string,
    depth: number,
  ): Valued[] {
    const children: Valued[] = [];
    const s = this.subject;
    for (const edges of this.graph.relation(type.name, relation)!.edgeSets) {
      const subjectType = this.model.typeIndex(edges.subjectType)!;
      if (edges.kind === 'object' || edges.kind === 'wildcard') {
        if (s.typeIndex !== subjectType || s.node !== -1) continue;
        for (const e of this.edgesOf(edges, relation, x)) {
          const hit =
            edges.kind === 'wildcard'
              ? e.subject === WILDCARD_SUBJECT || e.relationship === undefined
              : e.subject === s.id;
          if (!hit || (s.wildcard && edges.kind === 'object')) continue;
          const text =
            edges.kind === 'wildcard' ? `${edges.subjectType}:*` : this.subjectName(edges.subjectType, s.id);
          const v = this.edge(object, relation, e, text);
          children.push(v);
          if (v.value === 'allowed') return children;
        }
        continue;
      }
      const setNode = this.model.requireNode(edges.subjectType, edges.subjectRelation).index;
      const all = this.edgesOf(edges, relation, x);
      if (all.length > 0 && depth >= this.maxDepth) throw new DepthExceededError(this.maxDepth);
      for (const e of all) {
        const text = `${this.subjectName(edges.subjectType, e.subject)}#${edges.subjectRelation}`;
        const step = this.edge(object, relation, e, text);
        if (s.node === setNode && e.subject === s.id) {
          children.push(step);
          if (step.value === 'allowed') return children;
          continue;
        }
        if (step.value === 'denied') {
          children.push(step);
          continue;
        }
        const inner = this.explainNode(setNode, e.subject, depth + 1);
        const value = and3([step.value, inner.value]);
        children.push({ value, node: { ...step.node, ...mark(value), children: [inner.node] } });
        if (value === 'allowed') return children;
      }
    }
    return children;
  }

  private expr(type: ObjectTypeDef, e: Expr, x: number, object: string, depth: number): Valued {
    switch (e.op) {
      case 'ref':
        return this.explainNode(this.model.requireNode(type.name, e.name).index, x, depth);
      case 'arrow': {
        const children: Valued[] = [];
        outer: for (const edges of this.graph.relation(type.name, e.via)!.edgeSets) {
          const targetNode =
            edges.kind === 'wildcard' ? undefined : this.model.node(edges.subjectType, e.name);
          if (targetNode === undefined) continue;
          const all = this.edgesOf(edges, e.via, x);
          if (all.length > 0 && depth >= this.maxDepth) throw new DepthExceededError(this.maxDepth);
          for (const edge of all) {
            const inner = this.explainNode(targetNode.index, edge.subject, depth + 1);
            if (edge.relationship === undefined) children.push(inner);
            else {
              const step = this.edge(object, e.via, edge, this.subjectName(edges.subjectType, edge.subject));
              const value = and3([step.value, inner.value]);
              children.push({ value, node: { ...step.node, ...mark(value), children: [inner.node] } });
            }
            if (children[children.length - 1]!.value === 'allowed') break outer;
          }
        }
        const value = or3(children.map((c) => c.value));
        return {
          value,
          node: {
            kind: 'arrow',
            object,
            label: `${e.via}->${e.name}`,
            ...mark(value),
            children: children.map((c) => c.node),
          },
        };
      }
      case 'allArrow':
        return this.allArrow(type, e, x, object, depth);
      case 'union': {
        const children: Valued[] = [];
        for (const o of e.operands) {
          const c = this.expr(type, o, x, object, depth);
          children.push(c);
          if (c.value === 'allowed') break;
        }
        const value = or3(children.map((c) => c.value));
        return {
          value,
          node: { kind: 'union', object, label: 'or', ...mark(value), children: children.map((c) => c.node) },
        };
      }
      case 'intersection': {
        const children: Valued[] = [];
        for (const o of e.operands) {
          const c = this.expr(type, o, x, object, depth);
          children.push(c);
          if (c.value === 'denied') break;
        }
        const value = and3(children.map((c) => c.value));
        return {
          value,
          node: {
            kind: 'intersection',
            object,
            label: 'and',
            ...mark(value),
            children: children.map((c) => c.node),
          },
        };
      }
      case 'exclusion': {
        const base = this.expr(type, e.base, x, object, depth);
        if (base.value === 'denied')
          return {
            value: 'denied',
            node: { kind: 'exclusion', object, label: 'but not', result: false, children: [base.node] },
          };
        const subtract = this.expr(type, e.subtract, x, object, depth);
        const value = and3([base.value, not3(subtract.value)]);
        return {
          value,
          node: {
            kind: 'exclusion',
            object,
            label: 'but not',
            ...mark(value),
            children: [base.node, subtract.node],
          },
        };
      }
    }
  }
}
