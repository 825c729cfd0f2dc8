// Three-valued checks: the answer for queries that meet a relationship with a condition or an
// expiry, or carry contextual relationships. Runs the engine's own compiled plans over the
// doubled schema (doubled-schema.ts) and the request's view of the graph (request-view.ts):
// allowed when the lower bound holds, denied when the upper bound does not, else conditional.
import { DepthExceededError } from '../errors.js';
import type { GraphIndex } from '../graph/graph-index.js';
import { NOT_INTERNED } from '../graph/interner.js';
import type { SubjectRef } from '../model/relationship.js';
import { WILDCARD_ID } from '../model/relationship.js';
import type { ConditionProgram } from '../schema/cel-condition.js';
import { compileCondition } from '../schema/cel-condition.js';
import type { MissingContextRule, Schema } from '../schema/schema.js';
import { forEachExprLeaf } from '../schema/schema.js';
import type { CheckPlans } from './check-plan.js';
import { compileCheckPlans } from './check-plan.js';
import { boundName, doubleSchema, LOWER, splitBoundName, UPPER } from './doubled-schema.js';
import { RequestState, RequestView } from './request-view.js';
import { SchemaModel } from './schema-model.js';
import type { Decision, RequestFacts } from './types.js';

const ALLOWED: Decision = Object.freeze({ permissionship: 'allowed' });
const DENIED: Decision = Object.freeze({ permissionship: 'denied' });

function isStackOverflow(err: unknown): boolean {
  return err instanceof RangeError && /call stack/i.test(err.message);
}

/** The conditions of a schema compiled for evaluation (the schema compiler checked them already). */
export function conditionPrograms(schema: Schema): Map<string, ConditionProgram> {
  const programs = new Map<string, ConditionProgram>();
  for (const def of schema.conditions?.values() ?? []) {
    const program = compileCondition(def);
    if (Array.isArray(program)) {
      throw new Error(
        `schema invariant broken: condition '${def.name}' does not compile: ${program[0]?.message}`,
      );
    }
    programs.set(def.name, program);
  }
  return programs;
}

/**
 * The `type#relation` slots each node of `model` reads, directly or through other nodes: a
 * query whose cone holds no attributed relationship (and that brings no contextual ones) is
 * answered by the ordinary two-valued plans.
 */
export function relationCones(model: SchemaModel): string[][] {
  const schema = model.schema;
  return model.nodes.map((start) => {
    const seen = new Set<string>();
    const out: string[] = [];
    const visit = (type: string, name: string): void => {
      const key = `${type}#${name}`;
      if (seen.has(key)) return;
      seen.add(key);
      const t = schema.types.get(type);
      if (t === undefined) return;
      const rel = t.relations.get(name);
      if (rel !== undefined) {
        out.push(key);
        for (const a of rel.allowed) if (a.relation !== undefined) visit(a.type, a.relation);
        return;
      }
      const perm = t.permissions.get(name);
      if (perm === undefined) return;
      forEachExprLeaf(perm.expr, (leaf) => {
        if (leaf.op === 'ref') visit(type, leaf.name);
        else {
          visit(type, leaf.via);
          for (const a of t.relations.get(leaf.via)?.allowed ?? []) visit(a.type, leaf.name);
        }
      });
    };
    visit(start.type.name, start.name);
    return out;
  });
}

export class ConditionalEvaluator {
  private readonly model: SchemaModel;
  private readonly plans: CheckPlans;
  readonly state: RequestState;
  /** The schema's MissingContextRule. */
  readonly rule: MissingContextRule;

  constructor(
    schema: Schema,
    private readonly graph: GraphIndex,
    private readonly maxDepth: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.model = new SchemaModel(doubleSchema(schema));
    this.rule = schema.missingContext ?? 'partial';
    this.state = new RequestState(graph, conditionPrograms(schema), this.rule);
    const view = new RequestView(graph, this.state);
    // Both bounds of a relation answer to one subject set: `group:g#member` is the set of both.
    const lowerOf = this.model.nodes.map(
      (n) => this.model.requireNode(n.type.name, boundName(splitBoundName(n.name).name, LOWER)).index,
    );
    this.plans = compileCheckPlans(this.model, view, maxDepth, (n) => lowerOf[n]!);
  }

  /** Starts a request: its time, context and contextual relationships (already validated). */
  begin(facts: RequestFacts): void {
    this.state.reset(facts.now ?? this.clock(), facts.context, facts.contextualRelationships);
  }

  /** Sets the subject the following `decide` calls ask about (names already validated). */
  setSubject(subject: SubjectRef): void {
    const typeIndex = this.model.typeIndex(subject.type)!;
    const wildcard = subject.id === WILDCARD_ID;
    const relation = subject.relation === '' ? undefined : subject.relation;
    const node =
      relation === undefined ? -1 : this.model.requireNode(subject.type, boundName(relation, LOWER)).index;
    const id = wildcard ? NOT_INTERNED : this.state.idOf(subject.type, subject.id);
    this.plans.query.reset(typeIndex, id, node, wildcard, false);
  }

  /**
   * The three-valued answer for `permission` on `type:id`, for the subject set last. With
   * `anyUndecidedMakesConditional` (subject lookups under the `strict` rule), an answer whose
   * evaluation met an undecided condition is conditional even when another path allows it.
   * Throws the error of a relationship whose condition failed (`strict`) when the answer depends on it.
   */
  decide(type: string, id: string, permission: string, anyUndecidedMakesConditional = false): Decision {
    const x = this.state.idOf(type, id);
    const missingBefore = new Set(this.state.missing);
    const errorBefore = this.state.error;
    this.state.missing.clear();
    this.state.error = undefined;
    try {
      if (this.run(this.model.requireNode(type, boundName(permission, LOWER)).index, x)) {
        if (!anyUndecidedMakesConditional) return ALLOWED;
        if (this.state.error !== undefined) throw this.state.error;
        if (this.state.missing.size === 0) return ALLOWED;
        return { permissionship: 'conditional', missingContext: [...this.state.missing].sort() };
      }
      if (!this.run(this.model.requireNode(type, boundName(permission, UPPER)).index, x)) return DENIED;
      if (this.state.error !== undefined) throw this.state.error;
      return { permissionship: 'conditional', missingContext: [...this.state.missing].sort() };
    } finally {
      for (const name of missingBefore) this.state.missing.add(name);
      this.state.error ??= errorBefore;
    }
  }

  private run(node: number, x: number): boolean {
    try {
      return this.plans.evals[node]!(x, 0);
    } catch (err) {
      this.plans.query.memo = undefined;
      if (isStackOverflow(err)) throw new DepthExceededError(this.maxDepth);
      throw err;
    }
  }

  /** Every id of `type` a lookup must consider: interned ones and the request's own. */
  candidateIds(type: string): string[] {
    const interner = this.graph.interner(type)!;
    const ids: string[] = [];
    for (let n = 0; n < interner.size; n++) ids.push(interner.id(n));
    ids.push(...this.state.localIds(type));
    return ids;
  }
}
