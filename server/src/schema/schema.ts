// The compiled, checked schema: what the engine evaluates. Built only by compileSchema
// (server/src/schema/compile.ts) from policy ASTs, or by tests from trusted literals; the
// engine never sees source types or positions.
import type { SubjectRef } from '../model/relationship.js';

/** A subject type a relation accepts: `user`, `group#member` (subject set) or `user:*` (wildcard). */
export interface AllowedSubject {
  readonly type: string;
  /** Set for a subject set such as `group#member`. */
  readonly relation?: string | undefined;
  /** True for `type:*`. A wildcard never has a relation. */
  readonly wildcard: boolean;
  /** Conditions a relationship of this subject kind may carry (`user with ip_allowlist`), sorted. */
  readonly conditions?: readonly string[] | undefined;
  /** True when every relationship of this kind must carry one of `conditions` (no bare `user` listed). */
  readonly requiresCondition?: boolean | undefined;
}

/** A condition parameter's type: the types OpenFGA and SpiceDB offer. */
export type ParameterType =
  | {
      readonly kind:
        | 'int'
        | 'uint'
        | 'double'
        | 'bool'
        | 'string'
        | 'bytes'
        | 'duration'
        | 'timestamp'
        | 'ipaddress'
        | 'any';
    }
  | { readonly kind: 'list' | 'map'; readonly element: ParameterType };

/** A named condition: a CEL expression over typed parameters, checked when the schema compiled. */
/**
 * What a condition answers when some of its parameters are given neither by the relationship
 * nor by the request (docs/conditions.md, "Missing context"):
 * - `partial` (the default, SpiceDB's caveats): what the given values decide stands
 *   (`x < 100 || y < 50` with only `x: 10` is true); undecided only when a missing value could
 *   change the result.
 * - `strict` (OpenFGA's conditions): undecided whenever any declared parameter is missing,
 *   naming all of them; a request value that does not convert (a malformed timestamp) makes its
 *   relationship an error only when the answer depends on it; and a subject lookup lists as
 *   conditional every subject whose evaluation met an undecided condition, even one another path
 *   allows (OpenFGA fails such a ListUsers request).
 */
export type MissingContextRule = 'partial' | 'strict';

export interface ConditionDef {
  readonly name: string;
  /** Parameter name → type, in declaration order. */
  readonly parameters: ReadonlyMap<string, ParameterType>;
  /** The CEL source. */
  readonly expression: string;
}

/**
 * A permission expression, compiled. Names are resolved: `ref` knows whether it points at a
 * relation or a permission of the same type, and every `arrow` target exists on at least one
 * type the tupleset relation can hold (the others are skipped when evaluating).
 */
export type Expr =
  /** A relation or permission of the same object. */
  | { readonly op: 'ref'; readonly name: string; readonly target: 'relation' | 'permission' }
  /** `via->name`: follow relation `via` to its objects, evaluate `name` (relation or permission) there. */
  | { readonly op: 'arrow'; readonly via: string; readonly name: string }
  /**
   * `via.all(name)`, the intersection arrow: true when relation `via` names at least one object
   * and `name` holds on every object it names (an object whose type lacks `name` fails it). With
   * conditions: every relationship of `via` must grant and lead to an object that holds `name`
   * (one whose condition is false fails it; an expired one no longer exists), as SpiceDB's `.all()`.
   */
  | { readonly op: 'allArrow'; readonly via: string; readonly name: string }
  | { readonly op: 'union'; readonly operands: readonly Expr[] }
  | { readonly op: 'intersection'; readonly operands: readonly Expr[] }
  /** `base but not subtract`. */
  | { readonly op: 'exclusion'; readonly base: Expr; readonly subtract: Expr };

export interface RelationDef {
  readonly kind: 'relation';
  readonly name: string;
  readonly allowed: readonly AllowedSubject[];
  /**
   * Declared consequence of object deletion: when DeleteObject removes this relation's last
   * subject from a resource, this subject is written in the same revision
   * (team CRM: a contact whose last viewer group is deleted becomes visible to `user:*`).
   */
  readonly ifEmptiedByDelete?: SubjectRef | undefined;
}

export interface PermissionDef {
  readonly kind: 'permission';
  readonly name: string;
  readonly expr: Expr;
}

export interface ObjectTypeDef {
  /** Full name including any namespace prefix: `crm/contact`. */
  readonly name: string;
  readonly relations: ReadonlyMap<string, RelationDef>;
  readonly permissions: ReadonlyMap<string, PermissionDef>;
}

/**
 * A compiled schema. Invariants guaranteed by compileSchema:
 * - every name referenced exists; relation and permission names are unique per type;
 * - arrow tupleset relations allow no wildcards (a subject set is followed to its object);
 * - a subject set names a relation or a permission of its type.
 * Recursion through `but not` is allowed: such groups of rules are evaluated by the
 * well-founded semantics (engine/well-founded.ts), everything else as a least fixed point.
 */
export interface Schema {
  readonly types: ReadonlyMap<string, ObjectTypeDef>;
  /** Named conditions relationships may carry; absent or empty when the schema declares none. */
  readonly conditions?: ReadonlyMap<string, ConditionDef> | undefined;
  /** How a condition lacking a parameter answers; absent means `partial`. See MissingContextRule. */
  readonly missingContext?: MissingContextRule | undefined;
  /** Hex sha256 of the canonical schema: identifies compiled snapshots across replicas. */
  readonly hash: string;
}

/** A declared deletion consequence, flattened for the store: see RelationDef.ifEmptiedByDelete. */
export interface DeletionConsequence {
  readonly resourceType: string;
  readonly relation: string;
  readonly subject: SubjectRef;
}

/** The deletion consequences a schema declares, for Store.deleteObject. */
export function deletionConsequences(schema: Schema): DeletionConsequence[] {
  const out: DeletionConsequence[] = [];
  for (const type of schema.types.values()) {
    for (const rel of type.relations.values()) {
      if (rel.ifEmptiedByDelete !== undefined) {
        out.push({ resourceType: type.name, relation: rel.name, subject: rel.ifEmptiedByDelete });
      }
    }
  }
  return out;
}

/** A leaf of a compiled expression: what it reads on the object itself or across a relation. */
export type ExprLeaf = Extract<Expr, { op: 'ref' | 'arrow' | 'allArrow' }>;

/**
 * Calls `visit` on every ref and arrow (either kind) of `expr`, left to right. `subtracted: false` skips the
 * right side of `but not`, for walks that only look for what can grant.
 */
export function forEachExprLeaf(
  expr: Expr,
  visit: (leaf: ExprLeaf) => void,
  options: { readonly subtracted: boolean } = { subtracted: true },
): void {
  switch (expr.op) {
    case 'ref':
    case 'arrow':
    case 'allArrow':
      visit(expr);
      return;
    case 'union':
    case 'intersection':
      for (const o of expr.operands) forEachExprLeaf(o, visit, options);
      return;
    case 'exclusion':
      forEachExprLeaf(expr.base, visit, options);
      if (options.subtracted) forEachExprLeaf(expr.subtract, visit, options);
      return;
  }
}
